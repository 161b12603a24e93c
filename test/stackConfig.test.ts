import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { configSchema, parseStackConfig } from "../infra/config";

const ns = "authenticated-registry";
const minimal = { [`${ns}:domain`]: "localhost", [`${ns}:users`]: JSON.stringify([{ username: "dev" }]) };

test("parses every documented key into typed settings", () => {
    const settings = parseStackConfig({
        ...minimal,
        [`${ns}:port`]: "5043",
        [`${ns}:container`]: JSON.stringify({ bindAddress: "127.0.0.1", directAccessPort: 5000, restart: "always" }),
        [`${ns}:users`]: JSON.stringify([{ username: "dev" }, { username: "ci", password: "pw" }]),
        [`${ns}:bcryptCost`]: "8",
        [`${ns}:tls`]: JSON.stringify({ mode: "generated", ipAddresses: ["127.0.0.1"], validityHours: 720 }),
        [`${ns}:nginxImage`]: "nginx:1.28.0",
        [`${ns}:registryImage`]: "registry:2.8.3",
        [`${ns}:dataVolumeName`]: "registry-data",
        [`${ns}:deleteDataOnDestroy`]: "false",
        [`${ns}:auth`]: JSON.stringify({ mode: "token", tokenLifetimeSeconds: 600 }),
        "docker:host": "unix:///var/run/docker.sock",
    });
    expect(settings).toEqual({
        domain: "localhost",
        port: 5043,
        container: { bindAddress: "127.0.0.1", directAccessPort: 5000, restart: "always" },
        users: [{ username: "dev" }, { username: "ci", password: "pw" }],
        bcryptCost: 8,
        tls: { mode: "generated", ipAddresses: ["127.0.0.1"], validityHours: 720 },
        nginxImage: "nginx:1.28.0",
        registryImage: "registry:2.8.3",
        dataVolumeName: "registry-data",
        deleteDataOnDestroy: false,
        auth: { mode: "token", tokenLifetimeSeconds: 600 },
    });
});

test("reads the container settings 0.1 had at the top level as the container runtime's, and says where they belong", () => {
    const settings = parseStackConfig({
        ...minimal,
        [`${ns}:bindAddress`]: "127.0.0.1",
        [`${ns}:metricsPort`]: "9113",
        [`${ns}:restart`]: "always",
        [`${ns}:container`]: JSON.stringify({ directAccessPort: 5000 }),
    });
    expect(settings).toEqual({
        domain: "localhost",
        users: [{ username: "dev" }],
        container: { directAccessPort: 5000, bindAddress: "127.0.0.1", metricsPort: 9113, restart: "always" },
        notices: [
            `${ns}:bindAddress is read as ${ns}:container.bindAddress; move it there (\`pulumi config set --path container.bindAddress ...\`)`,
            `${ns}:metricsPort is read as ${ns}:container.metricsPort; move it there (\`pulumi config set --path container.metricsPort ...\`)`,
            `${ns}:restart is read as ${ns}:container.restart; move it there (\`pulumi config set --path container.restart ...\`)`,
        ],
    });
});

test("parses the swarm runtime's settings", () => {
    const swarm = { replicas: { proxy: 3 }, constraints: ["node.hostname==vm"], publishMode: "host" };
    expect(parseStackConfig({ ...minimal, [`${ns}:runtime`]: "swarm", [`${ns}:swarm`]: JSON.stringify(swarm) })).toEqual({
        domain: "localhost",
        users: [{ username: "dev" }],
        runtime: "swarm",
        swarm,
    });
});

test("parses retention rules, and refuses one that deletes nothing, naming the key", () => {
    const rules = [{ repositories: ["team/**"], keepNewest: 5, keepTags: ["v*"] }];
    expect(parseStackConfig({ ...minimal, [`${ns}:retention`]: JSON.stringify(rules) })).toEqual({
        domain: "localhost",
        users: [{ username: "dev" }],
        retention: rules,
    });
    expect(() => parseStackConfig({ ...minimal, [`${ns}:retention`]: JSON.stringify([{ repositories: ["team/**"] }]) })).toThrow(
        `${ns}:retention[0]: deletes nothing; set keepNewest, maxAgeDays or deleteUntagged: true`,
    );
});

test("parses immutable tag rules, and refuses a bad one naming the key", () => {
    const rules = [{ repositories: ["prod/**"], tags: ["v*"] }];
    expect(parseStackConfig({ ...minimal, [`${ns}:immutableTags`]: JSON.stringify(rules) })).toEqual({
        domain: "localhost",
        users: [{ username: "dev" }],
        immutableTags: rules,
    });
    expect(() => parseStackConfig({ ...minimal, [`${ns}:immutableTags`]: JSON.stringify([{ repositories: ["prod/**"] }]) })).toThrow(
        `${ns}:immutableTags[0].tags: must be a non-empty list of patterns, e.g. [v*]`,
    );
});

