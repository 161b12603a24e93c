// Bundles the token service (components/tokenService/main.ts) with jose and bcryptjs into one
// CommonJS file, bin/token-service.js, which its container runs on a plain Node.js image.
// Pinned esbuild and fixed options: the same sources give the same bytes, so previews stay quiet.
// That holds wherever the checkout and its node_modules are: esbuild heads each module with a
// comment naming its path from the working directory, through the real path of node_modules, so
// the paths are taken from the project's root and any path to a node_modules outside it (a link
// to another checkout's, say) is written as the project's own `node_modules/`.
// npm runs it after `npm ci` or `npm install` in a checkout (the prepare script) and in
// `npm run build`; scripts/setup.sh and the tests' global set-up run it as well.
const fs = require("fs");
const path = require("path");
const esbuild = require("esbuild");

const root = path.join(__dirname, "..");
const outfile = path.join(root, "bin", "token-service.js");

/** `// ../../elsewhere/node_modules/x.js`, a module comment whose path leaves the root for a node_modules. */
const outsideModulePath = /^\/\/ (?:\.\.\/)+(?:[^/\n]+\/)*?node_modules\//gm;

function bundleTokenService() {
    const { outputFiles } = esbuild.buildSync({
        entryPoints: [path.join(root, "components", "tokenService", "main.ts")],
        outfile,
        absWorkingDir: root,
        write: false,
        bundle: true,
        platform: "node",
        target: "node20",
        format: "cjs",
        legalComments: "none",
        charset: "utf8",
        logLevel: "warning",
    });
    const text = outputFiles[0].text.replace(outsideModulePath, "// node_modules/");
    // Written only when it changed, and by a rename: test runs side by side each bundle it, and a
    // stack reading the file must never see it half written.
    if (fs.existsSync(outfile) && fs.readFileSync(outfile, "utf8") === text) return outfile;
    fs.mkdirSync(path.dirname(outfile), { recursive: true });
    const partial = `${outfile}.${process.pid}.partial`;
    fs.writeFileSync(partial, text);
    fs.renameSync(partial, outfile);
    return outfile;
}

module.exports = bundleTokenService;
module.exports.outfile = outfile;

if (require.main === module) {
    bundleTokenService();
}
