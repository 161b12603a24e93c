import * as pulumi from "@pulumi/pulumi";
import * as bcrypt from "bcryptjs";
import { validateUserAccess } from "../components/access";
import { roles } from "../components/defaults";
import { emptyDefaultSite, renderNginxConfig } from "../components/nginxConfig";
import { tokenServiceProgram } from "../components/plan/tokenIssuer";
import { proxyReload } from "../components/roles/proxy";
import { filesWatcherScript, filesWriterScript } from "../components/runtimes/container/roleContainer";
import { containerRuntime } from "../components/runtimes/container/runtime";
import { installMocks, isSecretInput, parentChain, plain, registered, Registration, valueOf } from "./mocks";

beforeAll(installMocks);

type Components = typeof import("../components");
let components: Components;
let registry: InstanceType<Components["AuthenticatedRegistry"]>;
let children: Registration[];
/** Resource options as each child was created with, captured by a transformation. */
const options = new Map<string, pulumi.ResourceOptions>();

const top = "authenticated-registry:index:AuthenticatedRegistry";
/** The URN of a 0.1 component of type `component` named `name`, a child of the registry, which held a role's resources. */
const previousParent = (component: string, name: string) =>
    `urn:pulumi:test::authenticated-registry::${top}$authenticated-registry:index:${component}::${name}`;
/** The aliases a resource was created with, each parent resolved to its URN. */
async function aliasesOf(name: string): Promise<Record<string, unknown>[] | undefined> {
    const aliases = options.get(name)?.aliases as pulumi.Alias[] | undefined;
    if (aliases === undefined) return undefined;
    return Promise.all(
        aliases.map(async ({ parent, ...rest }) =>
            parent === undefined ? rest : { ...rest, parent: await valueOf(pulumi.output(parent as pulumi.Input<string>)) },
        ),
    );
}
const byName = (name: string): Registration => {
    const found = children.find((c) => c.name === name);
    if (!found) {
        throw new Error(`no resource named ${name}; have ${children.map((c) => c.name).join(", ")}`);
    }
    return found;
};

beforeAll(async () => {
    components = await import("../components");
    registry = new components.AuthenticatedRegistry(
        "reg",
        {
            domain: "localhost",
            port: 5043,
            container: { bindAddress: "127.0.0.1" },
            users: [{ username: "alice" }, { username: "bob", password: "correct horse battery staple" }],
            tls: { ipAddresses: ["127.0.0.1"] },
            nginxImage: "authenticated-registry/nginx:1.22-bookworm",
            registryImage: "authenticated-registry/registry:2.8-bookworm",
        },
        {
            transformations: [
                (args) => {
                    options.set(args.name, args.opts);
                    return undefined;
                },
            ],
        },
    );
    await valueOf(registry.url);
    children = await registered();
});

test("creates exactly the expected resources, every one of them the registry's own but the TLS material's and the credentials'", () => {
    const summary = children.map((c) => [c.type, c.name, parentChain(c)]).sort();
    const tlsParent = "authenticated-registry:index:TlsMaterial";
    const credParent = "authenticated-registry:index:HtpasswdCredentials";
    expect(summary).toEqual(
        [
            [top, "reg", ""],
            ["authenticated-registry:index:TlsMaterial", "reg-tls", top],
            ["tls:index/privateKey:PrivateKey", "reg-tls-ca-key", tlsParent],
            ["tls:index/selfSignedCert:SelfSignedCert", "reg-tls-ca", tlsParent],
            ["tls:index/privateKey:PrivateKey", "reg-tls-server-key", tlsParent],
            ["tls:index/certRequest:CertRequest", "reg-tls-server-csr", tlsParent],
            ["tls:index/locallySignedCert:LocallySignedCert", "reg-tls-server", tlsParent],
            ["authenticated-registry:index:HtpasswdCredentials", "reg-credentials", top],
            ["random:index/randomPassword:RandomPassword", "reg-credentials-alice-password", credParent],
            ["random:index/randomBytes:RandomBytes", "reg-credentials-alice-salt", credParent],
            ["random:index/randomBytes:RandomBytes", "reg-credentials-bob-salt", credParent],
            ["random:index/randomPassword:RandomPassword", "reg-http-secret", top],
            ["docker:index/network:Network", "reg-network", top],
            ["docker:index/volume:Volume", "reg-data", top],
            ["docker:index/remoteImage:RemoteImage", "reg-nginx-image", top],
            ["docker:index/remoteImage:RemoteImage", "reg-registry-image", top],
            ["docker:index/container:Container", "reg-registry-container", top],
            ["docker:index/volume:Volume", "reg-nginx-files", top],
            ["docker:index/container:Container", "reg-nginx-files-writer", top],
            ["docker:index/container:Container", "reg-nginx-container", top],
            ["docker:index/remoteImage:RemoteImage", "reg-guard-image", top],
            ["docker:index/container:Container", "reg-guard-container", top],
        ].sort(),
    );
});

test("components carry no state of their own, so no secret is stored as component state", () => {
    for (const c of children.filter((c) => !c.custom)) {
        expect(c.inputs).toEqual({});
    }
});

