// Checks a provider schema.json against the installed npm SDK of the same package and version: every
// resource type the SDK creates must be in the schema, with the same input and state property names,
// each a list in both or in neither. Otherwise the engine and the SDK talk past each other.
//
// Usage: node check-sdk-names.js SCHEMA_JSON SDK_DIR [ACCEPTED_FILE]
// ACCEPTED_FILE lists, one a line, differences that are known and accepted (lines starting with # are
// comments). Properties the schema has and the SDK lacks are counted and accepted.
"use strict";
const fs = require("fs");
const path = require("path");

const [schemaPath, sdkDir, acceptedPath] = process.argv.slice(2);
const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
const accepted = new Set(
    acceptedPath && fs.existsSync(acceptedPath)
        ? fs
              .readFileSync(acceptedPath, "utf8")
              .split("\n")
              .map((l) => l.trim())
              .filter((l) => l && !l.startsWith("#"))
        : [],
);

// The fields of `export interface NAME {` in a .d.ts, each mapped to whether its type is a list.
function fields(dts, iface) {
    const start = dts.indexOf(`export interface ${iface} {`);
    if (start < 0) return null;
    const types = {};
    let cur = null;
    for (const line of dts.slice(start).split("\n").slice(1)) {
        if (line.startsWith("}")) break;
        const m = /^ {4}(?:readonly )?([A-Za-z_$][\w$]*)\??: (.*)$/.exec(line);
        if (m) {
            cur = m[1];
            types[cur] = m[2];
        } else if (cur && !types[cur].endsWith(";") && line.startsWith("     ")) {
            types[cur] += line.trim(); // a type spread over several lines
        }
    }
    const lists = {};
    for (const [k, t] of Object.entries(types)) lists[k] = /\[\](?: \| undefined)?>*;$/.test(t);
    return lists;
}

const errors = [];
const notes = [];
let extras = 0; // properties only the schema has: a newer upstream provider, harmless to the SDK
function report(line, fatal) {
    if (!fatal) extras++;
    else if (accepted.has(line)) notes.push(line);
    else errors.push(line);
}
function compare(tok, what, sdk, props) {
    if (!sdk) return;
    for (const [k, list] of Object.entries(sdk)) {
        if (!(k in props)) report(`${tok}: ${what} ${k}: in the SDK, not in the schema`, true);
        else if (list !== (props[k].type === "array"))
            report(`${tok}: ${what} ${k}: ${list ? "a list" : "single"} in the SDK, not in the schema`, true);
    }
    for (const k of Object.keys(props)) if (!(k in sdk)) report(`${tok}: ${what} ${k}: in the schema, not in the SDK`, false);
}

let checked = 0;
for (const file of fs.readdirSync(sdkDir).filter((f) => f.endsWith(".js"))) {
    const m = /__pulumiType = '([^']+)'/.exec(fs.readFileSync(path.join(sdkDir, file), "utf8"));
    if (!m) continue;
    // The provider resource's type is just the package name; the schema keeps it under "provider".
    const tok = m[1];
    const name = tok.includes(":") ? tok.split(":")[2] : "Provider";
    const res = tok.includes(":") ? schema.resources[tok] : schema.provider;
    if (!res) {
        report(`${tok}: not in the schema`, true);
        continue;
    }
    const dts = fs.readFileSync(path.join(sdkDir, file.replace(/\.js$/, ".d.ts")), "utf8");
    compare(tok, "input", fields(dts, `${name}Args`), res.inputProperties || {});
    compare(tok, "state", fields(dts, `${name}State`), (res.stateInputs || {}).properties || {});
    checked++;
}
// Object types of the index module (nested blocks: ports, volumes, subjects...), declared at the top
// level of types/input.d.ts and types/output.d.ts.
let types = 0;
for (const kind of ["input", "output"]) {
    const file = path.join(sdkDir, "types", `${kind}.d.ts`);
    if (!fs.existsSync(file)) continue;
    const dts = fs.readFileSync(file, "utf8");
    for (const [tok, type] of Object.entries(schema.types || {})) {
        const [, mod, name] = tok.split(":");
        if (mod !== `index/${name}` && mod !== "index") continue;
        const sdk = fields(dts, name);
        if (!sdk || !type.properties) continue;
        compare(`${tok} (${kind})`, "field", sdk, type.properties);
        types++;
    }
}

for (const line of notes) console.log(`    accepted: ${line}`);
for (const line of errors) console.log(`    DIFFERENT: ${line}`);
console.log(
    `    schema vs ${sdkDir}: ${checked} resources and ${types} object types checked, ` +
        `${extras} properties only in the schema, ${notes.length} accepted and ${errors.length} unaccepted differences`,
);
process.exit(errors.length ? 1 : 0);
