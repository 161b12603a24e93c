/**
 * The package from another Pulumi language: the YAML example (examples/yaml) on the real engine,
 * with the Pulumi YAML language host and this checkout's component provider (provider/). It is
 * deployed, serves its three users as their grants say, previews clean, and is destroyed; bad
 * input in a YAML program fails the preview with the message a TypeScript program gets.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AuthenticatedRegistryArgs, checkAuthenticatedRegistryArgs } from "../../components/index";
import { DockerClient, DockerTrust, exec, offlinePulumiEnv, ok, projectDir, Stack, standInImages } from "./harness";

const port = 29043;
const host = `localhost:${port}`;
const exampleDir = path.join(projectDir, "examples", "yaml");
const providerDir = path.join(projectDir, "provider");
const stack = new Stack(exampleDir);
const trust = new DockerTrust(host);
const users = ["ci", "deploy", "admin"] as const;
const clients = Object.fromEntries(users.map((user) => [user, new DockerClient()])) as Record<(typeof users)[number], DockerClient>;
let passwords: Record<string, string>;

/** The example's stack config: its port, the stand-in images, and a volume that goes with the stack. */
const exampleConfig = [
    "config:",
    `  registry-yaml:port: ${port}`,
    "  registry-yaml:deleteDataOnDestroy: true",
    `  registry-yaml:nginxImage: ${standInImages.nginx}`,
    `  registry-yaml:registryImage: ${standInImages.registry}`,
    `  registry-yaml:guardImage: ${standInImages.node}`,
    "",
].join("\n");

beforeAll(() => {
    stack.init(exampleConfig);
    stack.up();
    const outputs = stack.outputs();
    passwords = outputs.passwords;
    trust.trust(outputs.caCertificatePem);
    for (const user of users) {
        expect(clients[user].login(host, user, passwords[user]).stdout).toContain("Login Succeeded");
    }
}, 300_000);

afterAll(() => {
    stack.run(["destroy", "--yes", "--config-file", stack.configFile]);
    stack.run(["stack", "rm", "--yes", "--force"]);
    trust.remove();
});

describe("the YAML example, deployed", () => {
    it("makes the registry's outputs, its passwords secret in the stack and in the state", () => {
        expect(Object.keys(passwords).sort()).toEqual(["admin", "ci", "deploy"]);
        const shown = stack.ok(["stack", "output", "passwords"]);
        expect(shown.trim()).toBe("[secret]");
        const state = stack.ok(["stack", "export"]);
        for (const password of Object.values(passwords)) expect(state).not.toContain(password);
    });

    it("serves pushes and pulls as the grants say: ci pushes, deploy pulls, and deploy's push is denied", () => {
        const ref = `${host}/team/app:1`;
        const id = clients.ci.buildRandomImage(ref);
        clients.ci.ok(["push", ref]);
        clients.deploy.ok(["image", "rm", "--force", ref]);
        clients.deploy.ok(["pull", ref]);
        expect(clients.deploy.ok(["image", "inspect", "--format", "{{.Id}}", ref]).trim()).toBe(id);

        const denied = `${host}/team/app:from-deploy`;
        clients.deploy.ok(["tag", ref, denied]);
        const push = clients.deploy.run(["push", denied]);
        expect(push.status).not.toBe(0);
        expect(push.stderr).toMatch(/^denied/m);
    });

    it("previews no change after up", () => {
        const preview = stack.preview(["--expect-no-changes"]);
        expect(preview.status).toBe(0);
        expect(preview.stdout).toMatch(/^ {4}26 unchanged$/m);
    });
});

describe("the YAML example, destroyed", () => {
    it("leaves no container, network or volume of the stack", () => {
        stack.ok(["destroy", "--yes", "--config-file", stack.configFile]);
        for (const kind of ["container", "network", "volume"]) {
            const left = ok("docker", [
                kind,
                "ls",
                ...(kind === "container" ? ["--all"] : []),
                "--quiet",
                "--filter",
                "name=team-registry",
            ]);
            expect({ kind, left: left.trim() }).toEqual({ kind, left: "" });
        }
    });
});

describe("the provider", () => {
    it("serves the committed schema (pulumi package get-schema)", () => {
        // Run outside any folder holding a Pulumi.yaml, which the CLI would take for the project.
        const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-schema-"));
        const served = ok("pulumi", ["package", "get-schema", providerDir], { cwd, env: offlinePulumiEnv });
        expect(JSON.parse(served)).toEqual(JSON.parse(fs.readFileSync(path.join(providerDir, "schema.json"), "utf8")));
        fs.rmSync(cwd, { recursive: true, force: true });
    });
});

/** A one-resource YAML program in a folder of its own: the registry with `properties` (YAML lines). */
function yamlProgram(properties: string[]): Stack {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-yaml-"));
    fs.writeFileSync(
        path.join(dir, "Pulumi.yaml"),
        [
            "name: bad-input",
            "runtime: yaml",
            "packages:",
            `  authenticated-registry: ${providerDir}`,
            "resources:",
            "  registry:",
            "    type: authenticated-registry:index:AuthenticatedRegistry",
            "    properties:",
            ...properties.map((line) => `      ${line}`),
            "",
        ].join("\n"),
    );
    const program = new Stack(dir);
    program.init("config: {}\n");
    return program;
}

/** The refusal a TypeScript program gets for `args`: the component checks before it creates anything. */
function typeScriptRefusal(args: AuthenticatedRegistryArgs): string {
    try {
        checkAuthenticatedRegistryArgs(args);
    } catch (err) {
        return (err as Error).message;
    }
    throw new Error("the arguments were accepted");
}

describe("bad input in a YAML program", () => {
    const cases: [string, string[], AuthenticatedRegistryArgs][] = [
        [
            "a bad grant",
            [
                "domain: localhost",
                "users:",
                "  - username: ci",
                "    access:",
                "      - repositories: [team/**]",
                "        actions: [pull, write]",
            ],
            {
                domain: "localhost",
                users: [{ username: "ci", access: [{ repositories: ["team/**"], actions: ["pull", "write" as "pull"] }] }],
            },
        ],
        ["a bad user name", ["domain: localhost", "users:", "  - username: 'c:i'"], { domain: "localhost", users: [{ username: "c:i" }] }],
        [
            "a bad certificate",
            [
                "domain: localhost",
                "users:",
                "  - username: ci",
                "tls:",
                "  mode: supplied",
                "  certificatePem: not a certificate",
                "  privateKeyPem: not a key",
            ],
            {
                domain: "localhost",
                users: [{ username: "ci" }],
                tls: { mode: "supplied", certificatePem: "not a certificate", privateKeyPem: "not a key" },
            },
        ],
    ];

    it.each(cases)("%s fails the preview with the TypeScript message, naming the field, and up creates nothing", (_, properties, args) => {
        const expected = typeScriptRefusal(args);
        expect(expected).toMatch(/^(users|tls)\b/);
        const program = yamlProgram(properties);
        try {
            const preview = program.preview();
            expect(preview.status).not.toBe(0);
            expect(preview.stdout + preview.stderr).toContain(expected);
            const up = program.run(["up", "--yes", "--skip-preview", "--config-file", program.configFile]);
            expect(up.status).not.toBe(0);
            const state = JSON.parse(program.ok(["stack", "export"]));
            const created = (state.deployment.resources ?? []).map((r: { type: string }) => r.type);
            expect(created.filter((type: string) => !type.startsWith("pulumi:"))).toEqual([]);
        } finally {
            program.run(["stack", "rm", "--yes", "--force"]);
            exec("rm", ["-rf", program.projectDir]);
        }
    });
});
