/**
 * Pull-through mirrors: the settings' checks, and what each runtime runs for a mirror: a registry
 * of its own in proxy mode, on the registry's storage under its own prefix, reached by nginx only,
 * its upstream's password a secret.
 */
import { validateMirrors } from "../components/mirrors";
import { checkCredentialsSecret, checkRegistryPortsLoopback } from "../policy/rules";
import { installMocks, isSecretInput, plain, registered, Registration, valueOf } from "./mocks";

beforeAll(installMocks);

type Components = typeof import("../components");
let components: Components;
beforeAll(async () => {
    components = await import("../components");
});

const images = {
    nginxImage: "authenticated-registry/nginx:1.22-bookworm",
    registryImage: "authenticated-registry/registry:3.1-bookworm",
    guardImage: "authenticated-registry/node:22-bookworm",
};
const hub = { name: "hub", remoteUrl: "https://registry-1.docker.io", username: "puller", password: "upstream-token", ttl: "24h" };
const byName = (found: Registration[], name: string): Registration => {
    const hit = found.find((r) => r.name === name);
    if (hit === undefined) throw new Error(`no resource named ${name}; have ${found.map((r) => r.name).join(", ")}`);
    return hit;
};
/** A registry named `name` with the mirror `hub` (and `quay`, anonymous), in the runtime `settings` say. */
async function mirrored(name: string, settings: Record<string, unknown>): Promise<Registration[]> {
    const registry = new components.AuthenticatedRegistry(name, {
        domain: "localhost",
        users: [{ username: "ci" }],
        mirrors: [hub, { name: "quay", remoteUrl: "https://quay.io/" }],
        ...images,
        ...settings,
    });
    await valueOf(registry.url);
    return (await registered()).filter((r) => r.name.startsWith(`${name}-`));
}

describe("settings", () => {
    test("are checked and filled in; an anonymous mirror has no credentials", () => {
        expect(validateMirrors("mirrors", undefined)).toEqual([]);
        expect(validateMirrors("mirrors", [hub, { name: "quay", remoteUrl: "https://quay.io/" }])).toEqual([
            {
                name: "hub",
                remoteUrl: "https://registry-1.docker.io",
                credentials: { username: "puller", password: "upstream-token" },
                ttl: "24h",
            },
            { name: "quay", remoteUrl: "https://quay.io", credentials: undefined, ttl: undefined },
        ]);
    });

    test.each([
        [{ remoteUrl: "https://quay.io" }, "mirrors[0].name: undefined is not a mirror name; expected lower-case letters"],
        [{ name: "Hub", remoteUrl: "https://quay.io" }, 'mirrors[0].name: "Hub" is not a mirror name'],
        [{ name: "docker.io", remoteUrl: "https://quay.io" }, 'mirrors[0].name: "docker.io" is not a mirror name'],
        [{ name: "-hub", remoteUrl: "https://quay.io" }, 'mirrors[0].name: "-hub" is not a mirror name'],
        [{ name: "hub", remoteUrl: "registry-1.docker.io" }, 'mirrors[0].remoteUrl: "registry-1.docker.io" is not a registry URL'],
        [
            { name: "hub", remoteUrl: "https://quay.io/v2/library" },
            'mirrors[0].remoteUrl: "https://quay.io/v2/library" is not a registry URL',
        ],
        [
            { name: "hub", remoteUrl: "https://quay.io", username: "u" },
            "mirrors[0].password: is required with the other of username and password",
        ],
        [
            { name: "hub", remoteUrl: "https://quay.io", password: "p" },
            "mirrors[0].username: is required with the other of username and password",
        ],
        [{ name: "hub", remoteUrl: "https://quay.io", username: "u", password: "" }, "mirrors[0].password: must be a non-empty string"],
        [
            { name: "hub", remoteUrl: "https://quay.io", ttl: "7d" },
            'mirrors[0].ttl: "7d" is not a duration; expected hours, minutes or seconds',
        ],
        [{ name: "hub", remoteUrl: "https://quay.io", ttl: 3600 }, "mirrors[0].ttl: 3600 is not a duration"],
        [
            { name: "hub", remoteUrl: "https://quay.io", upstream: "x" },
            "mirrors[0].upstream: is not a mirror setting; expected one of name, remoteUrl, username, password, ttl",
        ],
    ])("refuses %j, naming the field", (mirror, message) => {
        expect(() => validateMirrors("mirrors", [mirror])).toThrow(message);
    });

    test("refuses two mirrors of one name, and anything but a list", () => {
        expect(() => validateMirrors("mirrors", [hub, { ...hub, remoteUrl: "https://quay.io" }])).toThrow(
            'mirrors[1].name: "hub" names an earlier mirror too',
        );
        expect(() => validateMirrors("mirrors", { hub })).toThrow("mirrors: an object is not a list; expected mirrors such as");
    });

    test("a bad mirror fails the component before anything is created", async () => {
        expect(
            () =>
                new components.AuthenticatedRegistry("badmirror", {
                    domain: "localhost",
                    users: [{ username: "ci" }],
                    mirrors: [{ name: "hub", remoteUrl: "ftp://hub" }],
                }),
        ).toThrow('mirrors[0].remoteUrl: "ftp://hub" is not a registry URL');
        expect((await registered()).filter((r) => r.custom && r.name.startsWith("badmirror"))).toEqual([]);
    });
});