test("each role's resources carry an alias to the component that held them in 0.1, so stacks upgrade in place", async () => {
    const before = {
        "reg-registry-container": previousParent("RegistryServer", "reg-registry"),
        "reg-nginx-files": previousParent("NginxAuthProxy", "reg-nginx"),
        "reg-nginx-files-writer": previousParent("NginxAuthProxy", "reg-nginx"),
        "reg-nginx-container": previousParent("NginxAuthProxy", "reg-nginx"),
        "reg-guard-container": previousParent("RegistryGuard", "reg-guard"),
    };
    for (const [name, parent] of Object.entries(before)) {
        expect({ name, aliases: await aliasesOf(name) }).toEqual({ name, aliases: [{ parent }] });
    }
    expect(previousParent("RegistryServer", "reg-registry")).toBe(
        "urn:pulumi:test::authenticated-registry::authenticated-registry:index:AuthenticatedRegistry$authenticated-registry:index:RegistryServer::reg-registry",
    );
    // The registry's HTTP secret was named after its RegistryServer: a new secret would fail uploads in flight.
    expect(await aliasesOf("reg-http-secret")).toEqual([
        { name: "reg-registry-http-secret", parent: previousParent("RegistryServer", "reg-registry") },
    ]);
});

test("what was the registry's own in 0.1 has no alias, and the component none of its own", async () => {
    for (const name of [
        "reg",
        "reg-tls",
        "reg-credentials",
        "reg-network",
        "reg-data",
        "reg-nginx-image",
        "reg-registry-image",
        "reg-guard-image",
    ]) {
        expect({ name, aliases: await aliasesOf(name) }).toEqual({ name, aliases: name === "reg" ? [] : undefined });
    }
});

test("the network and the volume have fixed names and the volume is kept on destroy", () => {
    expect(byName("reg-network").inputs).toEqual({
        name: "reg-network",
        driver: "bridge",
        labels: [{ label: "authenticated-registry.instance", value: "reg" }],
    });
    expect(byName("reg-data").inputs).toEqual({
        name: "reg-data",
        labels: [{ label: "authenticated-registry.instance", value: "reg" }],
    });
    expect(options.get("reg-data")).toMatchObject({ retainOnDelete: true, deleteBeforeReplace: true });
    expect(options.get("reg-network")).toMatchObject({ deleteBeforeReplace: true });
});

test("containers with fixed names and ports are deleted before they are replaced", () => {
    for (const container of ["reg-nginx-container", "reg-nginx-files-writer", "reg-registry-container", "reg-guard-container"]) {
        expect(options.get(container)).toMatchObject({
            deleteBeforeReplace: true,
            additionalSecretOutputs: ["uploads", "envs"],
            replaceOnChanges: ["healthcheck"],
        });
    }
});

test("images are the configured references, kept on the host", () => {
    expect(byName("reg-nginx-image").inputs).toEqual({ name: "authenticated-registry/nginx:1.22-bookworm", keepLocally: true });
    expect(byName("reg-registry-image").inputs).toEqual({ name: "authenticated-registry/registry:2.8-bookworm", keepLocally: true });
});

test("the registry keeps data on the volume at /data, reachable only as registry:5000 on the network", () => {
    const inputs = byName("reg-registry-container").inputs;
    expect(inputs.name).toBe("reg-registry");
    expect(inputs.image).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(isSecretInput(inputs.envs)).toBe(true);
    expect(plain(inputs.envs)).toEqual([
        "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/data",
        expect.stringMatching(/^REGISTRY_HTTP_SECRET=[A-Za-z0-9]{32,}$/),
        "REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR=",
        "OTEL_TRACES_EXPORTER=none",
    ]);
    expect(inputs.volumes).toEqual([{ volumeName: "reg-data", containerPath: "/data" }]);
    expect(inputs.networksAdvanced).toEqual([{ name: "reg-network", aliases: ["registry"] }]);
    expect(inputs.ports).toEqual([]);
    expect(inputs.restart).toBe("unless-stopped");
    expect(inputs.healthcheck).toEqual({
        tests: ["CMD", "wget", "-q", "--spider", "http://127.0.0.1:5000/"],
        interval: "1s",
        timeout: "5s",
        retries: 3,
        startPeriod: "10s",
    });
    expect(inputs.wait).toBe(true);
    expect(inputs.logDriver).toBe("json-file");
    expect(inputs.logOpts).toEqual({ "max-size": "10m", "max-file": "3" });
});

test("nginx publishes 443 on the bind address, reads its files from a volume and reloads them, and carries no secret", () => {
    const inputs = byName("reg-nginx-container").inputs;
    expect(inputs.name).toBe("reg-nginx");
    expect(inputs.ports).toEqual([{ internal: 443, external: 5043, ip: "127.0.0.1", protocol: "tcp" }]);
    expect(inputs.networksAdvanced).toEqual([{ name: "reg-network" }]);
    expect(inputs.restart).toBe("unless-stopped");
    expect(inputs.healthcheck.tests).toEqual([
        "CMD",
        "curl",
        "--fail",
        "--silent",
        "--insecure",
        "--output",
        "/dev/null",
        "https://127.0.0.1:443/livez",
    ]);
    // No uploads: a change of files does not touch this container.
    expect(inputs.uploads).toBeUndefined();
    expect(inputs.volumes).toEqual([{ volumeName: "reg-nginx-files", containerPath: "/etc/nginx/conf.d" }]);
    // The watcher starts in the background, then the shell becomes nginx (PID 1, the image's stop signal).
    expect(inputs.command).toEqual(["/bin/sh", "-c", filesWatcherScript(proxyReload), "files-watcher", "nginx", "-g", "daemon off;"]);
    expect(inputs.command[2]).toContain("'nginx' '-t' '-q' 2>&1");
    expect(inputs.command[2]).toContain("'nginx' '-s' 'reload' 2>&1");
    expect(inputs.wait).toBe(true);
    // The grants describe the files, so their label is the writer's: the proxy's labels never change.
    expect(inputs.labels).toEqual([
        { label: "authenticated-registry.instance", value: "reg" },
        { label: "authenticated-registry.role", value: "proxy" },
    ]);
    // Made after the writer, so nginx starts with its files.
    expect(options.get("reg-nginx-container")!.dependsOn).toEqual([expect.objectContaining({ __name: "reg-nginx-files-writer" })]);
    // The writer, and so nginx, comes after the registry and the guard it sends requests to.
    expect(options.get("reg-nginx-files-writer")!.dependsOn).toEqual([
        expect.objectContaining({ __name: "reg-registry-container" }),
        expect.objectContaining({ __name: "reg-guard-container" }),
    ]);
    // Those send requests to nothing, so nothing orders them.
    expect(options.get("reg-registry-container")!.dependsOn).toEqual([]);
    expect(options.get("reg-guard-container")!.dependsOn).toEqual([]);
});

