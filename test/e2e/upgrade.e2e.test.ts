/**
 * Upgrading a stack from an earlier release: the release's own program (its files from git, by
 * commit) deploys a throwaway stack and an image is pushed to it; then the same stack, with the
 * same state and config file, is previewed and updated with this checkout's program. Nothing may
 * be replaced or deleted but what the README's upgrade notes announce (see
 * {@link announcedReplacements}), the passwords and the CA stay, the image still pulls by its
 * digest, a new push works, and a preview after the `up` shows no changes. From the first release in basic
 * mode, token mode and on a swarm; from the previous release in basic mode with grants.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DockerClient, DockerTrust, exec, loopbackStackConfig, ok, projectDir, Stack, standInImages } from "./harness";

/** A release a user upgrades from: its version and the commit its tag `vVERSION` points at. */
interface Release {
    readonly version: string;
    readonly commit: string;
}
/** The first release, whose stacks every later release must still upgrade. */
const firstRelease: Release = { version: "0.1.0", commit: "50e66ebefe0b74ad09ed26cee3a804e63aa87fbe" };
/** The previous release. */
const previousRelease: Release = { version: "0.3.0", commit: "b71733ff11d2ad81b8fa85113503ee581196dcd7" };

/**
 * The operations an upgrade may preview: resources that stay, change in place, or are new. Any
 * other (delete, replace, create-replacement, delete-replaced, discard, ...) would remove or
 * recreate something a user's stack has, with one exception: a component that a release retires
 * (0.2's per-role components, whose children moved by alias) exists only in the state, and its
 * deletion removes nothing else (see {@link isRetiredComponent}).
 */
const allowedOps = ["same", "update", "create", "read", "refresh"];

/**
 * What this program replaces on purpose in an earlier release's stack, as the README's upgrade
 * notes announce. In 0.4.0 the token service's program (one bundle, which the guard runs too)
 * gained the route by which the audit trail learns a token's user, so what carries it is new: the
 * guard's and the token service's containers, whose uploads hold it, and on a swarm the config
 * that holds it (its service then updates in place, task by task). Each is matched by its
 * resource's name and by the properties behind the replacement; nothing else may be replaced.
 */
const announcedReplacements: readonly { readonly name: RegExp; readonly reasons: readonly string[] }[] = [
    { name: /-(guard|token)-container$/, reasons: ["uploads"] },
    { name: /-token-service-js$/, reasons: ["data", "name"] },
    // nginx's config, which changes in 0.4.0 (a refused password must not become a 502 while the
    // guard does not answer; the 429 of too many token requests names the API version). On one
    // host the one-shot container that writes nginx's files into their volume is made again with
    // them, and nginx reloads in place; on a swarm the config object, named by content, is
    // replaced and the proxy's service rolls onto it.
    { name: /-nginx-files-writer$/, reasons: ["uploads"] },
    { name: /-nginx-registry-conf$/, reasons: ["data", "name"] },
];
/**
 * The containers {@link announcedReplacements} replaces: their IDs change, their names stay. By
 * role, and nginx's files writer by name (the one 0.1.0 made carries the proxy's role).
 */
const isReplacedContainer = (name: string, role: string) =>
    ["guard", "token-service"].includes(role) || name.endsWith("-nginx-files-writer");

/** A step that replaces what {@link announcedReplacements} names, for its reasons alone. */
function isAnnouncedReplacement(step: PreviewStep): boolean {
    if (!["replace", "create-replacement", "delete-replaced"].includes(step.op)) return false;
    const name = step.urn.split("::").pop()!;
    const reasons = [...new Set(step.replaceReasons ?? [])].sort();
    return announcedReplacements.some(
        (announced) => announced.name.test(name) && JSON.stringify(reasons) === JSON.stringify(announced.reasons),
    );
}

/** A step that deletes a component: a grouping in the state, with nothing behind it. */
function isRetiredComponent(step: PreviewStep): boolean {
    return step.op === "delete" && step.oldState?.custom === false;
}

/** Each release's files, extracted once (see {@link extractRelease}), by version. */
const releaseDirs = new Map<string, string>();

/** `dependencies` and `peerDependencies` of the package.json in `dir`. */
function dependencyPins(dir: string): Record<string, string> {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    return { ...manifest.dependencies, ...manifest.peerDependencies };
}