describe("on one host", () => {
    let found: Registration[];
    beforeAll(async () => {
        found = await mirrored("mh", { container: { bindAddress: "127.0.0.1", directAccessPort: 15999 } });
    });

    test("each mirror is a registry container of its own, known on the network by its role, publishing nothing", () => {
        const container = byName(found, "mh-mirror-hub-container").inputs;
        expect(plain(container.name)).toBe("mh-mirror-hub");
        expect(plain(container.networksAdvanced)).toEqual([{ name: "mh-network", aliases: ["mirror-hub"] }]);
        // The direct port is the registry's alone.
        expect(plain(container.ports)).toEqual([]);
        expect(plain(byName(found, "mh-registry-container").inputs.ports)).toEqual([
            { internal: 5000, external: 15999, ip: "127.0.0.1", protocol: "tcp" },
        ]);
        expect(plain(container.labels)).toContainEqual({ label: "authenticated-registry.role", value: "mirror-hub" });
        expect(byName(found, "mh-mirror-quay-container")).toBeDefined();
    });

    test("in proxy mode on the data volume under mirrors/NAME, the upstream's password a secret", () => {
        const container = byName(found, "mh-mirror-hub-container").inputs;
        expect(plain(container.volumes)).toEqual([{ volumeName: "mh-data", containerPath: "/data" }]);
        expect(isSecretInput(container.envs)).toBe(true);
        const env = plain(container.envs) as string[];
        expect(env.filter((e) => /^REGISTRY_(PROXY|STORAGE_FILESYSTEM|AUTH|STORAGE_DELETE|NOTIFICATIONS)/.test(e))).toEqual([
            "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/data/mirrors/hub",
            "REGISTRY_PROXY_REMOTEURL=https://registry-1.docker.io",
            "REGISTRY_PROXY_USERNAME=puller",
            "REGISTRY_PROXY_PASSWORD=upstream-token",
            "REGISTRY_PROXY_TTL=24h",
        ]);
        const quay = plain(byName(found, "mh-mirror-quay-container").inputs.envs) as string[];
        expect(quay.filter((e) => e.startsWith("REGISTRY_PROXY"))).toEqual(["REGISTRY_PROXY_REMOTEURL=https://quay.io"]);
        // The registry's own root stays the volume's root: a collection there never walks a cache.
        expect(plain(byName(found, "mh-registry-container").inputs.envs)).toContain("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/data");
    });

    test("nginx routes each mirror by its role's name", () => {
        const uploads = plain(byName(found, "mh-nginx-files-writer").inputs.uploads) as { file: string; content: string }[];
        const config = uploads.find((upload) => upload.file.endsWith("registry.conf"))!.content;
        expect(config).toContain("  hub mirror-hub:5000;\n  quay mirror-quay:5000;\n");
        expect(config).toContain('  "~^/v2/hub(?:/');
    });

    test("the policy pack judges a mirror as a registry: unpublished, its secrets stored encrypted", () => {
        const container = byName(found, "mh-mirror-hub-container");
        const view = { type: container.type, props: plain(container.inputs), opts: { additionalSecretOutputs: ["envs"] } };
        expect(checkRegistryPortsLoopback(view)).toEqual({ violations: [] });
        expect(checkCredentialsSecret(view)).toEqual({ violations: [] });
        const published = { ...view, props: { ...view.props, ports: [{ internal: 5000, external: 5001, ip: "0.0.0.0" }] } };
        expect(checkRegistryPortsLoopback(published)).toEqual({
            violations: [
                "ports[0] publishes the registry's port 5000 on 0.0.0.0; the registry answers without authentication, so it may only be published on 127.0.0.0/8 or ::1",
            ],
        });
        expect(checkCredentialsSecret({ ...view, opts: {} })).toEqual({
            violations: [
                "envs holds REGISTRY_HTTP_SECRET and the upstream's REGISTRY_PROXY_PASSWORD but is not in additionalSecretOutputs, so the state is not guaranteed to store it encrypted",
            ],
        });
    });
});

