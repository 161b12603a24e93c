/**
 * Every bad argument is refused in the constructor with a message that names the field and the
 * accepted form, before any resource exists.
 */
import { selfSigned } from "./certificates";
import { installMocks, registered } from "./mocks";

beforeAll(installMocks);

type Module = typeof import("../components");
let components: Module;
beforeAll(async () => {
    components = await import("../components");
});

const good = {
    domain: "registry.example.com",
    users: [{ username: "alice", password: "s3cret" }],
};
const cert = selfSigned(["registry.example.com"]);
const otherCert = selfSigned(["registry.example.com"]);
const expiredCert = selfSigned(["registry.example.com"], { expired: true });
const wrongHostCert = selfSigned(["elsewhere.example.org"]);
const supplied = (tls: object) => ({ ...good, tls: { mode: "supplied" as const, ...tls } });

type Args = import("../components").AuthenticatedRegistryArgs;

// [what is wrong, the arguments, the field the message must start with, what it must say]
const cases: [string, Args, string, RegExp][] = [
    ["domain with illegal characters", { ...good, domain: "bad_domain!" }, "domain", /not a host name; expected a DNS name/],
    ["empty domain", { ...good, domain: "" }, "domain", /not a host name/],
    ["port 0", { ...good, port: 0 }, "port", /expected an integer from 1 to 65535/],
    ["port out of range", { ...good, port: 65536 }, "port", /expected an integer from 1 to 65535/],
    ["fractional port", { ...good, port: 443.5 }, "port", /not a TCP port/],
    ["bind address that is a name", { ...good, container: { bindAddress: "localhost" } }, "container.bindAddress", /not an IP address/],
    ["empty users list", { ...good, users: [] }, "users", /expected at least one user/],
    ["empty username", { ...good, users: [{ username: "" }] }, "users[0].username", /non-empty name without ':'/],
    ["duplicate username", { ...good, users: [{ username: "alice" }, { username: "alice" }] }, "users[1].username", /listed twice/],
    ["username with a colon", { ...good, users: [{ username: "al:ice" }] }, "users[0].username", /without ':'/],
    ["username with whitespace", { ...good, users: [{ username: "al ice" }] }, "users[0].username", /whitespace/],
    ["username with a control character", { ...good, users: [{ username: "al\u0007ice" }] }, "users[0].username", /control characters/],
    ["empty password", { ...good, users: [{ username: "alice", password: "" }] }, "users[0].password", /empty; expected 1 to 72 bytes/],
    [
        "password over 72 bytes",
        { ...good, users: [{ username: "alice", password: "é".repeat(37) }] },
        "users[0].password",
        /74 bytes long; bcrypt reads only the first 72/,
    ],
    ["bcrypt cost below 4", { ...good, bcryptCost: 3 }, "bcryptCost", /expected an integer from 4 to 31/],
    ["bcrypt cost above 31", { ...good, bcryptCost: 32 }, "bcryptCost", /expected an integer from 4 to 31/],
    [
        "direct port on every interface",
        { ...good, container: { directAccessPort: 5000, directAccessAddress: "0.0.0.0" } },
        "container.directAccessAddress",
        /not a loopback address/,
    ],
    [
        "direct port on a LAN address",
        { ...good, container: { directAccessPort: 5000, directAccessAddress: "192.168.1.10" } },
        "container.directAccessAddress",
        /only be published on 127\.0\.0\.0\/8 or ::1/,
    ],
    [
        "direct port out of range",
        { ...good, container: { directAccessPort: 99999 } },
        "container.directAccessPort",
        /expected an integer from 1 to 65535/,
    ],
    [
        "certificate that does not match its key",
        supplied({ certificatePem: cert.certificatePem, privateKeyPem: otherCert.privateKeyPem }),
        "tls.privateKeyPem",
        /does not match the certificate/,
    ],
    ["expired certificate", supplied(expiredCert), "tls.certificatePem", /expired on 2020-02-01T00:00:00.000Z/],
    ["certificate for another domain", supplied(wrongHostCert), "tls.certificatePem", /does not cover the domain "registry.example.com"/],
    [
        "certificate that is not PEM",
        supplied({ certificatePem: "hello", privateKeyPem: cert.privateKeyPem }),
        "tls.certificatePem",
        /is not PEM/,
    ],
    [
        "key that is not PEM",
        supplied({ certificatePem: cert.certificatePem, privateKeyPem: "not a key" }),
        "tls.privateKeyPem",
        /is not PEM/,
    ],
    [
        "CA that is not a certificate",
        supplied({ ...cert, caCertificatePem: cert.privateKeyPem }),
        "tls.caCertificatePem",
        /expected only CERTIFICATE blocks/,
    ],
    [
        "supplied mode without a key",
        supplied({ certificatePem: cert.certificatePem }),
        "tls.privateKeyPem",
        /is required with mode "supplied"/,
    ],
    [
        "supplied PEM in generated mode",
        { ...good, tls: { certificatePem: cert.certificatePem } },
        "tls.certificatePem",
        /only used with mode "supplied"/,
    ],
    ["unknown TLS mode", { ...good, tls: { mode: "acme" as never } }, "tls.mode", /expected "generated" or "supplied"/],
    ["extra DNS name that is not one", { ...good, tls: { dnsNames: ["ok.example.com", "not ok"] } }, "tls.dnsNames[1]", /not a DNS name/],
    [
        "malformed nginx image",
        { ...good, nginxImage: "Nginx:1.28!" },
        "nginxImage",
        /not an image reference; expected \[registry\/\]name\[:tag\]/,
    ],
    ["malformed registry image", { ...good, registryImage: "registry:" }, "registryImage", /not an image reference/],
    ["malformed guard image", { ...good, guardImage: "Node:LTS" }, "guardImage", /not an image reference/],
    [
        "login throttle of a fractional count",
        { ...good, loginThrottle: { maxFailures: 2.5 } },
        "loginThrottle.maxFailures",
        /expected an integer from 1 to 1000/,
    ],
    ["login throttle that is a number", { ...good, loginThrottle: 10 as never }, "loginThrottle", /not an object/],
    ["write hold of a day", { ...good, writeHoldSeconds: 86400 }, "writeHoldSeconds", /expected an integer from 1 to 3600/],
    [
        "immutable tags that are not a list",
        { ...good, immutableTags: "v*" as never },
        "immutableTags",
        /not a list; expected rules such as/,
    ],
    [
        "an immutable tag rule without tags",
        { ...good, immutableTags: [{ repositories: ["prod/**"], tags: [] }] },
        "immutableTags[0].tags",
        /must be a non-empty list of patterns, e.g. \[v\*\]/,
    ],
    [
        "an immutable tag rule with a bad tag pattern",
        { ...good, immutableTags: [{ repositories: ["prod/**"], tags: ["v1/2"] }] },
        "immutableTags[0].tags[0]",
        /"v1\/2" is not a tag pattern/,
    ],
    [
        "an immutable tag rule with a bad repository pattern",
        { ...good, immutableTags: [{ repositories: ["Prod"], tags: ["v*"] }] },
        "immutableTags[0].repositories[0]",
        /"Prod" is not a repository pattern/,
    ],
    [
        "an immutable tag rule with an unknown key",
        { ...good, immutableTags: [{ repositories: ["prod/**"], tags: ["v*"], mutable: false } as never] },
        "immutableTags[0].mutable",
        /is not a rule setting; expected one of repositories, tags/,
    ],
    [
        "unknown restart policy",
        { ...good, container: { restart: "sometimes" as never } },
        "container.restart",
        /expected one of no, on-failure, always, unless-stopped/,
    ],
    ["unknown runtime", { ...good, runtime: "nomad" as never }, "runtime", /not a runtime; expected one of container, swarm, kubernetes/],
    [
        "unknown container setting",
        { ...good, container: { bindAdress: "127.0.0.1" } as never },
        "container.bindAdress",
        /not a container runtime setting; expected one of bindAddress, directAccessPort/,
    ],
    [
        "swarm settings on the container runtime",
        { ...good, swarm: { replicas: { proxy: 3 } } },
        "swarm",
        /applies to runtime swarm only; set runtime: swarm or remove it/,
    ],
    [
        "container settings on a swarm",
        { ...good, runtime: "swarm", container: { restart: "always" }, swarm: { constraints: ["node.hostname==vm"] } },
        "container",
        /applies to runtime container only/,
    ],
];