test("a one-shot writer of the nginx image has the files as uploads with safe modes and puts them into the volume", async () => {
    const inputs = byName("reg-nginx-files-writer").inputs;
    expect(inputs.name).toBe("reg-nginx-files-writer");
    expect(inputs.image).toBe(byName("reg-nginx-container").inputs.image);
    expect(inputs.command).toEqual([
        "/bin/sh",
        "-c",
        filesWriterScript(proxyReload),
        "files-writer",
        "registry.conf",
        "default.conf",
        "registry.password",
        "domain.crt",
        "domain.key",
    ]);
    expect(inputs.volumes).toEqual([{ volumeName: "reg-nginx-files", containerPath: "/role-files" }]);
    // It runs once, without a network, and `up` waits until it has exited; it is never restarted.
    expect(inputs).toMatchObject({ networkMode: "none", restart: "no", mustRun: false, attach: true });
    expect(inputs.logs).toBeUndefined();
    expect(inputs.ports).toBeUndefined();
    expect(inputs.healthcheck).toBeUndefined();
    expect(inputs.logDriver).toBe("json-file");
    expect(isSecretInput(inputs.uploads)).toBe(true);
    const uploads = plain(inputs.uploads) as { file: string; content: string; permissions: string }[];
    expect(uploads.map((u) => [u.file, u.permissions])).toEqual([
        ["/etc/nginx/conf.d/registry.conf", "0644"],
        ["/etc/nginx/conf.d/default.conf", "0644"],
        ["/etc/nginx/conf.d/registry.password", "0644"],
        ["/etc/nginx/conf.d/domain.crt", "0644"],
        ["/etc/nginx/conf.d/domain.key", "0600"],
    ]);
    expect(uploads[0].content).toBe(
        renderNginxConfig({
            serverName: "localhost",
            realm: "localhost",
            upstream: "registry:5000",
            listenPort: 443,
            users: validateUserAccess("users", [{ username: "alice" }, { username: "bob" }]),
            guard: { upstream: "guard:5001", loginThrottle: true, writeHoldSeconds: 120 },
        }),
    );
    expect(uploads[1].content).toBe(emptyDefaultSite);
    expect(uploads[2].content).toBe(await valueOf(registry.htpasswd));
    expect(uploads[3].content).toBe("-----BEGIN CERTIFICATE-----\nreg-tls-server\n-----END CERTIFICATE-----\n");
    expect(uploads[4].content).toBe("-----BEGIN PRIVATE KEY-----\nreg-tls-server-key\n-----END PRIVATE KEY-----\n");
    // The grants' label goes with the files, so previews show a change of grants on the writer.
    expect(inputs.labels).toEqual([
        { label: "authenticated-registry.instance", value: "reg" },
        { label: "authenticated-registry.role", value: "proxy-files" },
        {
            label: "authenticated-registry.access",
            value: JSON.stringify(
                ["alice", "bob"].map((username) => ({
                    username,
                    access: [{ repositories: ["**"], actions: ["pull", "push"] }],
                    catalog: true,
                })),
            ),
        },
    ]);
    expect(roles.proxyFiles).toBe("proxy-files");
});

test("basic mode's guard runs the bundled program with its limits, on the network only, as guard:5001", () => {
    expect(byName("reg-guard-image").inputs).toEqual({ name: "node:22.23.5-bookworm-slim", keepLocally: true });
    const inputs = byName("reg-guard-container").inputs;
    expect(inputs.name).toBe("reg-guard");
    expect(inputs.command).toEqual(["node", "/opt/token-service/token-service.js"]);
    expect(inputs.networksAdvanced).toEqual([{ name: "reg-network", aliases: ["guard"] }]);
    expect(inputs.ports).toBeUndefined();
    expect(inputs.labels).toEqual([
        { label: "authenticated-registry.instance", value: "reg" },
        { label: "authenticated-registry.role", value: "guard" },
    ]);
    const uploads = inputs.uploads as { file: string; content: string; permissions: string }[];
    expect(uploads.map((u) => [u.file, u.permissions])).toEqual([
        ["/opt/token-service/token-service.js", "0644"],
        ["/etc/token-service/settings.json", "0644"],
    ]);
    expect(uploads[0].content).toBe(tokenServiceProgram());
    // Limits only: the guard knows no user, hash or key.
    expect(JSON.parse(uploads[1].content)).toEqual({
        loginThrottle: { maxFailures: 10, maxFailuresPerAddress: 30, windowSeconds: 60, cooldownSeconds: 60, maxCooldownSeconds: 3600 },
        writeHoldSeconds: 120,
    });
});

