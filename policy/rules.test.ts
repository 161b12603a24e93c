import { unknownCheckingProxy, UnknownValueError } from "@pulumi/policy";
import { validateUserAccess } from "../components/access";
import { UserAccess } from "../components/grants";
import { htpasswdLine } from "../components/htpasswdCredentials";
import { emptyDefaultSite, nginxPaths, renderNginxConfig } from "../components/nginxConfig";
import { filesCarrierRole } from "../components/runtimes/container/inspection";
import { containerOptions } from "../components/runtimes/container/roleContainer";
import { ContainerRuntime } from "../components/runtimes/container/settings";
import { componentLabels } from "../components/runtimes/docker";
import { tokenServiceFiles } from "../components/tokenService/files";
import { installMocks, registered, valueOf } from "../test/mocks";
import {
    checkBcryptCost,
    checkDeleteEverywhere,
    checkSomeoneOnlyPulls,
    checkCredentialsSecret,
    checkDataVolumeRetained,
    checkImagePinned,
    checkNginxTlsProtocols,
    checkNoPrivilegedProcess,
    checkRegistryPortsLoopback,
    checkTokenServiceUnpublished,
    labelKeys,
    minimumBcryptCost,
    nginxDirectives,
    parseHtpasswd,
    ResourceView,
    roles,
} from "./rules";

/** The types the Docker runtimes make, as their inspections name them. */
const resourceTypes = {
    container: "docker:index/container:Container",
    remoteImage: "docker:index/remoteImage:RemoteImage",
    volume: "docker:index/volume:Volume",
    service: "docker:index/service:Service",
    secret: "docker:index/secret:Secret",
    serviceConfig: "docker:index/serviceConfig:ServiceConfig",
} as const;
const container = resourceTypes.container;
const labels = (role: string) => [
    { label: labelKeys.instance, value: "reg" },
    { label: labelKeys.role, value: role },
];
const registry = (props: Record<string, unknown> = {}, opts = {}): ResourceView => ({
    type: container,
    props: { labels: labels("registry"), ...props },
    opts,
});

const config = renderNginxConfig({ serverName: "localhost", realm: "localhost", upstream: "registry:5000", listenPort: 443 });
const salt = Buffer.alloc(16, 7);
const cost10 = htpasswdLine("alice", "correct horse battery staple", salt, 10);
const cost8 = htpasswdLine("bob", "tr0ub4dor&3", salt, 8);
const uploads = (overrides: Record<string, string | undefined> = {}) => {
    const files: Record<string, string | undefined> = {
        [nginxPaths.config]: config,
        [nginxPaths.defaultSite]: emptyDefaultSite,
        [nginxPaths.htpasswd]: `${cost10}\n`,
        [nginxPaths.certificate]: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
        [nginxPaths.privateKey]: "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n",
        ...overrides,
    };
    return Object.entries(files)
        .filter(([, content]) => content !== undefined)
        .map(([file, content]) => ({ file, content, permissions: "0644" }));
};
const proxy = (props: Record<string, unknown> = {}, opts = {}): ResourceView => ({
    type: container,
    props: { labels: labels("proxy"), uploads: uploads(), ...props },
    opts,
});
const passes = { violations: [] };

