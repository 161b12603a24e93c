/**
 * The pack as the engine runs it: started by `@pulumi/pulumi/cmd/run-policy-pack` from `policy/`
 * (ts-node, root node_modules), spoken to over the analyzer gRPC protocol with the resources the
 * real components register under mocks, in the engine's wire format: secret inputs wrapped in
 * the secret signature, unknown values as the unknown sentinel.
 */
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import * as pulumi from "@pulumi/pulumi";
import { ChildProcess, spawn } from "child_process";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { JavaScriptValue, Struct } from "google-protobuf/google/protobuf/struct_pb";
import { nginxPaths } from "../components/nginxConfig";
import { installMocks, isSecretInput, plain, registered, Registration, valueOf } from "../test/mocks";

const secretSignature = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

let pack: ChildProcess;
let client: AnalyzerClient;
let stderr = "";

/** Starts the pack the way the nodejs language host does and connects to the port it prints. */
async function startPack(): Promise<void> {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [__dirname] });
    pack = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: __dirname, stdio: ["ignore", "pipe", "pipe"] });
    pack.stderr!.on("data", (d) => (stderr += d));
    const port = await new Promise<string>((resolve, reject) => {
        let out = "";
        pack.stdout!.on("data", (d) => {
            out += d;
            const line = out.split("\n");
            if (line.length > 1) {
                resolve(line[0].trim());
            }
        });
        pack.on("exit", (code) => reject(new Error(`the policy pack exited with ${code}: ${stderr}`)));
    });
    client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