test("the files volume is named after the proxy container and goes with the stack", () => {
    expect(byName("reg-nginx-files").inputs).toEqual({
        name: "reg-nginx-files",
        labels: [
            { label: "authenticated-registry.instance", value: "reg" },
            { label: "authenticated-registry.role", value: "proxy-files" },
        ],
    });
    expect(options.get("reg-nginx-files")).toMatchObject({ deleteBeforeReplace: true });
    expect(options.get("reg-nginx-files")!.retainOnDelete).toBeUndefined();
});

test("the network, the volumes and the containers carry one instance label, the registry's name", () => {
    const named = [
        "reg-network",
        "reg-data",
        "reg-nginx-files",
        "reg-nginx-files-writer",
        "reg-nginx-container",
        "reg-registry-container",
        "reg-guard-container",
    ];
    const instances = named.map((n) =>
        (byName(n).inputs.labels as { label: string; value: string }[]).filter((l) => l.label === "authenticated-registry.instance"),
    );
    expect(instances).toEqual(Array(7).fill([{ label: "authenticated-registry.instance", value: "reg" }]));
    expect(byName("reg-registry-container").inputs.labels).toEqual([
        { label: "authenticated-registry.instance", value: "reg" },
        { label: "authenticated-registry.role", value: "registry" },
    ]);
});

test("the server certificate covers the domain and the extra addresses, signed by the generated CA", () => {
    expect(byName("reg-tls-server-csr").inputs).toMatchObject({
        subject: { commonName: "localhost", organization: "authenticated-registry" },
        dnsNames: ["localhost"],
        ipAddresses: ["127.0.0.1"],
    });
    expect(byName("reg-tls-ca").inputs).toMatchObject({
        isCaCertificate: true,
        validityPeriodHours: 87600,
        allowedUses: ["cert_signing", "crl_signing"],
    });
    expect(byName("reg-tls-server").inputs).toMatchObject({
        validityPeriodHours: 8760,
        earlyRenewalHours: 720,
        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
        caCertPem: "-----BEGIN CERTIFICATE-----\nreg-tls-ca\n-----END CERTIFICATE-----\n",
    });
    expect(byName("reg-credentials-alice-password").inputs).toEqual({ length: 32, special: false });
    expect(byName("reg-credentials-alice-salt").inputs).toEqual({ length: 16 });
});

test("outputs: address, CA, names, and secrets marked secret", async () => {
    expect(await valueOf(registry.url)).toBe("https://localhost:5043");
    expect(await valueOf(registry.host)).toBe("localhost:5043");
    expect(await valueOf(registry.port)).toBe(5043);
    expect(await valueOf(registry.caCertificatePem)).toBe("-----BEGIN CERTIFICATE-----\nreg-tls-ca\n-----END CERTIFICATE-----\n");
    expect(await valueOf(registry.networkName)).toBe("reg-network");
    expect(await valueOf(registry.volumeName)).toBe("reg-data");
    expect(registry.runtime).toBe("container");
    expect(await valueOf(registry.processNames)).toEqual({ proxy: "reg-nginx", registry: "reg-registry", guard: "reg-guard" });
    expect(Object.keys(registry.runtimeOutputs).sort()).toEqual(["guardContainerName", "proxyContainerName", "registryContainerName"]);
    expect(await valueOf(registry.runtimeOutputs.proxyContainerName)).toBe("reg-nginx");
    expect(await valueOf(registry.runtimeOutputs.registryContainerName)).toBe("reg-registry");
    expect(await valueOf(registry.runtimeOutputs.guardContainerName)).toBe("reg-guard");
    const passwords = await valueOf(registry.passwords);
    expect(Object.keys(passwords)).toEqual(["alice", "bob"]);
    expect(passwords.bob).toBe("correct horse battery staple");
    expect(passwords.alice).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(await pulumi.isSecret(registry.passwords)).toBe(true);
    expect(await pulumi.isSecret(registry.htpasswd)).toBe(true);
    expect(await pulumi.isSecret(registry.caCertificatePem)).toBe(false);
});

