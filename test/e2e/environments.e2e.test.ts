/**
 * The per-environment paths with the real CLI: `npm run preview` over dev and prod (the worked
 * example with a supplied certificate and passphrase-encrypted secrets) with the policy pack,
 * a config the policy pack rejects, and config mistakes refused at preview naming the key.
 * It works on a copy of the project, so the checkout's stack files are never touched.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exec, offlinePulumiEnv, ok, projectDir } from "./harness";

const copy = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-envs-"));
const env: NodeJS.ProcessEnv = {
    PULUMI_BACKEND_URL: `file://${path.join(copy, ".state")}`,
    PULUMI_CONFIG_PASSPHRASE_DEV: crypto.randomBytes(16).toString("hex"),
    // The passphrase the worked example's secure values were encrypted with (Pulumi.prod.yaml).
    PULUMI_CONFIG_PASSPHRASE_PROD: "worked-example-only",
    PULUMI_CONFIG_PASSPHRASE_SWARM: crypto.randomBytes(16).toString("hex"),
    ...offlinePulumiEnv,
};
const run = (command: string, args: string[], extra: NodeJS.ProcessEnv = {}) =>
    exec(command, args, { cwd: copy, env: { ...env, ...extra } });
const devConfig = path.join(copy, "Pulumi.dev.yaml");

/**
 * A known-good dev config, built here rather than read from the checkout: a developer's own
 * Pulumi.dev.yaml may already set a key a test adds ("mapping key already defined").
 */
const baseDevSettings: Record<string, string> = {
    domain: "localhost",
    port: '"5043"',
    container: "\n    bindAddress: 127.0.0.1",
    users: "\n    - username: developer",
    tls: "\n    mode: generated\n    ipAddresses: [127.0.0.1]",
    nginxImage: "authenticated-registry/nginx:1.22-bookworm",
    registryImage: "authenticated-registry/registry:3.1-bookworm",
    guardImage: "authenticated-registry/node:22-bookworm",
};

/** Writes the dev stack's config: the base settings without `drop`, plus `lines`, under this copy's salt. */
function writeDevConfig(lines: string[], drop?: string): void {
    const base = Object.entries(baseDevSettings)
        .filter(([key]) => key !== drop)
        .map(([key, value]) => `  authenticated-registry:${key}:${value.startsWith("\n") ? "" : " "}${value}`);
    fs.writeFileSync(devConfig, [devSalt, "config:", ...base, ...lines, ""].join("\n"));
}
let devSalt: string;

beforeAll(() => {
    // What is committed, as it stands in the working tree.
    const files = ok("git", ["ls-files", "--cached", "-z"]).split("\0").filter(Boolean);
    for (const file of files) {
        if (fs.existsSync(path.join(projectDir, file))) {
            fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
            fs.copyFileSync(path.join(projectDir, file), path.join(copy, file));
        }
    }
    fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(copy, "node_modules"));
    // What `npm ci` leaves in a checkout through the package's prepare script: the token service's bundle.
    ok("npm", ["run", "prepare"], { cwd: copy });
    fs.mkdirSync(path.join(copy, ".state"));
    // A developer's own dev salt belongs to their passphrase; this copy gets a fresh one.
    for (const file of [devConfig, path.join(copy, "Pulumi.swarm.yaml")]) {
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/^encryptionsalt: .*\n?/m, ""));
    }
    for (const stack of ["dev", "prod", "swarm"]) {
        const passphrase = env[`PULUMI_CONFIG_PASSPHRASE_${stack.toUpperCase()}`];
        const init = run("pulumi", ["stack", "init", stack, "--secrets-provider", "passphrase", "--non-interactive"], {
            PULUMI_CONFIG_PASSPHRASE: passphrase,
        });
        expect({ stack, status: init.status, stderr: init.status === 0 ? "" : init.stderr }).toEqual({ stack, status: 0, stderr: "" });
    }
    devSalt = fs.readFileSync(devConfig, "utf8").match(/^encryptionsalt: .*$/m)![0];
});

afterAll(() => {
    fs.rmSync(copy, { recursive: true, force: true });
});

test("npm run preview previews dev and prod with the policy pack, and both pass", () => {
    const result = run("npm", ["run", "preview", "--", "dev", "prod"]);
    const output = result.stdout + result.stderr;
    expect({ status: result.status, tail: result.status === 0 ? "" : output.slice(-3000) }).toEqual({ status: 0, tail: "" });
    expect(output).toContain("==> pulumi preview (dev)");
    expect(output).toContain("==> pulumi preview (prod)");
    expect(output).toContain("==> previews passed: dev prod");
    // prod: the supplied certificate on 443 for every interface, the official pinned images.
    expect(output).toMatch(/name\s*: "registry-prod-nginx"/);
    expect(output).toMatch(/name\s*: "nginx:1\.28\.0"/);
    expect(output).toMatch(/name\s*: "registry:3\.0\.0"/);
    expect(output).toContain('url                  : "https://registry.example.com"');
    // The worked example's supplied key never appears, only its secret marker.
    expect(output).not.toContain("BEGIN PRIVATE KEY");
    expect(output).toContain("uploads                                : [secret]");
});