/** The inputs of the registry's container as the container runtime makes it with `settings`, under mocks. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded inputs
async function registryContainerInputs(settings: ContainerRuntime): Promise<Record<string, any>> {
    await installMocks();
    const { AuthenticatedRegistry } = await import("../components");
    const built = new AuthenticatedRegistry("direct", { domain: "localhost", users: [{ username: "ci" }], container: settings });
    await valueOf(built.url);
    return (await registered()).find((r) => r.name === "direct-registry-container")!.inputs;
}
const fails = (...violations: string[]) => ({ violations });

test("the label keys are the ones the components set", () => {
    expect(componentLabels("reg", "registry")).toEqual(labels("registry"));
    // The role of what carries the proxy's files on one host, which the fixtures below label.
    expect(filesCarrierRole(roles.proxy)).toBe("proxy-files");
});

describe("token-service-unpublished", () => {
    const tokenService = (props: Record<string, unknown> = {}): ResourceView => ({
        type: container,
        props: { labels: labels("token-service"), ...props },
    });
    const why = "the token service reads passwords over plain HTTP and is reached through nginx's /token only, so it publishes no port";

    test("passes the token service as the component creates it: no ports", () => {
        expect(checkTokenServiceUnpublished(tokenService())).toEqual(passes);
        expect(checkTokenServiceUnpublished(tokenService({ ports: [] }))).toEqual(passes);
    });

    test("refuses any published port, even on loopback, and host networking", () => {
        expect(checkTokenServiceUnpublished(tokenService({ ports: [{ internal: 5001, external: 5001, ip: "127.0.0.1" }] }))).toEqual(
            fails(`ports[0] publishes the token service's port 5001 on 127.0.0.1; ${why}`),
        );
        expect(checkTokenServiceUnpublished(tokenService({ networkMode: "host", publishAllPorts: true }))).toEqual(
            fails(
                `networkMode "host" puts the token service's port on every host interface; use a bridge network: it reads passwords over plain HTTP and publishes no port`,
                "publishAllPorts puts the token service's port on 0.0.0.0; remove it: it reads passwords over plain HTTP and publishes no port",
            ),
        );
    });

    test("applies to the token service only", () => {
        expect(checkTokenServiceUnpublished(registry({ ports: [{ internal: 5000, external: 5000, ip: "127.0.0.1" }] }))).toEqual({
            notApplicable: "only the token service's process (label authenticated-registry.role=token-service)",
        });
    });
});

describe("registry-port-loopback-only", () => {
    const why = "the registry answers without authentication, so it may only be published on 127.0.0.0/8 or ::1";

    test("passes an unpublished registry, and what the component publishes for directAccessPort", async () => {
        expect(checkRegistryPortsLoopback(registry({ ports: [] }))).toEqual(passes);
        expect(checkRegistryPortsLoopback(registry())).toEqual(passes);
        const { ports } = await registryContainerInputs({ directAccessPort: 5000 });
        expect(ports).toHaveLength(1);
        expect(checkRegistryPortsLoopback(registry({ ports }))).toEqual(passes);
    });

    test.each(["127.0.0.1", "127.1.2.3", "::1"])("passes a port on loopback %s", (ip) => {
        expect(checkRegistryPortsLoopback(registry({ ports: [{ internal: 5000, external: 5000, ip }] }))).toEqual(passes);
    });

    test("a port without ip binds 0.0.0.0", () => {
        expect(checkRegistryPortsLoopback(registry({ ports: [{ internal: 5000, external: 5000 }] }))).toEqual(
            fails(`ports[0] publishes the registry's port 5000 on 0.0.0.0 (no ip given); ${why}`),
        );
        expect(checkRegistryPortsLoopback(registry({ ports: [{ internal: 5000, ip: "" }] }))).toEqual(
            fails(`ports[0] publishes the registry's port 5000 on 0.0.0.0 (no ip given); ${why}`),
        );
    });

    test("names every port on a non-loopback address", () => {
        const ports = [
            { internal: 5000, external: 5000, ip: "127.0.0.1" },
            { internal: 5000, external: 5001, ip: "0.0.0.0" },
            { internal: 5000, external: 5002, ip: "192.168.1.10" },
            { internal: 5000, external: 5003, ip: "::" },
        ];
        expect(checkRegistryPortsLoopback(registry({ ports }))).toEqual(
            fails(
                `ports[1] publishes the registry's port 5000 on 0.0.0.0; ${why}`,
                `ports[2] publishes the registry's port 5000 on 192.168.1.10; ${why}`,
                `ports[3] publishes the registry's port 5000 on ::; ${why}`,
            ),
        );
    });

    test("host networking and publishAllPorts expose the registry without a ports entry", () => {
        expect(checkRegistryPortsLoopback(registry({ networkMode: "host", publishAllPorts: true }))).toEqual(
            fails(
                `networkMode "host" puts the registry's port on every host interface; use a bridge network: it answers without authentication and is published on 127.0.0.0/8 or ::1 only`,
                `publishAllPorts puts the registry's port on 0.0.0.0; remove it: it answers without authentication and is published on 127.0.0.0/8 or ::1 only`,
            ),
        );
    });

    test("applies to the registry's process only", () => {
        const everywhere = { ports: [{ internal: 443, external: 5043, ip: "0.0.0.0" }] };
        const reason = {
            notApplicable: "only the registry's and the mirrors' processes (label authenticated-registry.role=registry or mirror-NAME)",
        };
        expect(checkRegistryPortsLoopback(proxy(everywhere))).toEqual(reason);
        expect(checkRegistryPortsLoopback({ type: container, props: everywhere })).toEqual(reason);
        expect(checkRegistryPortsLoopback({ type: resourceTypes.volume, props: { labels: labels("registry") } })).toEqual(reason);
    });
});

describe("nginx-tls-1.2-1.3-only", () => {
    const withConfig = (text: string) => proxy({ uploads: uploads({ [nginxPaths.config]: text }) });

    test("passes the rendered registry.conf", () => {
        expect(checkNginxTlsProtocols(proxy())).toEqual(passes);
    });

    test("accepts quoted and lower-case protocol names, as nginx does", () => {
        expect(checkNginxTlsProtocols(withConfig(`server { ssl_protocols "TLSv1.3" tlsv1.2; }`))).toEqual(passes);
    });

    test("refuses older protocols, naming them", () => {
        expect(
            checkNginxTlsProtocols(withConfig(config.replace("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1.1 TLSv1.2 TLSv1.3;"))),
        ).toEqual(
            fails(`${nginxPaths.config}: "ssl_protocols TLSv1.1 TLSv1.2 TLSv1.3" enables TLSv1.1; only TLSv1.2 and TLSv1.3 are allowed`),
        );
        expect(
            checkNginxTlsProtocols(withConfig("server {\n  ssl_protocols TLSv1.2;\n}\nserver {\n  ssl_protocols SSLv3 TLSv1;\n}\n")),
        ).toEqual(fails(`${nginxPaths.config}: "ssl_protocols SSLv3 TLSv1" enables SSLv3, TLSv1; only TLSv1.2 and TLSv1.3 are allowed`));
        expect(checkNginxTlsProtocols(withConfig("ssl_protocols;"))).toEqual(
            fails(`${nginxPaths.config}: ssl_protocols lists no protocol; list TLSv1.2 and TLSv1.3`),
        );
    });

    test("requires an ssl_protocols directive; a commented-out one does not count", () => {
        const missing = `${nginxPaths.config} has no ssl_protocols directive; nginx would offer its default protocols`;
        expect(checkNginxTlsProtocols(withConfig(config.replace("ssl_protocols TLSv1.2 TLSv1.3;", "")))).toEqual(fails(missing));
        expect(checkNginxTlsProtocols(withConfig("server {\n  # ssl_protocols TLSv1.2 TLSv1.3;\n  listen 443 ssl;\n}\n"))).toEqual(
            fails(missing),
        );
    });

    test("requires the registry.conf upload", () => {
        expect(checkNginxTlsProtocols(proxy({ uploads: uploads({ [nginxPaths.config]: undefined }) }))).toEqual(
            fails(`uploads has no ${nginxPaths.config}; the nginx server configuration is missing`),
        );
        expect(checkNginxTlsProtocols(proxy({ uploads: undefined }))).toEqual(
            fails(`uploads has no ${nginxPaths.config}; the nginx server configuration is missing`),
        );
    });

    test("checks ssl_protocols in every uploaded .conf file", () => {
        const props = { uploads: uploads({ [nginxPaths.defaultSite]: "server { listen 8443 ssl; ssl_protocols TLSv1 TLSv1.2; }" }) };
        expect(checkNginxTlsProtocols(proxy(props))).toEqual(
            fails(`${nginxPaths.defaultSite}: "ssl_protocols TLSv1 TLSv1.2" enables TLSv1; only TLSv1.2 and TLSv1.3 are allowed`),
        );
    });

    test("applies to the proxy and what carries its files only", () => {
        expect(checkNginxTlsProtocols(registry())).toEqual({
            notApplicable: "only the proxy (label authenticated-registry.role=proxy) and what carries its files",
        });
    });

    test("splits directives as nginx does: comments, quotes, blocks", () => {
        expect(nginxDirectives(`a 1 '2 3';# c;\nb "x\\"y" {c;}d`)).toEqual([
            { name: "a", args: ["1", "2 3"] },
            { name: "b", args: ['x"y'] },
            { name: "c", args: [] },
            { name: "d", args: [] },
        ]);
    });
});

describe("images-pinned", () => {
    const image = (name: unknown): ResourceView => ({ type: resourceTypes.remoteImage, props: { name, keepLocally: true } });

    test.each([
        "nginx:1.28.0",
        "registry:2.8.3",
        "authenticated-registry/nginx:1.22-bookworm",
        "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ])("passes %s", (name) => {
        expect(checkImagePinned(image(name))).toEqual(passes);
    });

    test.each(["nginx", "nginx:latest", "localhost:5000/team/app", "NGINX:1.0"])("refuses %s", (name) => {
        expect(checkImagePinned(image(name))).toEqual(
            fails(`name: image "${name}" is not pinned; name a tag other than latest (e.g. nginx:1.28.0) or a digest (@sha256:...)`),
        );
    });

    test("applies to what names an image to pull only: RemoteImage, Service and Deployment", () => {
        expect(checkImagePinned(registry({ image: "nginx" }))).toEqual({
            notApplicable:
                "only the resources that name an image to pull: docker:index/remoteImage:RemoteImage, docker:index/service:Service, kubernetes:apps/v1:Deployment",
        });
    });
});

describe("data-volume-retained", () => {
    const volume = (opts: Record<string, unknown>): ResourceView => ({
        type: resourceTypes.volume,
        props: { name: "reg-data", labels: [{ label: labelKeys.instance, value: "reg" }] },
        opts,
    });

    test("passes a volume retained on delete, or protected", () => {
        expect(checkDataVolumeRetained(volume({ retainOnDelete: true }))).toEqual(passes);
        expect(checkDataVolumeRetained(volume({ protect: true }))).toEqual(passes);
        expect(checkDataVolumeRetained(volume({ protect: true, retainOnDelete: false }))).toEqual(passes);
    });

    test("refuses a volume deleted with the stack", () => {
        expect(checkDataVolumeRetained(volume({ retainOnDelete: false, protect: false }))).toEqual(
            fails("the data volume is deleted with the stack (retainOnDelete is false); set retainOnDelete: true so pushed images survive"),
        );
    });

    test("the proxy's files volume is not the data volume", () => {
        const files: ResourceView = {
            type: resourceTypes.volume,
            props: { name: "reg-nginx-files", labels: labels("proxy-files") },
            opts: {},
        };
        expect(checkDataVolumeRetained(files)).toEqual({
            notApplicable: "only the data volume; this is the proxy-files volume, rewritten from the stack's state on every change",
        });
    });

    test("says it cannot decide when the engine does not send retainOnDelete", () => {
        expect(checkDataVolumeRetained(volume({ protect: false, additionalSecretOutputs: [] }))).toEqual({
            notApplicable:
                "the Pulumi engine does not pass retainOnDelete to policy packs, and the volume is not protected; " +
                "retention is asserted by the component's unit tests instead",
        });
    });

    test("applies to the registry's volumes only", () => {
        const reason = { notApplicable: "only the volumes labelled authenticated-registry.instance" };
        expect(checkDataVolumeRetained({ type: resourceTypes.volume, props: { name: "other" }, opts: { retainOnDelete: false } })).toEqual(
            reason,
        );
        expect(checkDataVolumeRetained(registry({}, { retainOnDelete: false }))).toEqual(reason);
    });
});

describe("credentials-secret", () => {
    const component = { additionalSecretOutputs: ["uploads", "envs"] };

    test("passes the options the components use", () => {
        // containerOptions is what both containers are created with.
        const { additionalSecretOutputs } = containerOptions(undefined as never);
        expect(checkCredentialsSecret(proxy({}, { additionalSecretOutputs }))).toEqual(passes);
        expect(checkCredentialsSecret(registry({}, { additionalSecretOutputs }))).toEqual(passes);
        expect(checkCredentialsSecret(proxy({}, { additionalSecretOutputs: ["uploads"] }))).toEqual(passes);
        expect(checkCredentialsSecret(registry({}, { additionalSecretOutputs: ["envs"] }))).toEqual(passes);
        expect(checkCredentialsSecret(proxy({}, component))).toEqual(passes);
    });

    test("refuses the proxy's uploads and the registry's envs outside additionalSecretOutputs", () => {
        expect(checkCredentialsSecret(proxy({}, { additionalSecretOutputs: ["envs"] }))).toEqual(
            fails(
                "uploads holds the htpasswd file and the TLS private key but is not in additionalSecretOutputs, so the state is not guaranteed to store it encrypted",
            ),
        );
        expect(checkCredentialsSecret(registry({}, {}))).toEqual(
            fails(
                "envs holds REGISTRY_HTTP_SECRET but is not in additionalSecretOutputs, so the state is not guaranteed to store it encrypted",
            ),
        );
    });

    test("applies to what stores a secret only: not to another role's container, nor to a container without a role", () => {
        const reason = {
            notApplicable:
                "only what stores a secret of this package: the registry's environment, the proxy's and the token service's files",
        };
        expect(checkCredentialsSecret({ type: container, props: { labels: labels("other") }, opts: {} })).toEqual(reason);
        expect(checkCredentialsSecret({ type: container, props: {}, opts: {} })).toEqual(reason);
    });
});

describe("bcrypt-cost-floor", () => {
    const htpasswd = nginxPaths.htpasswd;
    const withHtpasswd = (text: string | undefined) => proxy({ uploads: uploads({ [htpasswd]: text }) });
    const settings = "/etc/token-service/settings.json";
    const tokenService = (users: unknown) => ({
        type: container,
        props: {
            labels: labels("token-service"),
            uploads: [
                {
                    file: settings,
                    content: JSON.stringify({ issuer: "i", service: "s", lifetimeSeconds: 300, users }),
                    permissions: "0600",
                },
            ],
        },
    });
    const hashOf = (line: string) => line.slice(line.indexOf(":") + 1);

    test("in token mode the token service's hashes are held to the floor, naming users, never hashes", () => {
        const users = [
            { username: "alice", passwordHash: hashOf(cost10) },
            { username: "bob", passwordHash: hashOf(cost8) },
            { username: "carol", passwordHash: "plain" },
        ];
        expect(checkBcryptCost(tokenService(users.slice(0, 1)), 10)).toEqual(passes);
        expect(checkBcryptCost(tokenService(users), 10)).toEqual(
            fails(
                `${settings} users[1] (user "bob") has bcrypt cost 8; the minimum is 10`,
                `${settings} users[2] (user "carol") has no bcrypt hash; only $2y$ (or $2a$/$2b$) hashes are allowed`,
            ),
        );
        expect(checkBcryptCost(tokenService([]), 10)).toEqual(fails(`${settings} has no users; expected one entry per user`));
    });

    test("in token mode the proxy, which holds no password file, is not held to it", () => {
        const tokenConfig = renderNginxConfig({
            serverName: "r",
            realm: "r",
            upstream: "registry:5000",
            listenPort: 443,
            token: { upstream: "token-service:5001", requestsPerMinute: 300, burst: 20 },
        });
        const tokenProxy = proxy({ uploads: uploads({ [nginxPaths.config]: tokenConfig, [htpasswd]: undefined }) });
        expect(checkBcryptCost(tokenProxy, 10)).toEqual({
            notApplicable: "token mode: nginx checks no password; the token service's hashes are checked on it",
        });
    });

    test("passes entries at the floor, skipping blank lines and comments", () => {
        expect(checkBcryptCost(proxy(), 10)).toEqual(passes);
        expect(checkBcryptCost(withHtpasswd(`# users\n\n${cost10}\r\n${cost8}\n`), 8)).toEqual(passes);
    });

    test("refuses entries below the floor, naming user and cost but not the hash", () => {
        expect(checkBcryptCost(withHtpasswd(`${cost10}\n${cost8}\n`), 10)).toEqual(
            fails(`${htpasswd} line 2 (user "bob") has bcrypt cost 8; the minimum is 10`),
        );
        expect(checkBcryptCost(proxy(), 12)).toEqual(fails(`${htpasswd} line 1 (user "alice") has bcrypt cost 10; the minimum is 12`));
    });

    test("refuses entries that are not bcrypt", () => {
        const text = "carol:$apr1$abcdefgh$0123456789abcdefghijkl\ndave:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\nerin\n";
        expect(checkBcryptCost(withHtpasswd(text), 10)).toEqual(
            fails(
                `${htpasswd} line 1 (user "carol") is not a bcrypt hash; only $2y$ (or $2a$/$2b$) hashes are allowed`,
                `${htpasswd} line 2 (user "dave") is not a bcrypt hash; only $2y$ (or $2a$/$2b$) hashes are allowed`,
                `${htpasswd} line 3 (user "erin") is not a bcrypt hash; only $2y$ (or $2a$/$2b$) hashes are allowed`,
            ),
        );
    });

    test("refuses an empty or missing user file", () => {
        expect(checkBcryptCost(withHtpasswd("# nobody\n"), 10)).toEqual(
            fails(`${htpasswd} has no entries; expected one user:bcrypt-hash line per user`),
        );
        expect(checkBcryptCost(withHtpasswd(undefined), 10)).toEqual(
            fails(`uploads has no ${htpasswd}; nginx would have no user file to check passwords against`),
        );
    });

    test("applies to what holds the proxy's or the token service's hashes only", () => {
        expect(checkBcryptCost(registry(), 10)).toEqual({
            notApplicable:
                `only the proxy's ${htpasswd} and the token service's ${settings}, ` +
                "which hold the password hashes, and what carries them",
        });
    });

    test("parses user:hash lines", () => {
        expect(parseHtpasswd(`${cost10}\n\n#x\n${cost8}`)).toEqual([
            { line: 1, username: "alice", bcryptCost: 10 },
            { line: 4, username: "bob", bcryptCost: 8 },
        ]);
    });

    test("the floor comes from the policy config, 8 by default", () => {
        expect(minimumBcryptCost({})).toBe(8);
        expect(minimumBcryptCost({ minimumBcryptCost: 12 })).toBe(12);
        expect(() => minimumBcryptCost({ minimumBcryptCost: 3 })).toThrow(
            "minimumBcryptCost: 3 is not a bcrypt cost; expected an integer from 4 to 31",
        );
        expect(() => minimumBcryptCost({ minimumBcryptCost: "12" })).toThrow('minimumBcryptCost: "12" is not a bcrypt cost');
    });
});

describe("values not known during preview, as the policy SDK presents them", () => {
    // The engine's sentinel for an unknown string; the SDK's proxy throws when a rule reads one.
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const firstPreview = (): ResourceView => ({
        type: container,
        props: unknownCheckingProxy({
            image: unknown,
            labels: [...labels("proxy"), { label: "authenticated-registry.upstream-container", value: unknown }],
            ports: [{ internal: 443, external: 5043, ip: "127.0.0.1" }],
            uploads: uploads({ [nginxPaths.htpasswd]: unknown, [nginxPaths.privateKey]: unknown }),
        }),
        opts: { additionalSecretOutputs: ["uploads", "envs"] },
    });

    test("rules that need only known fields still run", () => {
        expect(checkNginxTlsProtocols(firstPreview())).toEqual(passes);
        expect(checkCredentialsSecret(firstPreview())).toEqual(passes);
        expect(checkRegistryPortsLoopback(firstPreview())).toEqual({
            notApplicable: "only the registry's and the mirrors' processes (label authenticated-registry.role=registry or mirror-NAME)",
        });
    });

    test("the bcrypt rule reads the unknown htpasswd, so the SDK reports it cannot run during preview", () => {
        expect(() => checkBcryptCost(firstPreview(), 10)).toThrow(UnknownValueError);
        expect(() => checkBcryptCost(firstPreview(), 10)).toThrow("string value at .uploads.2.content can't be known during preview");
    });
});

describe("grants", () => {
    const withUsers = (users: UserAccess[]): ResourceView => ({
        type: container,
        props: { labels: [...labels("proxy"), { label: labelKeys.access, value: JSON.stringify(validateUserAccess("users", users)) }] },
    });
    const deleteEverywhere: UserAccess = { username: "janitor", access: [{ repositories: ["**"], actions: ["pull", "delete"] }] };
    const team: UserAccess = { username: "team-a", access: [{ repositories: ["team-a/**"], actions: ["pull", "push", "delete"] }] };
    const node: UserAccess = { username: "node", access: [{ repositories: ["**"], actions: ["pull"] }] };

    test("delete on ** is refused, naming the user, unless the config allows it", () => {
        expect(checkDeleteEverywhere(withUsers([team, deleteEverywhere]), false)).toEqual({
            violations: ['user "janitor" may delete on "**", every repository; narrow the pattern or set allowDeleteEverywhere'],
        });
        expect(checkDeleteEverywhere(withUsers([team, deleteEverywhere]), true)).toEqual({ violations: [] });
        expect(checkDeleteEverywhere(withUsers([team, node]), false)).toEqual({ violations: [] });
    });

    test("with several users, one must be unable to push (advisory)", () => {
        expect(checkSomeoneOnlyPulls(withUsers([{ username: "ci" }, team]))).toEqual({
            violations: ["all 2 users may push; give the credentials spread widest (cluster nodes) a pull-only grant"],
        });
        expect(checkSomeoneOnlyPulls(withUsers([{ username: "ci" }, team, node]))).toEqual({ violations: [] });
        expect(checkSomeoneOnlyPulls(withUsers([{ username: "ci" }]))).toEqual({ violations: [] });
    });

    test("not applicable to other resources or a proxy without the label", () => {
        expect(checkDeleteEverywhere(registry(), false)).toHaveProperty("notApplicable");
        expect(checkSomeoneOnlyPulls({ type: container, props: { labels: labels("proxy") } })).toHaveProperty("notApplicable");
    });
});

describe("one host: the proxy's files container carries the files, the proxy reads them from its volume", () => {
    const filesWriter = (props: Record<string, unknown> = {}, opts = {}): ResourceView => ({
        type: container,
        props: { labels: labels("proxy-files"), uploads: uploads(), ...props },
        opts,
    });
    const volumeProxy: ResourceView = {
        type: container,
        props: { labels: labels("proxy"), volumes: [{ volumeName: "reg-nginx-files", containerPath: nginxPaths.directory }] },
        opts: { additionalSecretOutputs: ["uploads", "envs"] },
    };
    const inVolume = {
        notApplicable:
            "the proxy reads its files from the volume at /etc/nginx/conf.d; its files container " +
            "(label authenticated-registry.role=proxy-files), which has them as uploads, is checked instead",
    };

    test("the files container is judged as the proxy was: its config, its hashes, its secrets, its grants", () => {
        expect(checkNginxTlsProtocols(filesWriter())).toEqual(passes);
        const weak = config.replace("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1.1 TLSv1.2;");
        expect(checkNginxTlsProtocols(filesWriter({ uploads: uploads({ [nginxPaths.config]: weak }) }))).toEqual(
            fails(`${nginxPaths.config}: "ssl_protocols TLSv1.1 TLSv1.2" enables TLSv1.1; only TLSv1.2 and TLSv1.3 are allowed`),
        );
        expect(checkBcryptCost(filesWriter(), 10)).toEqual(passes);
        expect(checkBcryptCost(filesWriter(), 12)).toEqual(
            fails(`${nginxPaths.htpasswd} line 1 (user "alice") has bcrypt cost 10; the minimum is 12`),
        );
        expect(checkBcryptCost(filesWriter({ uploads: uploads({ [nginxPaths.htpasswd]: undefined }) }), 8)).toEqual(
            fails(`uploads has no ${nginxPaths.htpasswd}; nginx would have no user file to check passwords against`),
        );
        expect(checkCredentialsSecret(filesWriter({}, containerOptions(undefined as never)))).toEqual(passes);
        expect(checkCredentialsSecret(filesWriter({}, { additionalSecretOutputs: ["envs"] }))).toEqual(
            fails(
                "uploads holds the htpasswd file and the TLS private key but is not in additionalSecretOutputs, so the state is not guaranteed to store it encrypted",
            ),
        );
        const janitor: UserAccess = { username: "janitor", access: [{ repositories: ["**"], actions: ["pull", "delete"] }] };
        const access = { label: labelKeys.access, value: JSON.stringify(validateUserAccess("users", [janitor])) };
        expect(checkDeleteEverywhere(filesWriter({ labels: [...labels("proxy-files"), access] }), false)).toEqual(
            fails('user "janitor" may delete on "**", every repository; narrow the pattern or set allowDeleteEverywhere'),
        );
        expect(checkSomeoneOnlyPulls(filesWriter({ labels: [...labels("proxy-files"), access] }))).toEqual(passes);
    });

    test("the proxy that reads its files from the volume is left to its files container", () => {
        expect(checkNginxTlsProtocols(volumeProxy)).toEqual(inVolume);
        expect(checkBcryptCost(volumeProxy, 8)).toEqual(inVolume);
        expect(checkDeleteEverywhere(volumeProxy, false)).toEqual({
            notApplicable: `the proxy's grants go with its files: ${inVolume.notApplicable}`,
        });
        // Still a proxy: its port rules and secret options apply as before.
        expect(checkCredentialsSecret(volumeProxy)).toEqual(passes);
    });

    test("a proxy with neither uploads nor the volume still has no config, and is refused", () => {
        expect(checkNginxTlsProtocols(proxy({ uploads: undefined }))).toEqual(
            fails(`uploads has no ${nginxPaths.config}; the nginx server configuration is missing`),
        );
        const elsewhere = proxy({ uploads: undefined, volumes: [{ volumeName: "x", containerPath: "/srv" }] });
        expect(checkNginxTlsProtocols(elsewhere)).toEqual(
            fails(`uploads has no ${nginxPaths.config}; the nginx server configuration is missing`),
        );
    });

    test("a files container is the container runtime's: a service labelled proxy-files is not judged as the proxy", () => {
        expect(checkBcryptCost({ type: resourceTypes.service, props: { labels: labels("proxy-files") } }, 8)).toHaveProperty(
            "notApplicable",
        );
        expect(checkDeleteEverywhere({ type: resourceTypes.service, props: { labels: labels("proxy-files") } }, false)).toHaveProperty(
            "notApplicable",
        );
    });
});

describe("swarm resources: the same rules on services, secrets and configs", () => {
    const service = (role: string, props: Record<string, unknown> = {}): ResourceView => ({
        type: resourceTypes.service,
        props: { labels: labels(role), taskSpec: { containerSpec: { image: "nginx:1.28.0" } }, ...props },
    });
    const swarmFile = (type: string, role: string, file: string, content: string, opts = {}): ResourceView => ({
        type,
        props: { labels: [...labels(role), { label: labelKeys.file, value: file }], data: Buffer.from(content).toString("base64") },
        opts,
    });
    const secretOpts = { additionalSecretOutputs: ["data"] };

    test("a registry or token service that publishes a port on the swarm is refused", () => {
        const published = { endpointSpec: { mode: "vip", ports: [{ targetPort: 5000, publishedPort: 5000 }] } };
        const onTheirNodes = { endpointSpec: { mode: "dnsrr", ports: [{ targetPort: 5000, publishedPort: 5000, publishMode: "host" }] } };
        expect(checkRegistryPortsLoopback(service("registry", onTheirNodes))).toEqual(
            fails(
                "endpointSpec.ports[0] publishes the registry's port 5000 on every node that runs one of its tasks; the registry answers without authentication, so it may only be published on 127.0.0.0/8 or ::1",
            ),
        );
        expect(checkRegistryPortsLoopback(service("registry", published))).toEqual(
            fails(
                "endpointSpec.ports[0] publishes the registry's port 5000 on every node of the swarm; the registry answers without authentication, so it may only be published on 127.0.0.0/8 or ::1",
            ),
        );
        expect(checkRegistryPortsLoopback(service("registry", { endpointSpec: { mode: "dnsrr" } }))).toEqual(passes);
        expect(checkTokenServiceUnpublished(service("token-service", published))).toEqual(
            fails(
                "endpointSpec.ports[0] publishes the token service's port 5000 on every node of the swarm; the token service reads passwords over plain HTTP and is reached through nginx's /token only, so it publishes no port",
            ),
        );
        expect(checkTokenServiceUnpublished(service("token-service"))).toEqual(passes);
    });

    test("an unpinned service image is refused", () => {
        expect(checkImagePinned(service("proxy", { taskSpec: { containerSpec: { image: "nginx" } } }))).toEqual(
            fails(
                'taskSpec.containerSpec.image: image "nginx" is not pinned; name a tag other than latest (e.g. nginx:1.28.0) or a digest (@sha256:...)',
            ),
        );
        expect(checkImagePinned(service("proxy"))).toEqual(passes);
    });

    test("the proxy's .conf configs offering TLS 1.0 are refused; its other files and its service are not this rule's business", () => {
        const weak = config.replace(/ssl_protocols [^;]*;/, "ssl_protocols TLSv1 TLSv1.2;");
        expect(checkNginxTlsProtocols(swarmFile(resourceTypes.serviceConfig, "proxy", nginxPaths.config, weak))).toEqual(
            fails(`${nginxPaths.config}: "ssl_protocols TLSv1 TLSv1.2" enables TLSv1; only TLSv1.2 and TLSv1.3 are allowed`),
        );
        expect(checkNginxTlsProtocols(swarmFile(resourceTypes.serviceConfig, "proxy", nginxPaths.config, config))).toEqual(passes);
        // Another .conf file is checked as a container's would be, but need not have the directive.
        const site = swarmFile(resourceTypes.serviceConfig, "proxy", nginxPaths.defaultSite, "server { ssl_protocols TLSv1.1; }");
        expect(checkNginxTlsProtocols(site)).toEqual(
            fails(`${nginxPaths.defaultSite}: "ssl_protocols TLSv1.1" enables TLSv1.1; only TLSv1.2 and TLSv1.3 are allowed`),
        );
        expect(checkNginxTlsProtocols(swarmFile(resourceTypes.serviceConfig, "proxy", nginxPaths.defaultSite, emptyDefaultSite))).toEqual(
            passes,
        );
        expect(checkNginxTlsProtocols(swarmFile(resourceTypes.serviceConfig, "proxy", nginxPaths.certificate, "pem"))).toEqual({
            notApplicable: "only the proxy's nginx configuration, its .conf files",
        });
        expect(checkNginxTlsProtocols(service("proxy"))).toEqual({
            notApplicable: "a service's files are Swarm secrets and configs (label authenticated-registry.file), each checked on its own",
        });
    });

    test("an htpasswd secret or token settings secret below the bcrypt floor is refused", () => {
        const htpasswd = swarmFile(resourceTypes.secret, "proxy", nginxPaths.htpasswd, `${cost8}\n`, secretOpts);
        expect(checkBcryptCost(htpasswd, 10)).toEqual(
            fails(`${nginxPaths.htpasswd} line 1 (user "bob") has bcrypt cost 8; the minimum is 10`),
        );
        expect(checkBcryptCost(htpasswd, 8)).toEqual(passes);
        const settings = (hash: string) =>
            swarmFile(
                resourceTypes.secret,
                "token-service",
                tokenServiceFiles.settings,
                JSON.stringify({ users: [{ username: "bob", passwordHash: hash }] }),
                secretOpts,
            );
        const hash = cost8.slice(cost8.indexOf(":") + 1);
        expect(checkBcryptCost(settings(hash), 12)).toEqual(
            fails(`${tokenServiceFiles.settings} users[0] (user "bob") has bcrypt cost 8; the minimum is 12`),
        );
        expect(checkBcryptCost(settings("plain"), 4)).toEqual(
            fails(`${tokenServiceFiles.settings} users[0] (user "bob") has no bcrypt hash; only $2y$ (or $2a$/$2b$) hashes are allowed`),
        );
        expect(checkBcryptCost(swarmFile(resourceTypes.secret, "proxy", nginxPaths.privateKey, "key", secretOpts), 8)).toHaveProperty(
            "notApplicable",
        );
        // The services name their secrets, which are checked on their own.
        for (const role of ["proxy", "token-service"]) {
            expect(checkBcryptCost(service(role), 8)).toEqual({
                notApplicable:
                    "a service's files are Swarm secrets and configs (label authenticated-registry.file), each checked on its own",
            });
        }
    });

    test("a Swarm secret whose data the state could keep in plain text is refused", () => {
        const key = (opts = {}) => swarmFile(resourceTypes.secret, "proxy", nginxPaths.privateKey, "key", opts);
        expect(checkCredentialsSecret(key())).toEqual(
            fails(
                `data holds ${nginxPaths.privateKey} but is not in additionalSecretOutputs, so the state is not guaranteed to store it encrypted`,
            ),
        );
        expect(checkCredentialsSecret(key(secretOpts))).toEqual(passes);
        // Whatever role's: the registry's secret environment is a Swarm secret too.
        const environment = swarmFile(resourceTypes.secret, "registry", "/run/secrets/environment", "REGISTRY_HTTP_SECRET='x'\n");
        expect(checkCredentialsSecret(environment)).toEqual(
            fails(
                "data holds /run/secrets/environment but is not in additionalSecretOutputs, so the state is not guaranteed to store it encrypted",
            ),
        );
        // A config holds no secret, and a service keeps its secrets in Swarm secrets.
        expect(checkCredentialsSecret(swarmFile(resourceTypes.serviceConfig, "proxy", nginxPaths.certificate, "pem"))).toHaveProperty(
            "notApplicable",
        );
        expect(checkCredentialsSecret(service("proxy"))).toHaveProperty("notApplicable");
        expect(checkCredentialsSecret(service("registry"))).toHaveProperty("notApplicable");
    });

    test("the proxy service's grants are judged as the container's", () => {
        const access = JSON.stringify(
            validateUserAccess("users", [{ username: "janitor", access: [{ repositories: ["**"], actions: ["pull", "delete"] }] }]),
        );
        const proxyService = service("proxy", { labels: [...labels("proxy"), { label: labelKeys.access, value: access }] });
        expect(checkDeleteEverywhere(proxyService, false)).toEqual(
            fails('user "janitor" may delete on "**", every repository; narrow the pattern or set allowDeleteEverywhere'),
        );
    });
});

describe("no-privileged-processes", () => {
    test("a privileged container, or one that adds capabilities, is refused, naming the setting", () => {
        expect(checkNoPrivilegedProcess(registry({ privileged: true, capabilities: { adds: ["NET_ADMIN"] } }))).toEqual(
            fails(
                "privileged gives the registry process every device and capability of the host; no role of the registry needs it: remove it",
                "capabilities.adds gives the registry process the capabilities NET_ADMIN; no role of the registry needs it: remove it",
            ),
        );
        expect(checkNoPrivilegedProcess(registry({ privileged: false, capabilities: { adds: [], drops: ["ALL"] } }))).toEqual(passes);
        expect(checkNoPrivilegedProcess({ type: container, props: { labels: [] } })).toEqual({
            notApplicable: "only the registry's processes (label authenticated-registry.role)",
        });
    });
});

describe("the Kubernetes runtime's objects are judged by the same rules, read through its inspection", () => {
    // A Deployment and a Service per role, its files in a Secret and a ConfigMap (one key per
    // file, whose path an annotation names), its data on a PersistentVolumeClaim.
    const deployment = "kubernetes:apps/v1:Deployment";
    const service = "kubernetes:core/v1:Service";
    const secret = "kubernetes:core/v1:Secret";
    const configMap = "kubernetes:core/v1:ConfigMap";
    const claim = "kubernetes:core/v1:PersistentVolumeClaim";

    const labelled = (role: string) => ({ [labelKeys.instance]: "reg", [labelKeys.role]: role });
    const pod = (role: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}): ResourceView => ({
        type: deployment,
        props: { metadata: { labels: labelled(role), annotations }, spec: { template: { spec } } },
    });
    const files = (type: string, role: string, directory: string, content: Record<string, string>, opts = {}): ResourceView => ({
        type,
        props: {
            metadata: {
                labels: labelled(role),
                annotations: {
                    "authenticated-registry.files": JSON.stringify(
                        Object.fromEntries(Object.keys(content).map((key) => [key, `${directory}/${key}`])),
                    ),
                },
            },
            [type === secret ? "stringData" : "data"]: content,
        },
        opts,
    });

    test("ports on the node and host networking are refused, naming the setting", () => {
        const registryPod = pod("registry", {
            hostNetwork: true,
            containers: [{ image: "registry:3.0.0", ports: [{ containerPort: 5000, hostPort: 5000 }, { containerPort: 5001 }] }],
        });
        expect(checkRegistryPortsLoopback(registryPod)).toEqual(
            fails(
                "spec.template.spec.containers[0].ports[0] publishes the registry's port 5000 on 0.0.0.0 (no hostIP given) of its node; the registry answers without authentication, so it may only be published on 127.0.0.0/8 or ::1",
                "spec.template.spec.hostNetwork puts the registry's port on every interface of its node; remove it: it answers without authentication and is published on 127.0.0.0/8 or ::1 only",
            ),
        );
        const tokenPod = pod("token-service", { containers: [{ ports: [{ containerPort: 5001, hostPort: 5001, hostIP: "127.0.0.1" }] }] });
        expect(checkTokenServiceUnpublished(tokenPod)).toEqual(
            fails(
                "spec.template.spec.containers[0].ports[0] publishes the token service's port 5001 on 127.0.0.1 of its node; the token service reads passwords over plain HTTP and is reached through nginx's /token only, so it publishes no port",
            ),
        );
    });

    test("a Service that puts the registry or the token service outside the cluster is refused; the proxy's may", () => {
        const exposed = (role: string, type: string): ResourceView => ({
            type: service,
            props: { metadata: { labels: labelled(role) }, spec: { type, ports: [{ port: 5000, targetPort: "serve" }] } },
        });
        expect(checkRegistryPortsLoopback(exposed("registry", "NodePort"))).toEqual(
            fails(
                "spec.ports[0] publishes the registry's port 5000 on a port of every node (type NodePort); the registry answers without authentication, so it may only be published on 127.0.0.0/8 or ::1",
            ),
        );
        expect(checkTokenServiceUnpublished(exposed("token-service", "LoadBalancer"))).toEqual(
            fails(
                "spec.ports[0] publishes the token service's port 5000 on an external load balancer (type LoadBalancer); the token service reads passwords over plain HTTP and is reached through nginx's /token only, so it publishes no port",
            ),
        );
        expect(checkRegistryPortsLoopback(exposed("registry", "ClusterIP"))).toEqual(passes);
        expect(checkRegistryPortsLoopback(exposed("proxy", "LoadBalancer"))).toEqual({
            notApplicable: "only the registry's and the mirrors' processes (label authenticated-registry.role=registry or mirror-NAME)",
        });
    });

    test("a privileged pod, one that may escalate, adds a capability or shares its node's processes is refused", () => {
        const risky = pod("proxy", {
            hostPID: true,
            containers: [{ securityContext: { privileged: true, allowPrivilegeEscalation: true, capabilities: { add: ["SYS_ADMIN"] } } }],
        });
        expect(checkNoPrivilegedProcess(risky)).toEqual(
            fails(
                "spec.template.spec.hostPID gives the proxy process its node's processes; no role of the registry needs it: remove it",
                "spec.template.spec.containers[0].securityContext.privileged gives the proxy process every device and capability of its node; no role of the registry needs it: remove it",
                "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation gives the proxy process more privileges than its parent (setuid programs); no role of the registry needs it: remove it",
                "spec.template.spec.containers[0].securityContext.capabilities.add gives the proxy process the capabilities SYS_ADMIN; no role of the registry needs it: remove it",
            ),
        );
        const locked = pod("proxy", {
            containers: [{ securityContext: { privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }],
        });
        expect(checkNoPrivilegedProcess(locked)).toEqual(passes);
    });

    test("every image of a Deployment is pinned, each named by its path", () => {
        const twoImages = pod("proxy", { containers: [{ image: "nginx:1.28.0" }, { image: "busybox" }] });
        expect(checkImagePinned(twoImages)).toEqual(
            fails(
                'spec.template.spec.containers[1].image: image "busybox" is not pinned; name a tag other than latest (e.g. nginx:1.28.0) or a digest (@sha256:...)',
            ),
        );
        expect(checkImagePinned({ type: secret, props: {} })).toEqual({
            notApplicable:
                "only the resources that name an image to pull: docker:index/remoteImage:RemoteImage, docker:index/service:Service, kubernetes:apps/v1:Deployment",
        });
    });

    test("files in Secrets and ConfigMaps are judged as a swarm's are: TLS, hashes, secret outputs", () => {
        const weak = config.replace(/ssl_protocols [^;]*;/, "ssl_protocols TLSv1 TLSv1.2;");
        expect(checkNginxTlsProtocols(files(configMap, "proxy", nginxPaths.directory, { "registry.conf": weak }))).toEqual(
            fails(`${nginxPaths.config}: "ssl_protocols TLSv1 TLSv1.2" enables TLSv1; only TLSv1.2 and TLSv1.3 are allowed`),
        );
        const htpasswd = files(secret, "proxy", nginxPaths.directory, { "registry.password": `${cost8}\n` });
        expect(checkBcryptCost(htpasswd, 10)).toEqual(
            fails(`${nginxPaths.htpasswd} line 1 (user "bob") has bcrypt cost 8; the minimum is 10`),
        );
        expect(checkCredentialsSecret(htpasswd)).toEqual(
            fails(
                "stringData holds its role's secret files and environment but is not in additionalSecretOutputs, so the state is not guaranteed to store it encrypted",
            ),
        );
        expect(checkCredentialsSecret({ ...htpasswd, opts: { additionalSecretOutputs: ["data", "stringData"] } })).toEqual(passes);
        // As the engine presents a Secret once the provider has checked it: base64 in data.
        const checkedSecret: ResourceView = {
            type: secret,
            props: {
                ...htpasswd.props,
                stringData: undefined,
                data: { "registry.password": Buffer.from(`${cost8}\n`).toString("base64") },
            },
        };
        expect(checkBcryptCost(checkedSecret, 10)).toEqual(
            fails(`${nginxPaths.htpasswd} line 1 (user "bob") has bcrypt cost 8; the minimum is 10`),
        );
        expect(checkNginxTlsProtocols(pod("proxy", {}))).toEqual({
            notApplicable: "a role's files are its Secret and ConfigMap, each checked on its own",
        });
    });

    test("the grants on the proxy's Deployment and the data's claim are judged as a container's and a volume's", () => {
        const access = JSON.stringify(
            validateUserAccess("users", [{ username: "janitor", access: [{ repositories: ["**"], actions: ["pull", "delete"] }] }]),
        );
        expect(checkDeleteEverywhere(pod("proxy", {}, { [labelKeys.access]: access }), false)).toEqual(
            fails('user "janitor" may delete on "**", every repository; narrow the pattern or set allowDeleteEverywhere'),
        );
        const data: ResourceView = {
            type: claim,
            props: { metadata: { labels: { [labelKeys.instance]: "reg" } } },
            opts: { retainOnDelete: false },
        };
        expect(checkDataVolumeRetained(data)).toEqual(
            fails("the data volume is deleted with the stack (retainOnDelete is false); set retainOnDelete: true so pushed images survive"),
        );
    });
});
