/** The swarm runtime under mocks: the same roles as on a single host, as Swarm services. */
import * as pulumi from "@pulumi/pulumi";
import { validateUserAccess } from "../components/access";
import { renderNginxConfig } from "../components/nginxConfig";
import { renderEdgeConfig } from "../components/roles/edge";
import { shellAssignment, swarmObjectName } from "../components/runtimes/swarm/roleService";
import { installMocks, isSecretInput, parentChain, plain, registered, Registration, valueOf } from "./mocks";

beforeAll(installMocks);

type Components = typeof import("../components");
let components: Components;
let found: Registration[];
let registry: InstanceType<Components["AuthenticatedRegistry"]>;
/** Resource options as each resource was created with, captured by a transformation. */
const options = new Map<string, pulumi.ResourceOptions>();
const capture: pulumi.ResourceTransformation = (args) => {
    options.set(args.name, args.opts);
    return undefined;
};

const top = "authenticated-registry:index:AuthenticatedRegistry";
const images = { nginxImage: "authenticated-registry/nginx:1.22-bookworm", registryImage: "authenticated-registry/registry:3.1-bookworm" };
const pinned = ["node.hostname==vm"];
const byName = (name: string): Registration => {
    const hit = found.find((r) => r.name === name);
    if (hit === undefined) throw new Error(`no resource named ${name}; have ${found.map((r) => r.name).join(", ")}`);
    return hit;
};
/** The secrets' or configs' files of a service, as [path, mode, object name]. */
const mounted = (service: Registration, kind: "secrets" | "configs") =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded inputs
    (plain(service.inputs.taskSpec).containerSpec[kind] ?? []).map((f: any) => [
        f.fileName,
        f.fileMode.toString(8),
        f[kind === "secrets" ? "secretName" : "configName"],
    ]);

beforeAll(async () => {
    components = await import("../components");
    registry = new components.AuthenticatedRegistry(
        "sw",
        {
            domain: "localhost",
            port: 5443,
            users: [
                { username: "alice" },
                { username: "ci", password: "ci-password", access: [{ repositories: ["ci/**"], actions: ["pull", "push"] }] },
            ],
            tls: { ipAddresses: ["127.0.0.1"] },
            runtime: "swarm",
            swarm: { constraints: pinned, publishMode: "host" },
            ...images,
        },
        { transformations: [capture] },
    );
    await valueOf(registry.url);
    found = (await registered()).filter((r) => r.name === "sw" || r.name.startsWith("sw-"));
});

test("creates exactly the expected resources: TLS, credentials, an overlay, the volume, and three services with their files", () => {
    const own = found.filter((r) => parentChain(r) === top).map((r) => [r.type, r.name]);
    expect(own.sort()).toEqual(
        [
            ["authenticated-registry:index:TlsMaterial", "sw-tls"],
            ["authenticated-registry:index:HtpasswdCredentials", "sw-credentials"],
            ["docker:index/network:Network", "sw-network"],
            ["docker:index/volume:Volume", "sw-data"],
            ["random:index/randomPassword:RandomPassword", "sw-http-secret"],
            ["docker:index/secret:Secret", "sw-registry-environment"],
            ["docker:index/service:Service", "sw-registry"],
            ["docker:index/serviceConfig:ServiceConfig", "sw-nginx-registry-conf"],
            ["docker:index/serviceConfig:ServiceConfig", "sw-nginx-default-conf"],
            ["docker:index/secret:Secret", "sw-nginx-registry-password"],
            ["docker:index/serviceConfig:ServiceConfig", "sw-nginx-domain-crt"],
            ["docker:index/secret:Secret", "sw-nginx-domain-key"],
            ["docker:index/service:Service", "sw-nginx"],
            ["docker:index/serviceConfig:ServiceConfig", "sw-edge-nginx-conf"],
            ["docker:index/service:Service", "sw-edge"],
            ["docker:index/serviceConfig:ServiceConfig", "sw-guard-token-service-js"],
            ["docker:index/serviceConfig:ServiceConfig", "sw-guard-settings-json"],
            ["docker:index/service:Service", "sw-guard"],
        ].sort(),
    );
    // No containers and no uploads: every file is a Swarm secret or config.
    expect(found.filter((r) => r.type === "docker:index/container:Container")).toEqual([]);
    // Nothing else: the TLS material's and the credentials' own parts.
    expect(new Set(found.filter((r) => r.name !== "sw" && parentChain(r) !== top).map(parentChain))).toEqual(
        new Set(["authenticated-registry:index:TlsMaterial", "authenticated-registry:index:HtpasswdCredentials"]),
    );
});