describe("grants", () => {
    let acl: Registration[];
    beforeAll(async () => {
        const withGrants = new components.AuthenticatedRegistry("acl", {
            domain: "localhost",
            users: [
                { username: "ci" },
                { username: "team-a", access: [{ repositories: ["team-a/**"], actions: ["pull", "push", "delete"] }] },
            ],
            nginxImage: "authenticated-registry/nginx:1.22-bookworm",
            registryImage: "authenticated-registry/registry:2.8-bookworm",
        });
        await valueOf(withGrants.url);
        acl = (await registered()).filter((r) => r.name.startsWith("acl-"));
    });

    test("a delete grant turns on the registry's delete API; without one it stays off", () => {
        const envs = plain(acl.find((r) => r.name === "acl-registry-container")!.inputs.envs) as string[];
        expect(envs).toContain("REGISTRY_STORAGE_DELETE_ENABLED=true");
        expect(plain(byName("reg-registry-container").inputs.envs)).not.toContainEqual(expect.stringContaining("DELETE_ENABLED"));
    });

    test("the proxy's config carries each user's grants", () => {
        const uploads = plain(acl.find((r) => r.name === "acl-nginx-files-writer")!.inputs.uploads) as { file: string; content: string }[];
        const config = uploads.find((u) => u.file === "/etc/nginx/conf.d/registry.conf")!.content;
        expect(config).toContain('  "\\\\ci" u0;\n  "\\\\team-a" u1;');
        expect(config).toContain('"~^u1 delete (?:team-a(?:/|%2[Ff])(?:[a-z0-9._-]|(?:/|%2[Ff]))+)$" allowed;');
    });

    test("deleteEnabled turns the delete API on without any delete grant, and cannot turn it off under one", async () => {
        const gc = new components.AuthenticatedRegistry("gc", {
            domain: "localhost",
            users: [{ username: "ci" }],
            deleteEnabled: true,
            nginxImage: "authenticated-registry/nginx:1.22-bookworm",
            registryImage: "authenticated-registry/registry:3.1-bookworm",
        });
        await valueOf(gc.url);
        const envs = plain((await registered()).find((r) => r.name === "gc-registry-container")!.inputs.envs) as string[];
        expect(envs).toContain("REGISTRY_STORAGE_DELETE_ENABLED=true");
        expect(
            () =>
                new components.AuthenticatedRegistry("contradiction", {
                    domain: "localhost",
                    users: [{ username: "team-a", access: [{ repositories: ["team-a/**"], actions: ["pull", "delete"] }] }],
                    deleteEnabled: false,
                }),
        ).toThrow("deleteEnabled: is false, but a user has a grant of delete; remove the grant or the setting");
        expect((await registered()).filter((r) => r.custom && r.name.startsWith("contradiction"))).toEqual([]);
    });

    test("a bad grant is refused before anything is created, naming the field", async () => {
        expect(
            () =>
                new components.AuthenticatedRegistry("bad", {
                    domain: "localhost",
                    users: [{ username: "node", access: [{ repositories: ["**"], actions: ["push"] }] }],
                }),
        ).toThrow("users[0].access[0].actions: grants push without pull");
        expect((await registered()).filter((r) => r.custom && r.name.startsWith("bad"))).toEqual([]);
    });
});

