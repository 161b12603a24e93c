// Bundles the token service (components/tokenService/main.ts) with jose and bcryptjs into one
// CommonJS file, bin/token-service.js, which its container runs on a plain Node.js image.
// Pinned esbuild and fixed options: the same sources give the same bytes, so previews stay quiet.
// `npm run build` and scripts/setup.sh run it; so does the unit tests' global set-up.
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