test("the component carries an alias to 0.1's SwarmRegistry, which moves its resources, named as they were, with it", () => {
    expect(options.get("sw")!.aliases).toEqual([{ type: "authenticated-registry:index:SwarmRegistry" }]);
    // Its resources had these names under SwarmRegistry: the component's alias is all they need.
    for (const r of found.filter((r) => r.name !== "sw")) {
        expect({ name: r.name, aliases: options.get(r.name)!.aliases }).toEqual({ name: r.name, aliases: undefined });
    }
});

test("nginx starts after the registry and the guard, the edge after nginx; the others wait for nothing", () => {
    expect(options.get("sw-nginx")!.dependsOn).toEqual([
        expect.objectContaining({ __name: "sw-registry" }),
        expect.objectContaining({ __name: "sw-guard" }),
    ]);
    expect(options.get("sw-edge")!.dependsOn).toEqual([expect.objectContaining({ __name: "sw-nginx" })]);
    expect(options.get("sw-registry")!.dependsOn).toBeUndefined();
    expect(options.get("sw-guard")!.dependsOn).toBeUndefined();
});

test("basic mode's guard is one task, so its counts and its hold on writes are whole, with its program and limits as configs", () => {
    const inputs = plain(byName("sw-guard").inputs);
    expect(inputs.mode).toEqual({ replicated: { replicas: 1 } });
    expect(inputs.endpointSpec).toEqual({ mode: "dnsrr" });
    expect(inputs.taskSpec.containerSpec.commands).toEqual(["node", "/opt/token-service/token-service.js"]);
    expect(mounted(byName("sw-guard"), "configs").map(([file, mode]: string[]) => [file, mode])).toEqual([
        ["/opt/token-service/token-service.js", "644"],
        ["/etc/token-service/settings.json", "644"],
    ]);
    expect(mounted(byName("sw-guard"), "secrets")).toEqual([]);
    expect(JSON.parse(Buffer.from(byName("sw-guard-settings-json").inputs.data, "base64").toString())).toEqual({
        loginThrottle: { maxFailures: 10, maxFailuresPerAddress: 30, windowSeconds: 60, cooldownSeconds: 60, maxCooldownSeconds: 3600 },
        writeHoldSeconds: 120,
    });
});

test("the network is an attachable overlay and the volume is kept on destroy", () => {
    expect(byName("sw-network").inputs).toMatchObject({ name: "sw-network", driver: "overlay", attachable: true });
    expect(byName("sw-data").inputs.name).toBe("sw-data");
});

test("both roles run two tasks, pinned as asked, rolled one at a time start-first, found by DNS round robin", () => {
    for (const name of ["sw-registry", "sw-nginx"]) {
        const inputs = plain(byName(name).inputs);
        expect(inputs.name).toBe(name);
        expect(inputs.mode).toEqual({ replicated: { replicas: 2 } });
        expect(inputs.taskSpec.placement).toEqual({ constraints: pinned });
        expect(inputs.taskSpec.networksAdvanceds).toEqual([{ id: "sw-network-id" }]);
        expect(inputs.updateConfig).toEqual({
            parallelism: 1,
            order: "start-first",
            failureAction: "rollback",
            monitor: "5s",
            delay: "1s",
        });
        expect(inputs.rollbackConfig).toEqual({ ...inputs.updateConfig, failureAction: "pause" });
        expect(inputs.endpointSpec).toEqual({ mode: "dnsrr" });
        expect(inputs.taskSpec.containerSpec.healthcheck).toMatchObject({ interval: "1s", retries: 3 });
    }
});