describe("token mode", () => {
    let token: Registration[];
    let tokenRegistry: InstanceType<Components["AuthenticatedRegistry"]>;
    const find = (name: string) => token.find((r) => r.name === name)!;
    const uploadsOf = (name: string) => plain(find(name).inputs.uploads) as { file: string; content: string; permissions: string }[];

    beforeAll(async () => {
        tokenRegistry = new components.AuthenticatedRegistry(
            "tok",
            {
                domain: "registry.example.com",
                port: 5443,
                users: [
                    { username: "alice" },
                    { username: "bob", password: "correct horse battery staple", access: [{ repositories: ["**"], actions: ["pull"] }] },
                ],
                auth: { mode: "token", tokenLifetimeSeconds: 600, tokenServiceImage: "authenticated-registry/node:22-bookworm" },
                nginxImage: "authenticated-registry/nginx:1.22-bookworm",
                registryImage: "authenticated-registry/registry:3.1-bookworm",
            },
            {
                transformations: [
                    (args) => {
                        options.set(args.name, args.opts);
                        return undefined;
                    },
                ],
            },
        );
        await valueOf(tokenRegistry.url);
        token = (await registered()).filter((r) => r.name.startsWith("tok-") || r.name === "tok");
    });

    test("adds the token service, its image and its signing key and certificate, and nothing else", () => {
        const basicNames = new Set(children.map((c) => c.name.replace(/^reg/, "")));
        const added = token.map((r) => [r.type, r.name.replace(/^tok/, "")]).filter(([, n]) => !basicNames.has(n));
        expect(added.sort()).toEqual(
            [
                ["docker:index/remoteImage:RemoteImage", "-token-image"],
                ["tls:index/privateKey:PrivateKey", "-token-signing-key"],
                ["tls:index/selfSignedCert:SelfSignedCert", "-token-signing-certificate"],
                ["docker:index/container:Container", "-token-container"],
            ].sort(),
        );
        // Flat like basic mode: everything is the registry's own but the TLS material's and the credentials' parts.
        expect(new Set(token.filter((r) => r.name !== "tok").map(parentChain))).toEqual(
            new Set([top, "authenticated-registry:index:TlsMaterial", "authenticated-registry:index:HtpasswdCredentials"]),
        );
        expect(find("tok-token-image").inputs).toEqual({ name: "authenticated-registry/node:22-bookworm", keepLocally: true });
        // The token service is the guard: no guard of basic mode's, and nginx asks the token service.
        expect(token.filter((r) => r.name.startsWith("tok-guard"))).toEqual([]);
        const nginxConfig = uploadsOf("tok-nginx-files-writer").find((u) => u.file.endsWith("/registry.conf"))!;
        expect(nginxConfig.content).toContain("set $guard_upstream token-service:5001;");
        expect(find("tok-token-signing-key").inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        expect(find("tok-token-signing-certificate").inputs).toMatchObject({
            subject: { commonName: "authenticated-registry token service" },
            validityPeriodHours: 8760,
            earlyRenewalHours: 720,
            allowedUses: ["digital_signature"],
        });
    });

    test("the token service runs the bundled program with its settings, key and certificate, secrets secret", () => {
        const inputs = find("tok-token-container").inputs;
        expect(inputs.name).toBe("tok-token");
        expect(inputs.command).toEqual(["node", "/opt/token-service/token-service.js"]);
        expect(inputs.networksAdvanced).toEqual([{ name: "tok-network", aliases: ["token-service"] }]);
        expect(inputs.ports).toBeUndefined();
        expect(options.get("tok-token-container")).toMatchObject({
            deleteBeforeReplace: true,
            additionalSecretOutputs: ["uploads", "envs"],
        });
        const uploads = uploadsOf("tok-token-container");
        expect(uploads.map((u) => [u.file, u.permissions])).toEqual([
            ["/opt/token-service/token-service.js", "0644"],
            ["/etc/token-service/settings.json", "0600"],
            ["/etc/token-service/signing.key", "0600"],
            ["/etc/token-service/signing.crt", "0644"],
        ]);
        expect(uploads[0].content).toBe(tokenServiceProgram());
        expect(isSecretInput(inputs.uploads)).toBe(true);
        const settings = JSON.parse(uploads[1].content);
        // The hash is of bob's own password, at token mode's default cost.
        expect(bcrypt.compareSync("correct horse battery staple", settings.users[1].passwordHash)).toBe(true);
        expect(settings).toEqual({
            loginThrottle: { maxFailures: 10, maxFailuresPerAddress: 30, windowSeconds: 60, cooldownSeconds: 60, maxCooldownSeconds: 3600 },
            writeHoldSeconds: 120,
            issuer: "authenticated-registry token service",
            service: "registry.example.com:5443",
            lifetimeSeconds: 600,
            users: [
                {
                    username: "alice",
                    access: [{ repositories: ["**"], actions: ["pull", "push"] }],
                    catalog: true,
                    passwordHash: expect.stringMatching(/^\$2y\$12\$/),
                },
                {
                    username: "bob",
                    access: [{ repositories: ["**"], actions: ["pull"] }],
                    catalog: false,
                    passwordHash: expect.stringMatching(/^\$2y\$12\$/),
                },
            ],
        });
        expect(uploads[2].content).toBe("-----BEGIN PRIVATE KEY-----\ntok-token-signing-key pkcs8\n-----END PRIVATE KEY-----\n");
        expect(uploads[3].content).toBe("-----BEGIN CERTIFICATE-----\ntok-token-signing-certificate\n-----END CERTIFICATE-----\n");
    });

    test("the token service's container and signing material carry an alias to its TokenService of 0.1, and nginx waits for it", async () => {
        const tokenService = previousParent("TokenService", "tok-token");
        for (const name of ["tok-token-container", "tok-token-signing-key", "tok-token-signing-certificate"]) {
            expect({ name, aliases: await aliasesOf(name) }).toEqual({ name, aliases: [{ parent: tokenService }] });
        }
        expect(await aliasesOf("tok-token-image")).toBeUndefined();
        expect(await aliasesOf("tok-registry-container")).toEqual([{ parent: previousParent("RegistryServer", "tok-registry") }]);
        expect(await aliasesOf("tok-http-secret")).toEqual([
            { name: "tok-registry-http-secret", parent: previousParent("RegistryServer", "tok-registry") },
        ]);
        for (const name of ["tok-nginx-files", "tok-nginx-files-writer", "tok-nginx-container"]) {
            expect({ name, aliases: await aliasesOf(name) }).toEqual({
                name,
                aliases: [{ parent: previousParent("NginxAuthProxy", "tok-nginx") }],
            });
        }
        expect(options.get("tok-nginx-files-writer")!.dependsOn).toEqual([
            expect.objectContaining({ __name: "tok-registry-container" }),
            expect.objectContaining({ __name: "tok-token-container" }),
        ]);
    });

    test("the registry requires tokens of this issuer and service, signed by the service's key", () => {
        const envs = plain(find("tok-registry-container").inputs.envs) as string[];
        expect(envs.filter((e) => e.startsWith("REGISTRY_AUTH"))).toEqual([
            "REGISTRY_AUTH=token",
            "REGISTRY_AUTH_TOKEN_REALM=https://registry.example.com:5443/token",
            "REGISTRY_AUTH_TOKEN_SERVICE=registry.example.com:5443",
            "REGISTRY_AUTH_TOKEN_ISSUER=authenticated-registry token service",
            "REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE=/etc/distribution-auth/token-signing.crt",
        ]);
        expect(uploadsOf("tok-registry-container")).toEqual([
            {
                file: "/etc/distribution-auth/token-signing.crt",
                content: "-----BEGIN CERTIFICATE-----\ntok-token-signing-certificate\n-----END CERTIFICATE-----\n",
                permissions: "0644",
            },
        ]);
        // A basic-mode registry has no uploads at all, so one from before token mode keeps its container.
        expect(byName("reg-registry-container").inputs.uploads).toBeUndefined();
    });

    test("nginx gets no password file and renders token mode's routes", () => {
        const uploads = uploadsOf("tok-nginx-files-writer");
        expect(uploads.map((u) => u.file)).toEqual([
            "/etc/nginx/conf.d/registry.conf",
            "/etc/nginx/conf.d/default.conf",
            "/etc/nginx/conf.d/domain.crt",
            "/etc/nginx/conf.d/domain.key",
        ]);
        // The writer publishes what it has, and removes the password file a basic-mode set left.
        expect(find("tok-nginx-files-writer").inputs.command.slice(3)).toEqual([
            "files-writer",
            "registry.conf",
            "default.conf",
            "domain.crt",
            "domain.key",
        ]);
        expect(find("tok-nginx-container").inputs.uploads).toBeUndefined();
        const config = uploads[0].content;
        expect(config).toContain("set $token_upstream token-service:5001;");
        expect(config).toContain("limit_req_zone $binary_remote_addr zone=registry_token:1m rate=300r/m;");
        expect(config).not.toContain("auth_basic");
    });

    test("outputs name the mode and the token service", async () => {
        expect(tokenRegistry.authMode).toBe("token");
        expect(await valueOf(tokenRegistry.processNames)).toEqual({
            "token-service": "tok-token",
            registry: "tok-registry",
            proxy: "tok-nginx",
        });
        // In token mode the token service is the guard.
        expect(await valueOf(tokenRegistry.runtimeOutputs.guardContainerName)).toBe("tok-token");
        expect(registry.authMode).toBe("basic");
        expect(await valueOf(registry.processNames)).not.toHaveProperty("token-service");
    });

    test("token mode refuses a bad lifetime or restart policy of the token service before creating anything", async () => {
        const base = { domain: "localhost", users: [{ username: "ci" }] };
        expect(() => new components.AuthenticatedRegistry("lone1", { ...base, auth: { mode: "token", tokenLifetimeSeconds: 5 } })).toThrow(
            "auth.tokenLifetimeSeconds: 5 is not a token lifetime in seconds; expected an integer from 60 to 86400",
        );
        expect(
            () =>
                new components.AuthenticatedRegistry("lone2", {
                    ...base,
                    auth: { mode: "token" },
                    container: { restart: "sometimes" as never },
                }),
        ).toThrow('container.restart: "sometimes" is not a restart policy');
        expect((await registered()).filter((r) => r.custom && r.name.startsWith("lone"))).toEqual([]);
        // The restart policy is the container runtime's to check, for every role alike.
        expect(() => containerRuntime.checkSettings("container", { restart: "sometimes" })).toThrow(
            'container.restart: "sometimes" is not a restart policy; expected one of no, on-failure, always, unless-stopped',
        );
    });

    test.each([
        [{ mode: "kerberos" }, 'auth.mode: "kerberos" is not an auth mode; expected basic or token'],
        [{ mode: "basic", tokenLifetimeSeconds: 60 }, "auth.tokenLifetimeSeconds: applies to mode token only"],
        [
            { mode: "token", tokenLifetimeSeconds: 59 },
            "auth.tokenLifetimeSeconds: 59 is not a token lifetime in seconds; expected an integer from 60 to 86400",
        ],
        [{ mode: "token", tokenRequestsPerMinute: 0 }, "auth.tokenRequestsPerMinute: 0 is not a rate"],
        [{ mode: "token", tokenServiceImage: "Node:LTS" }, 'auth.tokenServiceImage: "Node:LTS" is not an image reference'],
        [{ mode: "token", lifetime: 60 }, "auth.lifetime: is not an auth setting; expected one of mode, tokenLifetimeSeconds"],
        ["token", 'auth: "token" is not an object'],
    ])("refuses auth %j before anything is created, naming the field", async (auth, message) => {
        const name = `badauth${Math.random().toString(36).slice(2, 8)}`;
        expect(
            () =>
                new components.AuthenticatedRegistry(name, {
                    domain: "localhost",
                    users: [{ username: "ci" }],
                    auth: auth as never,
                }),
        ).toThrow(message);
        expect((await registered()).filter((r) => r.custom && r.name.startsWith(name))).toEqual([]);
    });
});

describe("metrics", () => {
    let found: Registration[];
    const find = (name: string) => found.find((r) => r.name === name)!;
    beforeAll(async () => {
        const withMetrics = new components.AuthenticatedRegistry("met", {
            domain: "localhost",
            users: [{ username: "ci" }],
            container: { metricsPort: 9113 },
            nginxImage: "authenticated-registry/nginx:1.22-bookworm",
            registryImage: "authenticated-registry/registry:3.1-bookworm",
        });
        await valueOf(withMetrics.url);
        found = (await registered()).filter((r) => r.name.startsWith("met-"));
    });

    test("the registry's debug server serves Prometheus metrics on the private network only", () => {
        const inputs = find("met-registry-container").inputs;
        expect((plain(inputs.envs) as string[]).filter((e) => e.includes("DEBUG"))).toEqual([
            "REGISTRY_HTTP_DEBUG_ADDR=:5001",
            "REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED=true",
            "REGISTRY_HTTP_DEBUG_PROMETHEUS_PATH=/metrics",
        ]);
        expect(inputs.ports).toEqual([]);
        // Without metricsPort nothing of it is on.
        expect(plain(byName("reg-registry-container").inputs.envs)).not.toContainEqual(expect.stringContaining("DEBUG"));
    });

    test("nginx publishes its metrics server on loopback beside the HTTPS port, and proxies the registry's metrics", () => {
        const inputs = find("met-nginx-container").inputs;
        expect(inputs.ports).toEqual([
            { internal: 443, external: 5043, ip: "0.0.0.0", protocol: "tcp" },
            { internal: 9113, external: 9113, ip: "127.0.0.1", protocol: "tcp" },
        ]);
        const config = (plain(find("met-nginx-files-writer").inputs.uploads) as { file: string; content: string }[]).find((u) =>
            u.file.endsWith("registry.conf"),
        )!.content;
        expect(config).toContain("set $registry_metrics registry:5001;");
        expect(config).toContain("listen 9113;");
        expect(byName("reg-nginx-container").inputs.ports).toHaveLength(1);
    });

    test.each([
        [{ metricsPort: 9113, metricsAddress: "0.0.0.0" }, 'container.metricsAddress: "0.0.0.0" is not a loopback address'],
        [{ metricsPort: 70000 }, "container.metricsPort: 70000 is not a TCP port; expected an integer from 1 to 65535"],
        [{ metricsAddress: "10.0.0.1" }, 'container.metricsAddress: "10.0.0.1" is not a loopback address'],
    ])("refuses container settings %j before anything is created, naming the field", async (settings, message) => {
        const name = `badmetrics${Math.random().toString(36).slice(2, 8)}`;
        expect(
            () => new components.AuthenticatedRegistry(name, { domain: "localhost", users: [{ username: "ci" }], container: settings }),
        ).toThrow(message);
        expect((await registered()).filter((r) => r.custom && r.name.startsWith(name))).toEqual([]);
    });
});

describe("s3 storage", () => {
    let found: Registration[];
    let s3Registry: InstanceType<Components["AuthenticatedRegistry"]>;
    const find = (name: string) => found.find((r) => r.name === name);
    beforeAll(async () => {
        s3Registry = new components.AuthenticatedRegistry("obj", {
            domain: "localhost",
            users: [{ username: "ci" }],
            storage: {
                kind: "s3",
                bucket: "registry-images",
                endpoint: "http://minio:9000",
                accessKey: "registry",
                secretKey: pulumi.secret("s3-secret-key"),
                rootDirectory: "prod",
                network: "object-store",
            },
            nginxImage: "authenticated-registry/nginx:1.22-bookworm",
            registryImage: "authenticated-registry/registry:3.1-bookworm",
        });
        await valueOf(s3Registry.url);
        found = (await registered()).filter((r) => r.name.startsWith("obj-"));
    });

    test("no data volume; the registry stores in the bucket, credentials secret, on the endpoint's network too", async () => {
        expect(find("obj-data")).toBeUndefined();
        const inputs = find("obj-registry-container")!.inputs;
        expect(inputs.volumes).toEqual([]);
        expect(inputs.networksAdvanced).toEqual([{ name: "obj-network", aliases: ["registry"] }, { name: "object-store" }]);
        expect(isSecretInput(inputs.envs)).toBe(true);
        expect((plain(inputs.envs) as string[]).filter((e) => e.startsWith("REGISTRY_STORAGE"))).toEqual([
            "REGISTRY_STORAGE=s3",
            "REGISTRY_STORAGE_S3_BUCKET=registry-images",
            "REGISTRY_STORAGE_S3_REGION=us-east-1",
            "REGISTRY_STORAGE_S3_REGIONENDPOINT=http://minio:9000",
            "REGISTRY_STORAGE_S3_FORCEPATHSTYLE=true",
            "REGISTRY_STORAGE_S3_SECURE=false",
            "REGISTRY_STORAGE_S3_ROOTDIRECTORY=prod",
            "REGISTRY_STORAGE_REDIRECT_DISABLE=true",
            "REGISTRY_STORAGE_S3_ACCESSKEY=registry",
            "REGISTRY_STORAGE_S3_SECRETKEY=s3-secret-key",
            "REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR=",
        ]);
        expect(await valueOf(s3Registry.volumeName)).toBeUndefined();
    });

    test.each([
        [{ kind: "gcs" }, 'storage.kind: "gcs" is not a storage kind; expected filesystem or s3'],
        [{ kind: "filesystem", bucket: "x" }, "storage.bucket: applies to kind s3 only"],
        [{ kind: "s3", bucket: "My_Bucket", accessKey: "a", secretKey: "b" }, 'storage.bucket: "My_Bucket" is not a bucket name'],
        [{ kind: "s3", bucket: "images", accessKey: "a" }, "storage.secretKey: is required; pass it as a secret"],
        [{ kind: "s3", bucket: "images", accessKey: "", secretKey: "b" }, "storage.accessKey: must be a non-empty string"],
        [
            { kind: "s3", bucket: "images", accessKey: "a", secretKey: "b", endpoint: "minio:9000" },
            'storage.endpoint: "minio:9000" is not an endpoint URL',
        ],
        [{ kind: "s3", bucket: "images", accessKey: "a", secretKey: "b", region: "Europe" }, 'storage.region: "Europe" is not a region'],
        [{ kind: "s3", bucket: "images", accessKey: "a", secretKey: "b", acl: "private" }, "storage.acl: is not an s3 storage setting"],
    ])("refuses storage %j before anything is created, naming the field", async (storage, message) => {
        const name = `badstore${Math.random().toString(36).slice(2, 8)}`;
        expect(
            () =>
                new components.AuthenticatedRegistry(name, { domain: "localhost", users: [{ username: "ci" }], storage: storage as never }),
        ).toThrow(message);
        expect((await registered()).filter((r) => r.custom && r.name.startsWith(name))).toEqual([]);
    });

    test("refuses the volume's settings with s3 storage", () => {
        const storage = { kind: "s3" as const, bucket: "images", accessKey: "a", secretKey: "b" };
        expect(
            () =>
                new components.AuthenticatedRegistry("vol1", {
                    domain: "localhost",
                    users: [{ username: "ci" }],
                    storage,
                    dataVolumeName: "old",
                }),
        ).toThrow("dataVolumeName: applies to filesystem storage only");
        expect(
            () =>
                new components.AuthenticatedRegistry("vol2", {
                    domain: "localhost",
                    users: [{ username: "ci" }],
                    storage,
                    deleteDataOnDestroy: true,
                }),
        ).toThrow("deleteDataOnDestroy: applies to filesystem storage only");
    });
});