/** A top-level key of a Pulumi.yaml, as written. */
function projectSetting(dir: string, key: string): string | undefined {
    return new RegExp(`^${key}: *(.*)$`, "m").exec(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"))?.[1].trim();
}

/**
 * The previous release's files from git into a temporary directory, ready to run as a Pulumi
 * project (`Pulumi.yaml`: the Node.js host runs its TypeScript `main` with the packages in its
 * node_modules): this checkout's packages, and its own token-service bundle, which its
 * `node scripts/bundle-token-service.js` makes from its own sources, as `npm ci` would. The
 * packages are a copy of this checkout's node_modules, hard links where the file system allows:
 * a link to the folder would do for the program, but the release's bundler writes the path of
 * each bundled module through the link, and its bundle, which its token service uploads, would
 * differ from the one a checkout of the release makes.
 */
function extractRelease({ version, commit }: Release): string {
    const extracted = releaseDirs.get(version);
    if (extracted) return extracted;
    if (exec("git", ["cat-file", "-e", `${commit}^{commit}`]).status !== 0) {
        throw new Error(
            `release ${version}'s commit ${commit} is not in this clone (${projectDir}), a shallow clone perhaps: ` +
                `fetch it (git fetch --unshallow, or git fetch origin tag v${version}) to run the upgrade suite`,
        );
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `authreg-release-${version}-`));
    const archive = path.join(dir, "release.tar");
    ok("git", ["archive", "--format=tar", `--output=${archive}`, commit]);
    ok("tar", ["--extract", `--file=${archive}`, `--directory=${dir}`]);
    fs.rmSync(archive);
    // The stack's state names the project: both programs must be the same project.
    expect({ project: projectSetting(dir, "name") }).toEqual({ project: projectSetting(projectDir, "name") });
    const main = projectSetting(dir, "main") ?? "index.ts";
    expect({ main, present: fs.existsSync(path.join(dir, main)) }).toEqual({ main, present: true });
    // The release runs on this checkout's packages, which are its own only while every package it
    // pins is pinned alike here; once one differs, the release needs its own `npm ci` and plugins
    // to be faithful. A package added since (@pulumi/kubernetes in 0.4) it never loads.
    const current = dependencyPins(projectDir);
    const releasePins = dependencyPins(dir);
    const samePins = Object.fromEntries(Object.keys(releasePins).map((name) => [name, current[name]]));
    expect({ release: version, pins: releasePins }).toEqual({ release: version, pins: samePins });
    const packages = fs.realpathSync(path.join(projectDir, "node_modules"));
    const copy = path.join(dir, "node_modules");
    if (exec("cp", ["--archive", "--link", packages, copy]).status !== 0) {
        fs.rmSync(copy, { recursive: true, force: true });
        ok("cp", ["--archive", packages, copy]);
    }
    ok("node", ["scripts/bundle-token-service.js"], { cwd: dir });
    expect(fs.existsSync(path.join(dir, "bin", "token-service.js"))).toBe(true);
    releaseDirs.set(version, dir);
    return dir;
}

afterAll(() => {
    for (const dir of releaseDirs.values()) fs.rmSync(dir, { recursive: true, force: true });
});

/** One step of `pulumi preview --json`. */
interface PreviewStep {
    readonly op: string;
    readonly urn: string;
    /** The resource's state before the step: `custom` is false for a component, which exists only in the state. */
    readonly oldState?: { readonly custom?: boolean };
    readonly diffReasons?: string[];
    readonly replaceReasons?: string[];
}

/** `OP TYPE NAME` of a step, with the properties behind an update or a replacement. */
function describeStep(step: PreviewStep): string {
    // urn:pulumi:STACK::PROJECT::PARENT-TYPE$...$TYPE::NAME
    const [, , types, ...name] = step.urn.split("::");
    const type = types.split("$").pop();
    const reasons = [...(step.replaceReasons ?? []), ...(step.diffReasons ?? [])];
    return `${step.op} ${type} ${name.join("::")}${reasons.length > 0 ? ` (${[...new Set(reasons)].join(", ")})` : ""}`;
}

/** Container name to ID, for every container of the stack's registry but those {@link isReplacedContainer} names. */
function containersOf(stack: Stack): Record<string, string> {
    const lines = ok("docker", [
        "ps",
        "--all",
        "--no-trunc",
        "--filter",
        `label=authenticated-registry.instance=registry-${stack.name}`,
        "--format",
        '{{.Names}} {{.ID}} {{.Label "authenticated-registry.role"}}',
    ]);
    return Object.fromEntries(
        lines
            .split("\n")
            .filter(Boolean)
            .map((line) => line.split(" "))
            .filter(([name, , role]) => !isReplacedContainer(name, role))
            .map(([name, id]) => [name, id]),
    );
}

/**
 * `TYPE ID` of every resource in the stack's state that stands for something real (not a
 * component, not a provider), but those {@link announcedReplacements} names. A resource that is
 * replaced gets a new ID, one that is deleted is gone; one that moves under a new URN, with an
 * alias, keeps its ID.
 */
