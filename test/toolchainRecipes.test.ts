/**
 * The wrappers scripts/toolchain.sh builds the CLI and the providers from
 * (scripts/toolchain/{pulumi,random,tls,docker}) require the same version of every module they
 * share, so that a cold build compiles what they share once (Go's build cache keys a package on
 * its dependencies' versions and on the build flags, which toolchain.sh keeps the same for every
 * build), and each provider wrapper commits the schema its provider embeds. So do the Go programs
 * on the CLI's own modules: the SDK generator (scripts/toolchain/pulumi-sdkgen) and the program
 * scripts/sdks.sh builds on the generated Go SDK (scripts/toolchain/sdk-check-go). The Kubernetes
 * provider's wrapper (scripts/toolchain/kubernetes) pins upstream's own module instead, with its
 * dependencies as upstream released them, and is built only when asked for.
 */
import * as fs from "fs";
import * as path from "path";

const recipes = path.join(__dirname, "..", "scripts", "toolchain");
const providers = ["random", "tls", "docker"];
/** The Go programs on the CLI's own modules, pulumi pkg/v3 and sdk/v3 at its version. */
const onCli = ["pulumi-sdkgen", "sdk-check-go"];
const wrappers = ["pulumi", ...onCli, ...providers];
/**
 * The modules the providers keep at their own version: pulumi-terraform-bridge v3.120.0 (the
 * newest the module proxy serves) is built on pkg/v3 and sdk/v3 v3.218.0, and does not compile
 * with the CLI's v3.248.0 (pkg/v3 no longer has codegen/dotnet, which it imports; sdk/v3's plugin
 * host changed); esc follows pkg/v3 (the CLI's v0.25.0 requires pkg/v3 v3.243.0 or later).
 * Everything else is at one version.
 */
const ownVersions: Record<string, string[]> = {
    "github.com/pulumi/pulumi/pkg/v3": ["pulumi", ...onCli],
    "github.com/pulumi/pulumi/sdk/v3": ["pulumi", ...onCli],
    "github.com/pulumi/esc": ["pulumi", ...onCli],
};

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

test("the CLI and provider wrappers require the same version of every module they share", () => {
    const byModule = new Map<string, Map<string, string>>();
    for (const wrapper of wrappers) {
        for (const [module, version] of requirements(wrapper)) {
            if (!byModule.has(module)) byModule.set(module, new Map());
            byModule.get(module)!.set(wrapper, version);
        }
    }
    const differing = [...byModule]
        .map(([module, versions]): [string, [string, string][]] => [
            module,
            [...versions].filter(([wrapper]) => !ownVersions[module]?.includes(wrapper)),
        ])
        .filter(([, versions]) => new Set(versions.map(([, v]) => v)).size > 1)
        .map(([module, versions]) => `${module}: ${versions.map(([w, v]) => `${w} ${v}`).join(", ")}`);
    expect(differing).toEqual([]);
    // They do share most of what they build on: the providers the bridge, all four gRPC.
    expect(byModule.get("github.com/pulumi/pulumi-terraform-bridge/v3")?.size).toBe(providers.length);
    expect(byModule.get("google.golang.org/grpc")?.size).toBe(wrappers.length);
});

test.each(onCli)("%s requires the CLI's version of every module it shares with the CLI, pkg/v3 and sdk/v3 included", (name) => {
    const cli = requirements("pulumi");
    const differing = [...requirements(name)]
        .filter(([module, version]) => cli.has(module) && cli.get(module) !== version)
        .map(([module, version]) => `${module}: ${name} ${version}, pulumi ${cli.get(module)}`);
    expect(differing).toEqual([]);
    expect(requirements(name).get("github.com/pulumi/pulumi/sdk/v3")).toBe(cli.get("github.com/pulumi/pulumi/sdk/v3"));
});

test("every go build of the CLI, the language host and the providers takes the same flags", () => {
    const script = fs.readFileSync(path.join(recipes, "..", "toolchain.sh"), "utf8");
    // The bodies of the shell functions that build them.
    const builders = ["ensure_pulumi", "ensure_language_host", "generate_schema", "ensure_provider", "ensure_kubernetes_provider"];
    const bodies = builders.map((name) => {
        const body = script.match(new RegExp(`^${name}\\(\\) \\{[^\\n]*\\n([\\s\\S]*?)^\\}$`, "m"));
        expect(body).not.toBeNull();
        return body![1];
    });
    const builds = bodies.flatMap((body) => body.split("\n").filter((line) => /\bgo -C /.test(line) && !/ mod | list /.test(line)));
    expect(builds.length).toBe(5);
    expect(builds.filter((line) => !line.includes('"${go_build[@]}"'))).toEqual([]);
    expect(script).toMatch(/^go_flags=\(-trimpath [^\n]*-tags "[\w,]+"\)\ngo_build=\(build "\$\{go_flags\[@\]\}"\)$/m);
});