test("the registry keeps images on the volume; its HTTP secret, one for every task, is in a Swarm secret, not the service", async () => {
    const inputs = byName("sw-registry").inputs;
    const spec = inputs.taskSpec.containerSpec;
    expect(isSecretInput(inputs.taskSpec)).toBe(false);
    expect(spec.image).toBe(images.registryImage);
    expect(spec.mounts).toEqual([{ type: "volume", source: "sw-data", target: "/data" }]);
    expect(spec.env).toEqual({
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: "/data",
        REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR: "",
        OTEL_TRACES_EXPORTER: "none",
    });
    // The task's shell reads the secret file, then runs the image's own start.
    expect(spec.commands.slice(0, 4)).toEqual(["/bin/sh", "-c", 'set -a && . "$0" && set +a && exec "$@"', "/run/secrets/environment"]);
    expect(spec.commands[6]).toContain("exec /entrypoint.sh");
    expect(mounted(byName("sw-registry"), "secrets").map(([file, mode]: string[]) => [file, mode])).toEqual([
        ["/run/secrets/environment", "400"],
    ]);
    const secret = byName("sw-registry-environment").inputs.data;
    expect(isSecretInput(secret)).toBe(true);
    expect(Buffer.from(plain(secret) as string, "base64").toString()).toMatch(/^REGISTRY_HTTP_SECRET='[A-Za-z0-9]{40,48}'\n$/);
    expect(
        found.filter((r) => r.type === "random:index/randomPassword:RandomPassword" && r.name.includes("http")).map((r) => r.name),
    ).toEqual(["sw-http-secret"]);
});

test("secret environment is quoted for the shell, whatever it holds", () => {
    expect(shellAssignment("KEY=it's $HOME")).toBe("KEY='it'\\''s $HOME'");
    expect(shellAssignment("EMPTY=")).toBe("EMPTY=''");
});

test("nginx gets the shared config and material as content-named configs and secrets, keys root-only", async () => {
    const nginx = byName("sw-nginx");
    expect(mounted(nginx, "configs").map(([file, mode]: string[]) => [file, mode])).toEqual([
        ["/etc/nginx/conf.d/registry.conf", "644"],
        ["/etc/nginx/conf.d/default.conf", "644"],
        ["/etc/nginx/conf.d/domain.crt", "644"],
    ]);
    expect(mounted(nginx, "secrets").map(([file, mode]: string[]) => [file, mode])).toEqual([
        ["/etc/nginx/conf.d/registry.password", "644"],
        ["/etc/nginx/conf.d/domain.key", "600"],
    ]);
    const users = validateUserAccess("users", [
        { username: "alice" },
        { username: "ci", access: [{ repositories: ["ci/**"], actions: ["pull", "push"] }] },
    ]);
    const config = renderNginxConfig({
        serverName: "localhost",
        realm: "localhost",
        upstream: "sw-registry:5000",
        listenPort: 443,
        users,
        guard: { upstream: "sw-guard:5001", loginThrottle: true, writeHoldSeconds: 120 },
    });
    const configObject = byName("sw-nginx-registry-conf").inputs;
    expect(Buffer.from(configObject.data, "base64").toString()).toBe(config);
    // Labelled with where it belongs and the path it is read at, and nothing that changes with other settings.
    expect(configObject.labels).toEqual([
        { label: "authenticated-registry.instance", value: "sw" },
        { label: "authenticated-registry.role", value: "proxy" },
        { label: "authenticated-registry.file", value: "/etc/nginx/conf.d/registry.conf" },
    ]);
    expect(configObject.name).toBe(swarmObjectName("sw-nginx", "/etc/nginx/conf.d/registry.conf", config, configObject.labels));
    const password = byName("sw-nginx-registry-password").inputs;
    expect(isSecretInput(password.data)).toBe(true);
    expect(Buffer.from(plain(password.data), "base64").toString()).toBe(await valueOf(registry.htpasswd));
    expect(isSecretInput(byName("sw-nginx-domain-key").inputs.data)).toBe(true);
    // The service names each object as the object is named.
    expect(mounted(nginx, "configs")[0][2]).toBe(configObject.name);
    expect(plain(nginx.inputs.taskSpec).containerSpec.stopSignal).toBe("SIGQUIT");
    // The supplied password reaches the engine only inside secret values.
    expect(JSON.stringify(found.map((r) => r.inputs))).not.toMatch(/ci-password/);
});