function resourceIds(stack: Stack): string[] {
    const { deployment } = JSON.parse(stack.ok(["stack", "export"]));
    return (deployment.resources as { urn: string; type: string; id?: string; custom?: boolean }[])
        .filter((resource) => resource.custom && !resource.type.startsWith("pulumi:providers:"))
        .filter((resource) => !announcedReplacements.some((announced) => announced.name.test(resource.urn.split("::").pop()!)))
        .map((resource) => `${resource.type} ${resource.id}`);
}

/** One stack to upgrade: the release it starts from, its name in the suite, its port, its config as that release reads it, and the outputs that must stay. */
interface UpgradeCase {
    readonly from: Release;
    /** A word for its user and repository names. */
    readonly id: string;
    readonly mode: string;
    readonly port: number;
    config(user: string): string;
    readonly keptOutputs: readonly string[];
    /** Whether the stack runs on the engine's swarm, which the suite makes a single-node one when it is in none. */
    readonly swarm?: boolean;
}

const containerOutputs = ["registryContainerName", "proxyContainerName", "guardContainerName"];

function upgradeSuite({ from, id, mode, port, config, keptOutputs, swarm = false }: UpgradeCase): void {
    describe(`${mode}: from release ${from.version} to this program`, () => {
        const stack = new Stack();
        let swarmWasInactive = false;
        const host = `localhost:${port}`;
        const user = `upgrader-${id}`;
        const repository = `${host}/upgrade/${id}`;
        const trust = new DockerTrust(host);
        const client = new DockerClient();
        const volume = `registry-${stack.name}-data`;
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed `stack output --json`, read at any depth
        let before: Record<string, any>;
        let pushed: { id: string; digest: string };
        let containersBefore: Record<string, string>;
        let idsBefore: string[];
        let volumeCreated: string;
        /** How many retired components the preview deletes; the up deletes as many and nothing else. */
        let retired = 0;
        /** How many announced replacements the preview shows; the up makes as many. */
        let replaced = 0;
        /** The IDs of the images built here, to remove at the end. */
        const built: string[] = [];

        /** Builds a fresh image as `ref`, pushes it, and returns its ID and the registry's digest of it. */
        function push(ref: string): { id: string; digest: string } {
            const id = client.buildRandomImage(ref);
            built.push(id);
            const output = client.ok(["push", ref]);
            const digest = /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1];
            if (!digest) throw new Error(`docker push ${ref} printed no digest:\n${output}`);
            return { id, digest };
        }

        /** Removes the image locally, pulls it by digest from the registry, and returns the ID pulled. */
        function pullByDigest(image: { id: string; digest: string }): string {
            client.run(["rmi", "--force", image.id]);
            client.ok(["pull", `${repository}@${image.digest}`]);
            return client.ok(["image", "inspect", "--format", "{{.Id}}", `${repository}@${image.digest}`]).trim();
        }

        beforeAll(() => {
            if (swarm) {
                swarmWasInactive = ok("docker", ["info", "--format", "{{.Swarm.LocalNodeState}}"]).trim() === "inactive";
                if (swarmWasInactive) ok("docker", ["swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:2377"]);
            }
            stack.init(config(user));
            stack.withProgram(extractRelease(from)).up();
            before = stack.outputs();
            trust.trust(before.caCertificatePem);
            expect(client.login(host, user, before.passwords[user]).stdout).toContain("Login Succeeded");
            pushed = push(`${repository}:before-upgrade`);
            containersBefore = containersOf(stack);
            idsBefore = resourceIds(stack);
            volumeCreated = ok("docker", ["volume", "inspect", "--format", "{{.CreatedAt}}", volume]).trim();
        });

        afterAll(() => {
            stack.removeAll();
            if (swarmWasInactive) exec("docker", ["swarm", "leave", "--force"]);
            trust.remove();
            for (const id of built) client.run(["rmi", "--force", id]);
        });

        test("the preview with this program replaces and deletes nothing but what the release announces", () => {
            const preview = stack.preview(["--json", "--show-sames"]);
            expect({ status: preview.status, stderr: preview.status === 0 ? "" : preview.stderr }).toEqual({ status: 0, stderr: "" });
            const { steps = [], changeSummary } = JSON.parse(preview.stdout) as { steps?: PreviewStep[]; changeSummary: unknown };
            console.log(
                `${mode}, preview of the upgrade from ${from.version}: ${JSON.stringify(changeSummary)}\n` +
                    steps.map(describeStep).join("\n"),
            );
            expect(steps.length).toBeGreaterThan(0);
            retired = steps.filter(isRetiredComponent).length;
            replaced = steps.filter(isAnnouncedReplacement).length;
            const offending = steps.filter(
                (step) => !allowedOps.includes(step.op) && !isRetiredComponent(step) && !isAnnouncedReplacement(step),
            );
            expect({ offending: offending.map(describeStep) }).toEqual({ offending: [] });
        });

        test("up with this program keeps every other container, the data volume, the passwords and the CA", () => {
            stack.up();
            // The update just made, newest first.
            const [update] = JSON.parse(stack.ok(["stack", "history", "--json"])) as {
                kind: string;
                resourceChanges?: Record<string, number>;
            }[];
            console.log(`${mode}, the upgrade's up: ${JSON.stringify(update.resourceChanges)}`);
            const changes = Object.entries(update.resourceChanges ?? {}).filter(([op]) => !allowedOps.includes(op));
            expect({ kind: update.kind, changes: Object.fromEntries(changes) }).toEqual({
                kind: "update",
                changes: { ...(retired === 0 ? {} : { delete: retired }), ...(replaced === 0 ? {} : { replace: replaced }) },
            });
            const idsAfter = resourceIds(stack);
            expect({ gone: idsBefore.filter((id) => !idsAfter.includes(id)) }).toEqual({ gone: [] });
            const after = stack.outputs();
            for (const key of ["passwords", "caCertificatePem", "url", "volumeName", ...keptOutputs]) {
                expect({ [key]: after[key] }).toEqual({ [key]: before[key] });
            }
            const containersAfter = containersOf(stack);
            expect(Object.fromEntries(Object.keys(containersBefore).map((name) => [name, containersAfter[name]]))).toEqual(
                containersBefore,
            );
            expect(ok("docker", ["volume", "inspect", "--format", "{{.CreatedAt}}", volume]).trim()).toBe(volumeCreated);
        });

        test("the same password logs in, the image pulls by its digest, and a new push works", () => {
            // A client without stored credentials, so that the login itself is what is checked.
            expect(new DockerClient().login(host, user, before.passwords[user]).stdout).toContain("Login Succeeded");
            expect(pullByDigest(pushed)).toBe(pushed.id);
            const fresh = push(`${repository}:after-upgrade`);
            expect(pullByDigest(fresh)).toBe(fresh.id);
        });

        test("a preview after the up shows no changes", () => {
            const again = stack.preview(["--expect-no-changes"]);
            expect({ status: again.status, output: again.status === 0 ? "" : again.stdout + again.stderr }).toEqual({
                status: 0,
                output: "",
            });
        });
    });
}