/** Promise form of a unary call: `call<Response>((cb) => client.method(request, cb))`. */
function call<Res>(start: (cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
    return new Promise((resolve, reject) => start((err, res) => (err ? reject(err) : resolve(res))));
}
const analyzerInfo = () => call<analyzer.AnalyzerInfo>((cb) => client.getAnalyzerInfo(new Empty(), cb));

interface Diagnostic {
    policy: string;
    level: "advisory" | "mandatory";
    message: string;
}

/** Analyzes one resource as the engine would before creating it. */
async function analyze(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    opts: { additionalSecretOutputs?: string[]; protect?: boolean } = {},
): Promise<{ diagnostics: Diagnostic[]; notApplicable: Map<string, string> }> {
    const options = new analyzer.AnalyzerResourceOptions();
    options.setProtect(opts.protect ?? false);
    options.setAdditionalsecretoutputsList(opts.additionalSecretOutputs ?? []);
    const req = new analyzer.AnalyzeRequest();
    req.setType(type);
    req.setName(name);
    req.setUrn(`urn:pulumi:test::authenticated-registry::${type}::${name}`);
    req.setProperties(Struct.fromJavaScript(inputs as Record<string, JavaScriptValue>));
    req.setOptions(options);
    const res = await call<analyzer.AnalyzeResponse>((cb) => client.analyze(req, cb));
    return {
        diagnostics: res.getDiagnosticsList().map((d) => ({
            policy: d.getPolicyname(),
            level: d.getEnforcementlevel() === analyzer.EnforcementLevel.MANDATORY ? "mandatory" : "advisory",
            message: d.getMessage(),
        })),
        notApplicable: new Map(res.getNotApplicableList().map((n) => [n.getPolicyName(), n.getReason()])),
    };
}

async function configure(minimumBcryptCost: number): Promise<void> {
    const req = new analyzer.ConfigureAnalyzerRequest();
    const info = await analyzerInfo();
    for (const policy of info.getPoliciesList()) {
        const config = new analyzer.PolicyConfig();
        config.setEnforcementlevel(analyzer.EnforcementLevel.MANDATORY);
        config.setProperties(Struct.fromJavaScript(policy.getName() === "bcrypt-cost-floor" ? { minimumBcryptCost } : {}));
        req.getPolicyconfigMap().set(policy.getName(), config);
    }
    await call((cb) => client.configure(req, cb));
}

// The dev stack's registry, built by the real components under mocks, with the options each
// resource was created with.
let resources: Registration[];
const options = new Map<string, pulumi.CustomResourceOptions>();

beforeAll(async () => {
    await installMocks();
    const { AuthenticatedRegistry } = await import("../components");
    const registry = new AuthenticatedRegistry(
        "reg",
        {
            domain: "localhost",
            container: { bindAddress: "127.0.0.1", directAccessPort: 5000 },
            users: [{ username: "developer" }],
            tls: { ipAddresses: ["127.0.0.1"] },
            nginxImage: "authenticated-registry/nginx:1.22-bookworm",
            registryImage: "authenticated-registry/registry:2.8-bookworm",
        },
        { transformations: [(args) => void options.set(args.name, args.opts)] },
    );
    await valueOf(registry.url);
    // The same registry as Swarm services, basic mode with host publishing, and token mode.
    const swarmArgs = {
        domain: "localhost",
        users: [{ username: "developer" }],
        tls: { ipAddresses: ["127.0.0.1"] },
        nginxImage: "authenticated-registry/nginx:1.22-bookworm",
        registryImage: "authenticated-registry/registry:3.1-bookworm",
        runtime: "swarm" as const,
    };
    const swarmSettings = { edgeImage: "authenticated-registry/nginx:1.22-bookworm", constraints: ["node.hostname==vm"] };
    const swarm = new AuthenticatedRegistry(
        "sw",
        { ...swarmArgs, swarm: { ...swarmSettings, publishMode: "host" } },
        { transformations: [(args) => void options.set(args.name, args.opts)] },
    );
    const swarmToken = new AuthenticatedRegistry(
        "swt",
        {
            ...swarmArgs,
            swarm: swarmSettings,
            port: 5044,
            auth: { mode: "token", tokenServiceImage: "authenticated-registry/node:22-bookworm" },
        },
        {
            transformations: [(args) => void options.set(args.name, args.opts)],
        },
    );
    await valueOf(swarm.url);
    await valueOf(swarmToken.url);
    resources = (await registered()).filter((r) => r.custom);
    await startPack();
}, 120_000);

afterAll(() => {
    client?.close();
    pack?.kill();
});

const byName = (name: string) => resources.find((r) => r.name === name)!;
const analyzeRegistered = (r: Registration) => analyze(r.type, r.name, r.inputs, options.get(r.name) as never);

test("the pack describes itself: every policy mandatory but one advisory, the bcrypt floor and delete everywhere configurable", async () => {
    const info = await analyzerInfo();
    expect(info.getName()).toBe("authenticated-registry");
    expect(info.getVersion()).toBe("0.1.0");
    expect(info.getSupportsconfig()).toBe(true);
    const policies = info.getPoliciesList();
    expect(policies.map((p) => p.getName())).toEqual([
        "registry-port-loopback-only",
        "token-service-unpublished",
        "no-privileged-processes",
        "nginx-tls-1.2-1.3-only",
        "images-pinned",
        "data-volume-retained",
        "credentials-secret",
        "bcrypt-cost-floor",
        "no-delete-everywhere",
        "some-user-pull-only",
    ]);
    expect(policies.map((p) => p.getEnforcementlevel())).toEqual([
        ...policies.slice(0, -1).map(() => analyzer.EnforcementLevel.MANDATORY),
        analyzer.EnforcementLevel.ADVISORY,
    ]);
    const byName = (name: string) => policies.find((p) => p.getName() === name)!;
    const schema = byName("bcrypt-cost-floor").getConfigschema()!.getProperties()!.toJavaScript();
    expect(schema.minimumBcryptCost).toMatchObject({ type: "integer", default: 8, minimum: 4, maximum: 31 });
    const deleteSchema = byName("no-delete-everywhere").getConfigschema()!.getProperties()!.toJavaScript();
    expect(deleteSchema.allowDeleteEverywhere).toMatchObject({ type: "boolean", default: false });
});

test("the registry the components build passes every policy, its secrets arriving as secrets", async () => {
    // The proxy's files are the uploads of its files container; the proxy itself has none.
    const files = byName("reg-nginx-files-writer");
    expect(byName("reg-nginx-container").inputs.uploads).toBeUndefined();
    // The SDK marks the whole property secret when any part of it is: all of `uploads`, all of `envs`.
    expect(isSecretInput(files.inputs.uploads)).toBe(true);
    expect(isSecretInput(byName("reg-registry-container").inputs.envs)).toBe(true);
    for (const resource of resources) {
        expect({ name: resource.name, ...(await analyzeRegistered(resource)) }).toMatchObject({ name: resource.name, diagnostics: [] });
    }
    // The rules on nginx's files ran on the files container, not passed by being skipped.
    const { notApplicable } = await analyzeRegistered(files);
    for (const policy of ["nginx-tls-1.2-1.3-only", "credentials-secret", "bcrypt-cost-floor", "no-delete-everywhere"]) {
        expect({ policy, ran: !notApplicable.has(policy) }).toEqual({ policy, ran: true });
    }
    expect((await analyzeRegistered(byName("reg-nginx-container"))).notApplicable.get("bcrypt-cost-floor")).toMatch(
        /^the proxy reads its files from the volume at \/etc\/nginx\/conf\.d/,
    );
    expect((await analyzeRegistered(byName("reg-nginx-files"))).notApplicable.get("data-volume-retained")).toMatch(/^only the data volume/);
});

test("the swarm registries pass every policy, which check their services, configs and secrets", async () => {
    const swarmResources = resources.filter((r) => /^swt?-/.test(r.name));
    expect(
        swarmResources
            .filter((r) => r.type === "docker:index/service:Service")
            .map((r) => r.name)
            .sort(),
    ).toEqual(["sw-edge", "sw-guard", "sw-nginx", "sw-registry", "swt-nginx", "swt-registry", "swt-token"].sort());
    for (const resource of swarmResources) {
        expect({ name: resource.name, ...(await analyzeRegistered(resource)) }).toMatchObject({ name: resource.name, diagnostics: [] });
    }
    // Each rule ran where it applies: not passed by being skipped.
    const ranOn = async (name: string, policy: string) => (await analyzeRegistered(byName(name))).notApplicable.has(policy);
    expect(await ranOn("sw-nginx-registry-conf", "nginx-tls-1.2-1.3-only")).toBe(false);
    expect(await ranOn("sw-nginx-default-conf", "nginx-tls-1.2-1.3-only")).toBe(false);
    expect(await ranOn("sw-nginx-registry-password", "bcrypt-cost-floor")).toBe(false);
    expect(await ranOn("swt-token-settings-json", "bcrypt-cost-floor")).toBe(false);
    expect(await ranOn("sw-nginx-domain-key", "credentials-secret")).toBe(false);
    expect(await ranOn("sw-registry", "registry-port-loopback-only")).toBe(false);
    expect(await ranOn("swt-token", "token-service-unpublished")).toBe(false);
    expect(await ranOn("sw-nginx", "images-pinned")).toBe(false);
    expect(await ranOn("sw-nginx", "no-delete-everywhere")).toBe(false);
});

test("the volume's retention cannot be seen by a policy pack, and the pack says so", async () => {
    expect(options.get("reg-data")).toMatchObject({ retainOnDelete: true });
    const { notApplicable } = await analyzeRegistered(byName("reg-data"));
    expect(notApplicable.get("data-volume-retained")).toBe(
        "the Pulumi engine does not pass retainOnDelete to policy packs, and the volume is not protected; " +
            "retention is asserted by the component's unit tests instead",
    );
    expect((await analyze("docker:index/volume:Volume", "reg-data", byName("reg-data").inputs, { protect: true })).diagnostics).toEqual([]);
});

test("secret htpasswd content is read in plain text: a floor above its cost is a mandatory violation", async () => {
    await configure(12);
    try {
        const { diagnostics } = await analyzeRegistered(byName("reg-nginx-files-writer"));
        expect(diagnostics).toEqual([
            {
                policy: "bcrypt-cost-floor",
                level: "mandatory",
                message:
                    "Every htpasswd entry is a bcrypt hash whose cost is at least minimumBcryptCost.\n" +
                    `${nginxPaths.htpasswd} line 1 (user "developer") has bcrypt cost 8; the minimum is 12`,
            },
        ]);
    } finally {
        await configure(10);
    }
});

test("violations are reported as mandatory, with the policy's description and the rule's message", async () => {
    const registry = byName("reg-registry-container");
    const exposed = { ...registry.inputs, ports: [{ internal: 5000, external: 5000, ip: "0.0.0.0", protocol: "tcp" }] };
    expect((await analyze(registry.type, registry.name, exposed, {})).diagnostics).toEqual([
        {
            policy: "registry-port-loopback-only",
            level: "mandatory",
            message:
                "The registry, which answers without authentication, is published on loopback addresses only.\n" +
                "ports[0] publishes the registry's port 5000 on 0.0.0.0; the registry answers without authentication, " +
                "so it may only be published on 127.0.0.0/8 or ::1",
        },
        {
            policy: "credentials-secret",
            level: "mandatory",
            message:
                "The proxy's and token service's secret files (htpasswd, TLS key, hashes, signing key) and the registry's secret environment (REGISTRY_HTTP_SECRET) are secret outputs.\n" +
                "envs holds REGISTRY_HTTP_SECRET but is not in additionalSecretOutputs, so the state is not guaranteed to store it encrypted",
        },
    ]);
    const image = byName("reg-nginx-image");
    expect((await analyze(image.type, image.name, { ...image.inputs, name: "nginx:latest" })).diagnostics).toEqual([
        {
            policy: "images-pinned",
            level: "mandatory",
            message:
                "Every pulled image names a tag other than latest, or a digest.\n" +
                'name: image "nginx:latest" is not pinned; name a tag other than latest (e.g. nginx:1.28.0) or a digest (@sha256:...)',
        },
    ]);
});

test("a swarm stack's violations are reported alike, naming the service's or secret's setting", async () => {
    const registry = byName("sw-registry");
    const published = {
        ...registry.inputs,
        endpointSpec: { mode: "vip", ports: [{ targetPort: 5000, publishedPort: 5000, publishMode: "ingress", protocol: "tcp" }] },
    };
    expect((await analyze(registry.type, registry.name, published, {})).diagnostics).toEqual([
        {
            policy: "registry-port-loopback-only",
            level: "mandatory",
            message:
                "The registry, which answers without authentication, is published on loopback addresses only.\n" +
                "endpointSpec.ports[0] publishes the registry's port 5000 on every node of the swarm; the registry answers " +
                "without authentication, so it may only be published on 127.0.0.0/8 or ::1",
        },
    ]);
    const key = byName("sw-nginx-domain-key");
    expect((await analyze(key.type, key.name, key.inputs, {})).diagnostics).toEqual([
        {
            policy: "credentials-secret",
            level: "mandatory",
            message:
                "The proxy's and token service's secret files (htpasswd, TLS key, hashes, signing key) and the registry's secret " +
                "environment (REGISTRY_HTTP_SECRET) are secret outputs.\n" +
                `data holds ${nginxPaths.privateKey} but is not in additionalSecretOutputs, so the state is not guaranteed to store it encrypted`,
        },
    ]);
});

test("on a first preview the htpasswd is unknown: the bcrypt rule is reported as not run, the others run", async () => {
    const proxy = byName("reg-nginx-files-writer");
    const inputs = {
        ...proxy.inputs,
        image: unknown,
        labels: proxy.inputs.labels.map((l: { label: string; value: string }) =>
            l.label === "authenticated-registry.upstream-container" ? { ...l, value: unknown } : l,
        ),
        uploads: {
            ...secretSignature,
            value: plain(proxy.inputs.uploads).map((u: { file: string; content: unknown }) =>
                u.file === nginxPaths.htpasswd ? { ...u, content: unknown } : u,
            ),
        },
    };
    const { diagnostics } = await analyze(proxy.type, proxy.name, inputs, options.get(proxy.name) as never);
    expect(diagnostics).toEqual([
        {
            policy: "bcrypt-cost-floor",
            level: "advisory",
            message:
                "can't run policy 'bcrypt-cost-floor' from policy pack 'authenticated-registry@v0.1.0' during preview: " +
                "string value at .uploads.2.content can't be known during preview",
        },
    ]);
});