test("a file's object name changes with its content and labels, so any change rolls the service onto a new object", () => {
    const labelled = (value: string) => [{ label: "authenticated-registry.role", value }];
    expect(swarmObjectName("s", "/f", "same", labelled("proxy"))).not.toBe(swarmObjectName("s", "/f", "same", labelled("edge")));
    const name = swarmObjectName;
    expect(name("sw-nginx", "/etc/nginx/conf.d/domain.key", "key one")).toMatch(/^sw-nginx-domain\.key-[0-9a-f]{12}$/);
    expect(name("sw-nginx", "/etc/nginx/conf.d/domain.key", "key one")).toBe(name("sw-nginx", "/etc/nginx/conf.d/domain.key", "key one"));
    expect(name("sw-nginx", "/etc/nginx/conf.d/domain.key", "key two")).not.toBe(
        name("sw-nginx", "/etc/nginx/conf.d/domain.key", "key one"),
    );
});

test("host mode: the edge holds the port on every node and passes TLS through to the nginx tasks", () => {
    const edge = plain(byName("sw-edge").inputs);
    expect(edge.mode).toEqual({ global: true });
    // It holds the node's port, so its successor can only start once it has stopped.
    expect(edge.updateConfig.order).toBe("stop-first");
    expect(edge.rollbackConfig.order).toBe("stop-first");
    // Not the proxy's image: a new nginxImage rolls the proxy and leaves the edge alone.
    expect(edge.taskSpec.containerSpec.image).toBe(components.defaults.nginxImage);
    expect(edge.endpointSpec).toEqual({
        mode: "dnsrr",
        ports: [{ targetPort: 443, publishedPort: 5443, protocol: "tcp", publishMode: "host" }],
    });
    const config = Buffer.from(byName("sw-edge-nginx-conf").inputs.data, "base64").toString();
    expect(config).toBe(renderEdgeConfig({ proxyTasks: "tasks.sw-nginx", proxyPort: 443, listenPort: 443 }));
    expect(config).toContain("default tasks.sw-nginx:443;");
    expect(config).not.toMatch(/ssl_certificate|auth_basic/);
    expect(plain(byName("sw-nginx").inputs.endpointSpec)).toEqual({ mode: "dnsrr" });
});

test("outputs: address, CA, service names, secrets secret", async () => {
    expect(await valueOf(registry.url)).toBe("https://localhost:5443");
    expect(registry.runtime).toBe("swarm");
    expect(await valueOf(registry.processNames)).toEqual({
        guard: "sw-guard",
        registry: "sw-registry",
        proxy: "sw-nginx",
        edge: "sw-edge",
    });
    const outputs = registry.runtimeOutputs;
    expect(Object.keys(outputs).sort()).toEqual(["edgeServiceName", "guardServiceName", "proxyServiceName", "registryServiceName"]);
    expect(await valueOf(outputs.proxyServiceName)).toBe("sw-nginx");
    expect(await valueOf(outputs.registryServiceName)).toBe("sw-registry");
    expect(await valueOf(outputs.guardServiceName)).toBe("sw-guard");
    expect(await valueOf(outputs.edgeServiceName)).toBe("sw-edge");
    expect(outputs.tokenServiceName).toBeUndefined();
    expect(await valueOf(registry.networkName)).toBe("sw-network");
    expect(await valueOf(registry.volumeName)).toBe("sw-data");
    expect(await pulumi.isSecret(registry.passwords)).toBe(true);
});