// The config as 0.1 reads it (its container settings at the top level): this release reads it
// too, and says where those keys belong now.
upgradeSuite({
    from: firstRelease,
    id: "basic",
    mode: "basic mode",
    port: 28043,
    config: (user) => loopbackStackConfig(28043, user, { release01: true }),
    keptOutputs: containerOutputs,
});
upgradeSuite({
    from: firstRelease,
    id: "token",
    mode: "token mode",
    port: 28143,
    config: (user) =>
        loopbackStackConfig(28143, user, {
            release01: true,
            extra: ["  authenticated-registry:auth:", "    mode: token", `    tokenServiceImage: ${standInImages.node}`],
        }),
    keptOutputs: containerOutputs,
});
upgradeSuite({
    from: firstRelease,
    id: "swarm",
    mode: "swarm runtime",
    port: 28243,
    swarm: true,
    config: (user) =>
        [
            "config:",
            "  authenticated-registry:runtime: swarm",
            "  authenticated-registry:domain: localhost",
            "  authenticated-registry:port: 28243",
            "  authenticated-registry:users:",
            `    - username: ${user}`,
            "  authenticated-registry:tls:",
            "    ipAddresses: [127.0.0.1]",
            `  authenticated-registry:nginxImage: ${standInImages.nginx}`,
            `  authenticated-registry:registryImage: ${standInImages.registry}`,
            `  authenticated-registry:guardImage: ${standInImages.node}`,
            "  authenticated-registry:swarm:",
            "    replicas: {proxy: 1, registry: 1}",
            `    constraints: [node.hostname==${ok("docker", ["info", "--format", "{{.Name}}"]).trim()}]`,
            "    publishMode: host",
            `    edgeImage: ${standInImages.nginx}`,
            "",
        ].join("\n"),
    keptOutputs: ["registryServiceName", "proxyServiceName", "guardServiceName", "edgeServiceName"],
});
// From the previous release, whose config has the container settings under `container`, with
// grants: nothing of the stack moves.
upgradeSuite({
    from: previousRelease,
    id: "previous",
    mode: "basic mode with grants",
    port: 28343,
    config: (user) =>
        loopbackStackConfig(28343, [
            `    - username: ${user}`,
            "      access:",
            "        - repositories: [upgrade/**]",
            "          actions: [pull, push]",
        ]),
    keptOutputs: containerOutputs,
});
