/**
 * The provider wrappers scripts/toolchain.sh builds from (scripts/toolchain/{random,tls,docker})
 * require the same version of every module they share, so that a cold build compiles what they
 * share once (Go's build cache keys a package on its dependencies' versions), and each commits
 * the schema its provider embeds.
 */
import * as fs from "fs";
import * as path from "path";

const recipes = path.join(__dirname, "..", "scripts", "toolchain");
const providers = ["random", "tls", "docker"];

/** The module requirements of a wrapper's go.mod: module path to version. */
function requirements(name: string): Map<string, string> {
    const found = new Map<string, string>();
    let inBlock = false;
    for (const raw of fs.readFileSync(path.join(recipes, name, "go.mod"), "utf8").split("\n")) {
        const line = raw.replace(/\/\/.*$/, "").trim();
        if (line === "require (") {
            inBlock = true;
            continue;
        }
        if (inBlock && line === ")") {
            inBlock = false;
            continue;
        }
        const single = line.match(/^require\s+(\S+)\s+(\S+)$/);
        const inside = inBlock ? line.match(/^(\S+)\s+(\S+)$/) : null;
        const [, module, version] = single ?? inside ?? [];
        if (module) found.set(module, version);
    }
    return found;
}

test("the provider wrappers require the same version of every module they share", () => {
    const byModule = new Map<string, Map<string, string>>();
    for (const provider of providers) {
        for (const [module, version] of requirements(provider)) {
            if (!byModule.has(module)) byModule.set(module, new Map());
            byModule.get(module)!.set(provider, version);
        }
    }
    const differing = [...byModule]
        .filter(([, versions]) => new Set(versions.values()).size > 1)
        .map(([module, versions]) => `${module}: ${[...versions].map(([p, v]) => `${p} ${v}`).join(", ")}`);
    expect(differing).toEqual([]);
    // They do share most of what they build on.
    expect(byModule.get("github.com/pulumi/pulumi-terraform-bridge/v3")?.size).toBe(providers.length);
});

test.each(providers)("the %s wrapper commits the schema and bridge metadata its provider embeds", (provider) => {
    const dir = path.join(recipes, provider, "cmd", `pulumi-resource-${provider}`);
    const schema = JSON.parse(fs.readFileSync(path.join(dir, "schema-embed.json"), "utf8"));
    expect(schema.name).toBe(provider);
    expect(Object.keys(schema.resources).length).toBeGreaterThan(0);
    JSON.parse(fs.readFileSync(path.join(dir, "bridge-metadata.json"), "utf8"));
    expect(fs.readFileSync(path.join(dir, "schema-source"), "utf8")).toMatch(/^[0-9a-f]{64}\n$/);
});