describe("ingress mode, s3 storage, token auth", () => {
    let other: Registration[];
    let swarm: InstanceType<Components["AuthenticatedRegistry"]>;
    beforeAll(async () => {
        swarm = new components.AuthenticatedRegistry(
            "mesh",
            {
                domain: "registry.example.com",
                users: [{ username: "ci" }],
                auth: { mode: "token" },
                runtime: "swarm",
                swarm: { replicas: { proxy: 3, registry: 4, tokenService: 1 } },
                storage: {
                    kind: "s3",
                    bucket: "images",
                    endpoint: "http://minio:9000",
                    accessKey: "a",
                    secretKey: pulumi.secret("s3-secret"),
                },
                ...images,
            },
            { transformations: [capture] },
        );
        await valueOf(swarm.url);
        other = (await registered()).filter((r) => r.name.startsWith("mesh-"));
    });
    const get = (name: string) => plain(other.find((r) => r.name === name)!.inputs);

    test("nginx is published through the routing mesh on a virtual IP; no edge, no volume", () => {
        expect(get("mesh-nginx").endpointSpec).toEqual({
            mode: "vip",
            ports: [{ targetPort: 443, publishedPort: 5043, protocol: "tcp", publishMode: "ingress" }],
        });
        expect(other.map((r) => r.name)).not.toContain("mesh-edge");
        expect(other.map((r) => r.name)).not.toContain("mesh-data");
        expect(get("mesh-registry").taskSpec.containerSpec.mounts).toBeUndefined();
        expect(get("mesh-registry").taskSpec.placement).toEqual({ constraints: [] });
    });

    test("replicas per role as asked", () => {
        expect(get("mesh-nginx").mode).toEqual({ replicated: { replicas: 3 } });
        expect(get("mesh-registry").mode).toEqual({ replicated: { replicas: 4 } });
        expect(get("mesh-token").mode).toEqual({ replicated: { replicas: 1 } });
    });

    test("the token service runs as a service; the registry checks its tokens; nginx has no password file", () => {
        const env = get("mesh-registry").taskSpec.containerSpec.env;
        expect(env.REGISTRY_AUTH).toBe("token");
        expect(env.REGISTRY_AUTH_TOKEN_REALM).toBe("https://registry.example.com:5043/token");
        expect(env.REGISTRY_STORAGE).toBe("s3");
        expect(env.REGISTRY_STORAGE_S3_SECRETKEY).toBeUndefined();
        const secretEnvironment = Buffer.from(get("mesh-registry-environment").data, "base64").toString();
        expect(secretEnvironment).toMatch(
            /^REGISTRY_STORAGE_S3_ACCESSKEY='a'\nREGISTRY_STORAGE_S3_SECRETKEY='s3-secret'\nREGISTRY_HTTP_SECRET='[A-Za-z0-9]+'\n$/,
        );
        expect(other.map((r) => r.name)).not.toContain("mesh-nginx-registry-password");
        expect(
            other
                .filter((r) => r.type === "docker:index/secret:Secret")
                .map((r) => r.name)
                .sort(),
        ).toEqual(["mesh-nginx-domain-key", "mesh-registry-environment", "mesh-token-settings-json", "mesh-token-signing-key"].sort());
        expect(get("mesh-token").taskSpec.containerSpec.commands).toEqual(["node", "/opt/token-service/token-service.js"]);
    });

    test("the token service is the guard: nginx waits for it, and the outputs name it twice", async () => {
        expect(other.map((r) => r.name)).not.toContain("mesh-guard");
        expect(options.get("mesh-nginx")!.dependsOn).toEqual([
            expect.objectContaining({ __name: "mesh-registry" }),
            expect.objectContaining({ __name: "mesh-token" }),
        ]);
        // Its signing key and certificate had these names under SwarmRegistry too.
        expect(options.get("mesh-token-signing-key")!.aliases).toBeUndefined();
        expect(options.get("mesh-token-signing-certificate")!.aliases).toBeUndefined();
        expect(options.get("mesh")!.aliases).toEqual([{ type: "authenticated-registry:index:SwarmRegistry" }]);
        expect(await valueOf(swarm.processNames)).toEqual({
            "token-service": "mesh-token",
            registry: "mesh-registry",
            proxy: "mesh-nginx",
        });
        expect(await valueOf(swarm.runtimeOutputs.tokenServiceName)).toBe("mesh-token");
        expect(await valueOf(swarm.runtimeOutputs.guardServiceName)).toBe("mesh-token");
        expect(swarm.runtimeOutputs.edgeServiceName).toBeUndefined();
        expect(await valueOf(swarm.volumeName)).toBeUndefined();
    });
});