test("on s3 storage a mirror's cache is under the root's mirrors/NAME", async () => {
    const found = await mirrored("ms", {
        storage: { kind: "s3", bucket: "images", endpoint: "http://minio:9000", accessKey: "a", secretKey: "b", rootDirectory: "prod/" },
    });
    const env = plain(byName(found, "ms-mirror-hub-container").inputs.envs) as string[];
    expect(env).toContain("REGISTRY_STORAGE_S3_ROOTDIRECTORY=prod/mirrors/hub");
    expect(plain(byName(found, "ms-registry-container").inputs.envs)).toContain("REGISTRY_STORAGE_S3_ROOTDIRECTORY=prod/");
    const bare = await mirrored("mb", { storage: { kind: "s3", bucket: "images", accessKey: "a", secretKey: "b" } });
    expect(plain(byName(bare, "mb-mirror-quay-container").inputs.envs)).toContain("REGISTRY_STORAGE_S3_ROOTDIRECTORY=/mirrors/quay");
});

test("on a swarm a mirror is a service of its own, with the registry's tasks, on the overlay only", async () => {
    const found = await mirrored("sw", { runtime: "swarm", swarm: { replicas: { registry: 1 }, constraints: ["node.hostname==one"] } });
    const service = plain(byName(found, "sw-mirror-hub").inputs);
    expect(service.name).toBe("sw-mirror-hub");
    expect(service.mode).toEqual({ replicated: { replicas: 1 } });
    expect(service.endpointSpec?.ports ?? []).toEqual([]);
    expect(service.taskSpec.containerSpec.mounts).toEqual([{ type: "volume", source: "sw-data", target: "/data" }]);
});

test("on Kubernetes a mirror is a Deployment and ClusterIP Service of its own, reachable from the proxy only", async () => {
    const found = await mirrored("ku", { runtime: "kubernetes", kubernetes: { storageClass: "local" } });
    const deployment = plain(byName(found, "ku-mirror-hub").inputs);
    expect(deployment.metadata.name).toBe("ku-mirror-hub");
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.spec.volumes).toContainEqual({ name: "data", persistentVolumeClaim: { claimName: "ku-data" } });
    expect(plain(byName(found, "ku-mirror-hub-service").inputs).spec.type).toBe("ClusterIP");
    const policy = plain(byName(found, "ku-mirror-hub-network-policy").inputs);
    expect(policy.spec.ingress[0].from).toEqual([
        { podSelector: { matchLabels: { "authenticated-registry.instance": "ku", "authenticated-registry.role": "proxy" } } },
    ]);
    const config = plain(byName(found, "ku-nginx-config").inputs).data["registry.conf"] as string;
    expect(config).toContain("  hub ku-mirror-hub.ku.svc.cluster.local:5000;");
});

test("on Kubernetes a mirror whose workload name would pass 63 characters is refused, naming it", () => {
    const name = "k".repeat(40);
    expect(
        () =>
            new components.AuthenticatedRegistry(name, {
                domain: "localhost",
                users: [{ username: "ci" }],
                runtime: "kubernetes",
                mirrors: [{ name: "a-long-mirror-name-of-thirty-two", remoteUrl: "https://quay.io" }],
            }),
    ).toThrow("mirrors[0].name: makes the Kubernetes name");
});
