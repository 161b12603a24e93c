// Bundles the token service (components/tokenService/main.ts) with jose and bcryptjs into one
// CommonJS file, bin/token-service.js, which its container runs on a plain Node.js image.
// Pinned esbuild and fixed options: the same sources give the same bytes, so previews stay quiet.
// npm runs it after `npm ci` or `npm install` in a checkout (the prepare script) and in
// `npm run build`; scripts/setup.sh and the tests' global set-up run it as well.
const path = require("path");
const esbuild = require("esbuild");

const root = path.join(__dirname, "..");
const outfile = path.join(root, "bin", "token-service.js");

function bundleTokenService() {
    esbuild.buildSync({
        entryPoints: [path.join(root, "components", "tokenService", "main.ts")],
        outfile,
        bundle: true,
        platform: "node",
        target: "node20",
        format: "cjs",
        legalComments: "none",
        charset: "utf8",
        logLevel: "warning",
    });
    return outfile;
}

module.exports = bundleTokenService;
module.exports.outfile = outfile;

if (require.main === module) {
    bundleTokenService();
}