test("the Go programs on the CLI's modules are built with the CLI's flags", () => {
    const script = fs.readFileSync(path.join(recipes, "..", "toolchain.sh"), "utf8");
    const goFlags = script.match(/^go_flags=(\(.*\))$/m)![1];
    // scripts/toolchain.sh builds pulumi-sdkgen with go_build, ...
    expect(script).toMatch(/^declare -A on_cli_modules=\(\[pulumi-sdkgen\]=1\)$/m);
    expect(script).toMatch(/if \[\[ -n \$\{on_cli_modules\[\$name\]:-\} \]\]; then build=\("\$\{go_build\[@\]\}"\); fi/);
    // ... and scripts/sdks.sh builds and vets the program on the generated SDK with the same flags.
    const sdks = fs.readFileSync(path.join(recipes, "..", "sdks.sh"), "utf8");
    expect(sdks.match(/^go_flags=(\(.*\))$/m)?.[1]).toBe(goFlags);
    const goCommands = sdks.split("\n").filter((line) => /\bgo -C /.test(line));
    expect(goCommands.length).toBe(2);
    expect(goCommands.filter((line) => !line.includes('"${go_flags[@]}"'))).toEqual([]);
});

test.each(providers)("the %s wrapper commits the schema and bridge metadata its provider embeds", (provider) => {
    const dir = path.join(recipes, provider, "cmd", `pulumi-resource-${provider}`);
    const schema = JSON.parse(fs.readFileSync(path.join(dir, "schema-embed.json"), "utf8"));
    expect(schema.name).toBe(provider);
    expect(Object.keys(schema.resources).length).toBeGreaterThan(0);
    JSON.parse(fs.readFileSync(path.join(dir, "bridge-metadata.json"), "utf8"));
    expect(fs.readFileSync(path.join(dir, "schema-source"), "utf8")).toMatch(/^[0-9a-f]{64}\n$/);
});

describe("the Kubernetes provider", () => {
    const script = fs.readFileSync(path.join(recipes, "..", "toolchain.sh"), "utf8");
    const version = fs.readFileSync(path.join(recipes, "..", "lib.sh"), "utf8").match(/^PULUMI_KUBERNETES_VERSION=(\S+)$/m)?.[1];

    test("is the version of the npm SDK the package depends on, that of the sdk its wrapper requires", () => {
        const root = path.join(recipes, "..", "..");
        const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
        const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"));
        expect(version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(manifest.dependencies["@pulumi/kubernetes"]).toBe(version);
        expect(lock.packages["node_modules/@pulumi/kubernetes"].version).toBe(version);
        const wrapper = requirements("kubernetes");
        expect(wrapper.get("github.com/pulumi/pulumi-kubernetes/sdk/v4")).toBe(`v${version}`);
        // The one version of the provider module the proxy serves: the commit of upstream's tag v4.25.0.
        expect(wrapper.get("github.com/pulumi/pulumi-kubernetes/provider/v4")).toBe("v4.0.0-20260115033456-f47bc2d6f199");
    });

    test("is built and registered only when asked for, never by a plain run or the set-up", () => {
        const main = script.match(/^main\(\) \{\n([\s\S]*?)^\}$/m)![1];
        // Its one call is in the branch of the named programs, which returns before the default set.
        const named = main.slice(0, main.indexOf("    return\n  fi\n"));
        expect(main.match(/ensure_kubernetes_provider|register_plugin kubernetes/g)).toEqual([
            "ensure_kubernetes_provider",
            "register_plugin kubernetes",
        ]);
        expect(named).toMatch(
            /if \[\[ \$name == kubernetes-provider \]\]; then[\s\S]*ensure_kubernetes_provider[\s\S]*register_plugin kubernetes/,
        );
        // The set-up never builds it; up.sh only for a stack whose runtime is kubernetes.
        expect(fs.readFileSync(path.join(recipes, "..", "setup.sh"), "utf8")).not.toMatch(/kubernetes/);
        const up = fs.readFileSync(path.join(recipes, "..", "up.sh"), "utf8");
        expect(up.match(/toolchain\.sh" kubernetes-provider/g)).toEqual(['toolchain.sh" kubernetes-provider']);
        expect(up).toMatch(/\n {2}kubernetes\) "\$here\/toolchain\.sh" kubernetes-provider ;;\n/);
    });
});