test.each(cases)("%s is refused, naming the field, with nothing created", async (_what, args, field, detail) => {
    const before = (await registered()).filter((r) => r.custom).length;
    let error: Error | undefined;
    try {
        new components.AuthenticatedRegistry(`bad-${Math.random().toString(36).slice(2)}`, args);
    } catch (err) {
        error = err as Error;
    }
    expect(error).toBeDefined();
    expect(error!.message.startsWith(`${field}: `)).toBe(true);
    expect(error!.message).toMatch(detail);
    expect((await registered()).filter((r) => r.custom).length).toBe(before);
});

test("the table covers at least fifteen distinct fields and failures", () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    expect(new Set(cases.map((c) => c[2])).size).toBeGreaterThanOrEqual(12);
});

test("a password is never echoed in its error", () => {
    const password = "x".repeat(80);
    expect(() => new components.AuthenticatedRegistry("echo", { ...good, users: [{ username: "a", password }] })).toThrow(
        expect.objectContaining({ message: expect.not.stringContaining(password) }),
    );
});

test("a valid supplied certificate is accepted and served leaf first, with its key secret", async () => {
    const pulumi = await import("@pulumi/pulumi");
    const material = new components.TlsMaterial("ok", {
        domain: "registry.example.com",
        mode: "supplied",
        ...cert,
        caCertificatePem: cert.certificatePem,
    });
    const { valueOf } = await import("./mocks");
    expect(await valueOf(material.certificatePem)).toBe(cert.certificatePem);
    expect(await valueOf(material.caCertificatePem)).toBe(cert.certificatePem);
    expect(await valueOf(material.privateKeyPem)).toBe(cert.privateKeyPem);
    expect(await pulumi.isSecret(material.privateKeyPem)).toBe(true);
    expect(await pulumi.isSecret(material.certificatePem)).toBe(false);
});
