// `npm install` in this folder, which the Pulumi CLI runs before it starts the provider (`pulumi
// package add`, `get-schema`, and each run of a program that names the folder under `packages:`).
// The provider runs the components from the checkout above it, with the checkout's dependencies:
// installed here when they are missing (a fresh clone), else left alone (a second or so).
// The CLI also expects a node_modules folder here once npm is done, though this folder has no
// dependencies of its own.
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const checkout = path.join(__dirname, "..");
fs.mkdirSync(path.join(__dirname, "node_modules"), { recursive: true });
if (!fs.existsSync(path.join(checkout, "node_modules", "@pulumi", "pulumi", "package.json"))) {
    execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: checkout, stdio: "inherit" });
}