describe("refusals name the field and create nothing", () => {
    const settings = { constraints: pinned };
    test.each([
        [
            { swarm: undefined },
            "swarm.constraints: must pin every task to one node (node.hostname==NAME or node.id==ID) with filesystem storage",
        ],
        [
            { swarm: { constraints: undefined } },
            "swarm.constraints: must pin every task to one node (node.hostname==NAME or node.id==ID) with filesystem storage",
        ],
        [{ swarm: { constraints: ["node.role==manager"] } }, "swarm.constraints: must pin every task to one node"],
        [
            { swarm: { constraints: ["node.role"] } },
            'swarm.constraints[0]: "node.role" is not a placement constraint; expected ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE',
        ],
        [{ swarm: { constraints: "node.hostname==vm" } }, 'swarm.constraints: "node.hostname==vm" is not a list'],
        [
            { swarm: { ...settings, replicas: { proxy: 0 } } },
            "swarm.replicas.proxy: 0 is not a task count; expected an integer from 1 to 32",
        ],
        [{ swarm: { ...settings, replicas: { registry: 2.5 } } }, "swarm.replicas.registry: 2.5 is not a task count"],
        [
            { swarm: { ...settings, replicas: { nginx: 2 } } },
            "swarm.replicas.nginx: is not a role; expected one of proxy, registry, tokenService",
        ],
        [{ swarm: { ...settings, publishMode: "mesh" } }, 'swarm.publishMode: "mesh" is not a publish mode; expected one of ingress, host'],
        [{ swarm: { ...settings, edgeImage: "Nginx:1.28" } }, 'swarm.edgeImage: "Nginx:1.28" is not an image reference'],
        [
            { swarm: { ...settings, replica: 2 } },
            "swarm.replica: is not a swarm setting; expected one of replicas, constraints, publishMode, edgeImage",
        ],
        [{ port: 70000 }, "port: 70000 is not a TCP port; expected an integer from 1 to 65535"],
        [{ container: { restart: "always" } }, "container: applies to runtime container only; set runtime: container or remove it"],
    ])("refuses %j", async (bad, message) => {
        const name = `badswarm${Math.random().toString(36).slice(2, 8)}`;
        expect(
            () =>
                new components.AuthenticatedRegistry(name, {
                    domain: "localhost",
                    users: [{ username: "ci" }],
                    runtime: "swarm",
                    swarm: settings,
                    ...images,
                    ...(bad as object),
                }),
        ).toThrow(message);
        expect((await registered()).filter((r) => r.custom && r.name.startsWith(name))).toEqual([]);
    });
});