test("npm run preview pins the swarm stack to this node and previews its services with the policy pack", () => {
    const node = ok("docker", ["info", "--format", "{{.Name}}"]).trim();
    const result = run("npm", ["run", "preview", "--", "swarm"]);
    const output = result.stdout + result.stderr;
    expect({ status: result.status, tail: result.status === 0 ? "" : output.slice(-3000) }).toEqual({ status: 0, tail: "" });
    expect(output).toContain(`pinned stack swarm's tasks to this node (${node}), which holds its data volume`);
    expect(fs.readFileSync(path.join(copy, "Pulumi.swarm.yaml"), "utf8")).toContain(`node.hostname==${node}`);
    for (const service of ["registry-swarm-nginx", "registry-swarm-registry", "registry-swarm-edge"]) {
        expect(output).toMatch(new RegExp(`\\+\\s+docker:index/service:Service: \\(create\\)[\\s\\S]*name\\s*: "${service}"`));
    }
    expect(output).not.toContain("docker:index/container:Container");
    expect(output).not.toContain("BEGIN PRIVATE KEY");
    expect(output).toContain("==> previews passed: swarm");
});

test("the policy pack rejects an unpinned image that the components accept", () => {
    writeDevConfig(["  authenticated-registry:nginxImage: nginx:latest"], "nginxImage");
    const result = run("npm", ["run", "preview", "--", "dev"]);
    const output = result.stdout + result.stderr;
    expect(result.status).not.toBe(0);
    expect(output).toContain("images-pinned");
    expect(output).toMatch(/mandatory/i);
    expect(output).toContain("preview failed for: dev");
});

test("a token-mode stack previews with the policy pack and passes it: the proxy holds no password file there", () => {
    writeDevConfig(["  authenticated-registry:auth:\n    mode: token\n    tokenServiceImage: authenticated-registry/node:22-bookworm"]);
    const result = run("npm", ["run", "preview", "--", "dev"]);
    const output = result.stdout + result.stderr;
    expect({ status: result.status, tail: result.status === 0 ? "" : output.slice(-3000) }).toEqual({ status: 0, tail: "" });
    expect(output).toMatch(/\+\s+docker:index\/container:Container: \(create\)[\s\S]*name\s*: "registry-dev-token"/);
    expect(output).toContain("==> previews passed: dev");
});

// Every row has the key of the base settings it replaces, or "" for none: jest hands a test whose
// function takes more arguments than its row has a `done` callback, and waits for it.
test.each<[string, string, string, string]>([
    ["an unknown key", '  authenticated-registry:prot: "5043"', "authenticated-registry:prot: is not a known setting", ""],
    [
        "a port out of range",
        "  authenticated-registry:container:\n    bindAddress: 127.0.0.1\n    directAccessPort: 70000",
        "authenticated-registry:container.directAccessPort: 70000 is not a TCP port",
        "container",
    ],
    [
        "a bind address that is not an IP, set where 0.1 read it",
        "  authenticated-registry:directAccessAddress: localhost",
        'authenticated-registry:directAccessAddress: "localhost" is not an IP address',
        "",
    ],
])("pulumi preview refuses %s, naming it, and plans nothing", (_what, line, message, drop) => {
    writeDevConfig([line], drop === "" ? undefined : drop);
    const result = run("pulumi", ["preview", "--stack", "dev", "--non-interactive"], {
        PULUMI_CONFIG_PASSPHRASE: env.PULUMI_CONFIG_PASSPHRASE_DEV,
    });
    const output = result.stdout + result.stderr;
    expect(result.status).not.toBe(0);
    expect(output).toContain(message);
    // No provider resource is planned: the refusal comes before the first one.
    expect(output).not.toMatch(/(docker|tls|random):index/);
    expect(output).toMatch(/1 errored/);
});

test("the toolchain's CLI is built without `pulumi api` (Pulumi Cloud's REST API), and says so", () => {
    const listed = run("pulumi", ["api", "ls"]);
    expect({ status: listed.status, stdout: listed.stdout, error: JSON.parse(listed.stderr.trim()).error }).toEqual({
        status: 1,
        stdout: "",
        error: {
            code: "pulumi.cloud_api.capability_not_available",
            severity: "error",
            message:
                "`pulumi api` (Pulumi Cloud's REST API) is not part of this build of the CLI (authenticated-registry's offline " +
                "toolchain, which works with a local backend); an official Pulumi CLI has it",
            schemaVersion: 1,
        },
    });
});