test("parses the kubernetes runtime's settings", () => {
    const kubernetes = { namespace: "images", replicas: { proxy: 3 }, serviceType: "NodePort", nodePort: 30543 };
    expect(parseStackConfig({ ...minimal, [`${ns}:runtime`]: "kubernetes", [`${ns}:kubernetes`]: JSON.stringify(kubernetes) })).toEqual({
        domain: "localhost",
        users: [{ username: "dev" }],
        runtime: "kubernetes",
        kubernetes,
    });
});

test.each([
    ["an unknown key", { ...minimal, [`${ns}:prot`]: "5043" }, `${ns}:prot: is not a known setting; expected one of domain, port`],
    ["a port that is not a number", { ...minimal, [`${ns}:port`]: "https" }, `${ns}:port: "https" is not an integer`],
    [
        "a boolean that is not one",
        { ...minimal, [`${ns}:deleteDataOnDestroy`]: "yes" },
        `${ns}:deleteDataOnDestroy: "yes" is not a boolean`,
    ],
    ["a missing domain", { [`${ns}:users`]: minimal[`${ns}:users`] }, `${ns}:domain: is required`],
    ["missing users", { [`${ns}:domain`]: "localhost" }, `${ns}:users: is required`],
    ["users that are not a list", { ...minimal, [`${ns}:users`]: "dev" }, `${ns}:users: is not structured config`],
    ["a user without a name", { ...minimal, [`${ns}:users`]: JSON.stringify([{ password: "x" }]) }, `${ns}:users[0].username: is missing`],
    [
        "an unknown user setting",
        { ...minimal, [`${ns}:users`]: JSON.stringify([{ username: "a", role: "admin" }]) },
        `${ns}:users[0].role: is not a known user setting`,
    ],
    [
        "an unknown TLS setting",
        { ...minimal, [`${ns}:tls`]: JSON.stringify({ mdoe: "generated" }) },
        `${ns}:tls.mdoe: is not a known TLS setting`,
    ],
    [
        "a TLS mode that does not exist",
        { ...minimal, [`${ns}:tls`]: JSON.stringify({ mode: "acme" }) },
        `${ns}:tls.mode: "acme" is not a TLS mode`,
    ],
    [
        "IP addresses that are not a list",
        { ...minimal, [`${ns}:tls`]: JSON.stringify({ ipAddresses: "127.0.0.1" }) },
        `${ns}:tls.ipAddresses: is not a list of strings`,
    ],
    [
        "a container setting both where 0.1 read it and under container",
        { ...minimal, [`${ns}:bindAddress`]: "127.0.0.1", [`${ns}:container`]: JSON.stringify({ bindAddress: "0.0.0.0" }) },
        `${ns}:bindAddress: is set here and as container.bindAddress; keep container.bindAddress only`,
    ],
    [
        "an unknown container setting",
        { ...minimal, [`${ns}:container`]: JSON.stringify({ bindAdress: "127.0.0.1" }) },
        `${ns}:container.bindAdress: is not a container runtime setting; expected one of bindAddress, directAccessPort, directAccessAddress, metricsPort, metricsAddress, restart`,
    ],
    [
        "a metrics port on an address that is not loopback",
        { ...minimal, [`${ns}:container`]: JSON.stringify({ metricsPort: 9113, metricsAddress: "0.0.0.0" }) },
        `${ns}:container.metricsAddress: "0.0.0.0" is not a loopback address`,
    ],
    [
        "container settings on a swarm",
        { ...minimal, [`${ns}:runtime`]: "swarm", [`${ns}:container`]: JSON.stringify({ restart: "always" }) },
        `${ns}:container: applies to runtime container only; set runtime: container or remove it`,
    ],
    [
        "a restart policy Docker does not know",
        { ...minimal, [`${ns}:restart`]: "sometimes" },
        `${ns}:restart: "sometimes" is not a restart policy`,
    ],
    [
        "an auth mode that does not exist",
        { ...minimal, [`${ns}:auth`]: JSON.stringify({ mode: "oauth" }) },
        `${ns}:auth.mode: "oauth" is not an auth mode; expected basic or token`,
    ],
    [
        "a token setting in basic mode",
        { ...minimal, [`${ns}:auth`]: JSON.stringify({ tokenLifetimeSeconds: 600 }) },
        `${ns}:auth.tokenLifetimeSeconds: applies to mode token only; set mode: token or remove it`,
    ],
    [
        "storage of an unknown kind",
        { ...minimal, [`${ns}:storage`]: JSON.stringify({ kind: "azure" }) },
        `${ns}:storage.kind: "azure" is not a storage kind; expected filesystem or s3`,
    ],
    [
        "s3 storage without a bucket",
        { ...minimal, [`${ns}:storage`]: JSON.stringify({ kind: "s3", accessKey: "a", secretKey: "b" }) },
        `${ns}:storage.bucket: undefined is not a bucket name`,
    ],
    [
        "auth that is not structured",
        { ...minimal, [`${ns}:auth`]: "token" },
        `${ns}:auth: is not structured config; expected an object such as {mode: token}`,
    ],
    [
        "a runtime that does not exist",
        { ...minimal, [`${ns}:runtime`]: "nomad" },
        `${ns}:runtime: "nomad" is not a runtime; expected one of container, swarm, kubernetes`,
    ],
    [
        "swarm settings on the container runtime",
        { ...minimal, [`${ns}:swarm`]: JSON.stringify({ publishMode: "host" }) },
        `${ns}:swarm: applies to runtime swarm only; set runtime: swarm or remove it`,
    ],
    [
        "a container setting on a swarm",
        { ...minimal, [`${ns}:runtime`]: "swarm", [`${ns}:bindAddress`]: "127.0.0.1" },
        `${ns}:bindAddress: applies to runtime container only; remove it, or set runtime: container`,
    ],
    [
        "an unknown swarm setting",
        { ...minimal, [`${ns}:runtime`]: "swarm", [`${ns}:swarm`]: JSON.stringify({ replica: 3 }) },
        `${ns}:swarm.replica: is not a swarm setting; expected one of replicas, constraints, publishMode, edgeImage`,
    ],
    [
        "a replica count of zero",
        { ...minimal, [`${ns}:runtime`]: "swarm", [`${ns}:swarm`]: JSON.stringify({ replicas: { registry: 0 } }) },
        `${ns}:swarm.replicas.registry: 0 is not a task count; expected an integer from 1 to 32`,
    ],
    [
        "a constraint Swarm would not parse",
        { ...minimal, [`${ns}:runtime`]: "swarm", [`${ns}:swarm`]: JSON.stringify({ constraints: ["hostname=vm"] }) },
        `${ns}:swarm.constraints[0]: "hostname=vm" is not a placement constraint`,
    ],
    [
        "a login throttle that refuses nobody",
        { ...minimal, [`${ns}:loginThrottle`]: JSON.stringify({ maxFailures: 0 }) },
        `${ns}:loginThrottle.maxFailures: 0 is not valid; expected an integer from 1 to 1000`,
    ],
    [
        "an unknown login throttle setting",
        { ...minimal, [`${ns}:loginThrottle`]: JSON.stringify({ banSeconds: 60 }) },
        `${ns}:loginThrottle.banSeconds: is not a login throttle setting; expected one of enabled, maxFailures`,
    ],
    [
        "a cap shorter than the first cooling-off",
        { ...minimal, [`${ns}:loginThrottle`]: JSON.stringify({ cooldownSeconds: 600, maxCooldownSeconds: 60 }) },
        `${ns}:loginThrottle.maxCooldownSeconds: 60 is shorter than cooldownSeconds (600); expected at least that`,
    ],
    [
        "a throttle switch that is not a boolean",
        { ...minimal, [`${ns}:loginThrottle`]: JSON.stringify({ enabled: "no" }) },
        `${ns}:loginThrottle.enabled: "no" is not a boolean; expected true or false`,
    ],
    [
        "a write hold of no time",
        { ...minimal, [`${ns}:writeHoldSeconds`]: "0" },
        `${ns}:writeHoldSeconds: 0 is not valid; expected an integer from 1 to 3600`,
    ],
])("refuses %s, naming the key", (_what, config, message) => {
    expect(() => parseStackConfig(config)).toThrow(message);
});

test.each(["Pulumi.dev.yaml", "Pulumi.swarm.yaml", "Pulumi.kubernetes.yaml"])("%s sets only documented keys, and parses", (file) => {
    const yaml = fs.readFileSync(path.join(__dirname, "..", file), "utf8");
    const keys = [...yaml.matchAll(/^ {2}authenticated-registry:(\w+):/gm)].map((m) => m[1]);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
        expect(Object.keys(configSchema)).toContain(key);
    }
});

test.each(["Pulumi.dev.yaml", "Pulumi.swarm.yaml", "Pulumi.kubernetes.yaml"])(
    "the committed %s carries no encryptionsalt: that belongs to each developer's own passphrase",
    (file) => {
        // The working copy gains one at a developer's first `up`; what matters is what a clone gets.
        const committed = spawnSync("git", ["show", `HEAD:${file}`], { cwd: path.join(__dirname, ".."), encoding: "utf8" });
        expect(committed.status).toBe(0);
        expect(committed.stdout).toContain("authenticated-registry:domain:");
        expect(committed.stdout).not.toMatch(/^encryptionsalt:/m);
    },
);
