/**
 * A pull-through mirror on the real engine. The upstream is one of the registry stand-ins with
 * basic auth of its own, run here on a network of its own, published on that network's gateway
 * address, which the mirror's `remoteUrl` names, and on loopback for this suite's pushes
 * (the docker client speaks plain HTTP to loopback only). The first pull fetches from the upstream and
 * caches under `mirrors/hub` in the data volume; with the upstream stopped the cache serves;
 * a tag moved upstream is seen; the grants decide who pulls, and no one pushes; in both modes.
 */
import * as bcrypt from "bcryptjs";
import * as fs from "fs";
import * as path from "path";
import { DockerClient, DockerTrust, exec, loopbackStackConfig, ok, Stack, standInImages, waitUntil } from "./harness";

const port = 29443;
const host = `localhost:${port}`;
const upstreamPort = 29400;
const upstreamHost = `127.0.0.1:${upstreamPort}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
const upstream = `authreg-mirror-upstream-${stack.name}`;
const upstreamNetwork = `${upstream}-network`;
const upstreamPassword = "upstream-pull-secret";
const mirrored = `${host}/hub/library/app:1`;
const clients = { upstream: new DockerClient(), reader: new DockerClient(), outsider: new DockerClient(), ci: new DockerClient() };
let passwords: Record<string, string>;
let registryContainer: string;

/** Pushes a fresh image to the upstream as `library/app:TAG`; returns its ID. */
function pushUpstream(tag: string): string {
    const id = clients.upstream.buildRandomImage(`${upstreamHost}/library/app:${tag}`);
    clients.upstream.ok(["push", `${upstreamHost}/library/app:${tag}`]);
    return id;
}

/** Pulls `ref` afresh as `client`: its ID, or the docker client's error. */
function pull(client: DockerClient, ref: string): { id: string } | { error: string } {
    client.run(["rmi", "--force", ref]);
    const result = client.run(["pull", ref]);
    if (result.status !== 0) return { error: result.stderr.trim() };
    return { id: client.ok(["image", "inspect", "--format", "{{.Id}}", ref]).trim() };
}

/** Requests for `library/app` manifests in the upstream's access log. */
function upstreamManifestRequests(): number {
    const log = exec("docker", ["logs", upstream]);
    return `${log.stdout}${log.stderr}`.split("\n").filter((line) => /"(?:GET|HEAD) \/v2\/library\/app\/manifests\//.test(line)).length;
}

function login(): void {
    for (const user of ["reader", "outsider", "ci"] as const) {
        expect(clients[user].login(host, user, passwords[user]).status).toBe(0);
    }
}

beforeAll(() => {
    // The upstream, with a user of its own, on its own network, published on loopback for this suite's pushes.
    const htpasswd = path.join(stack.workDir, "upstream.htpasswd");
    fs.writeFileSync(htpasswd, `mirror:${bcrypt.hashSync(upstreamPassword, 6)}\n`, { mode: 0o644 });
    ok("docker", ["network", "create", upstreamNetwork]);
    const gateway = ok("docker", ["network", "inspect", "--format", "{{(index .IPAM.Config 0).Gateway}}", upstreamNetwork]).trim();
    ok("docker", [
        ...["run", "--detach", "--name", upstream, "--network", upstreamNetwork],
        ...["--publish", `${upstreamHost}:5000`, "--publish", `${gateway}:${upstreamPort}:5000`],
        ...[
            "--volume",
            `${htpasswd}:/auth/htpasswd:ro`,
            "--env",
            "REGISTRY_AUTH=htpasswd",
            "--env",
            "REGISTRY_AUTH_HTPASSWD_REALM=upstream",
        ],
        ...["--env", "REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd", "--env", "OTEL_TRACES_EXPORTER=none", standInImages.registry],
    ]);
    waitUntil("the upstream registry", 30_000, () => {
        const login = clients.upstream.login(upstreamHost, "mirror", upstreamPassword);
        return { done: login.status === 0, seen: login.stderr };
    });

    stack.init(
        loopbackStackConfig(
            port,
            [
                "    - username: reader",
                "      access:",
                "        - repositories: [hub/**]",
                "          actions: [pull]",
                "    - username: outsider",
                "      access:",
                "        - repositories: [team/**]",
                "          actions: [pull, push]",
                "    - username: ci",
                "      access:",
                "        - repositories: ['**']",
                "          actions: [pull, push]",
            ],
            {
                extra: [
                    "  authenticated-registry:mirrors:",
                    "    - name: hub",
                    `      remoteUrl: http://${gateway}:${upstreamPort}`,
                    "      username: mirror",
                    "      ttl: 1h",
                ],
            },
        ),
    );
    stack.setConfig("mirrors[0].password", upstreamPassword, true);
    stack.up();
    const outputs = stack.outputs();
    passwords = outputs.passwords;
    registryContainer = outputs.registryContainerName;
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    trust.trustFile(caFile);
    login();
});

afterAll(() => {
    exec("docker", ["rm", "--force", upstream]);
    exec("docker", ["network", "rm", upstreamNetwork]);
    stack.run(["destroy", "--yes", "--config-file", stack.configFile]);
    stack.removeAll();
    trust.remove();
});

let firstId: string;

test("the first pull fetches the image from the upstream, as its user, and caches it under mirrors/hub", () => {
    firstId = pushUpstream("1");
    const before = upstreamManifestRequests();
    expect(pull(clients.reader, mirrored)).toEqual({ id: firstId });
    expect(upstreamManifestRequests()).toBeGreaterThan(before);
    const cached = ok("docker", ["exec", registryContainer, "ls", "/data/mirrors/hub/docker/registry/v2/repositories/library"]);
    expect(cached.trim().split("\n")).toEqual(["app"]);
    // The registry's own repositories are elsewhere and hold no copy.
    expect(exec("docker", ["exec", registryContainer, "ls", "/data/docker/registry/v2/repositories/hub"]).status).not.toBe(0);
});

test("a user without a grant on hub/** is denied; a push to the mirror is refused as denied, naming it", () => {
    expect(pull(clients.outsider, mirrored)).toEqual({ error: expect.stringMatching(/denied/) });
    clients.ci.ok(["tag", firstId, `${host}/hub/library/app:pushed`]);
    const push = clients.ci.run(["push", `${host}/hub/library/app:pushed`]);
    expect(push.status).not.toBe(0);
    expect(push.stderr).toContain("denied: requested access to the resource is denied: hub/ is a pull-through mirror");
});

test("with the upstream stopped, the cached image still pulls", () => {
    ok("docker", ["stop", upstream]);
    try {
        expect(pull(clients.reader, mirrored)).toEqual({ id: firstId });
    } finally {
        ok("docker", ["start", upstream]);
    }
});

test("a tag moved upstream is what the next pull gets", () => {
    waitUntil("the upstream back", 30_000, () => {
        const login = clients.upstream.login(upstreamHost, "mirror", upstreamPassword);
        return { done: login.status === 0, seen: login.stderr };
    });
    const movedId = pushUpstream("1");
    expect(movedId).not.toBe(firstId);
    expect(pull(clients.reader, mirrored)).toEqual({ id: movedId });
});

test("the upstream's password is nowhere in the state, the outputs or a preview", () => {
    const preview = stack.preview();
    for (const text of [stack.ok(["stack", "export"]), stack.ok(["stack", "output", "--json"]), preview.stdout + preview.stderr]) {
        expect(text).not.toContain(upstreamPassword);
    }
});

test("in token mode the registry's check of each token decides who pulls, and no one pushes", () => {
    stack.setConfig("auth.mode", "token");
    stack.setConfig("auth.tokenServiceImage", standInImages.node);
    stack.up();
    passwords = stack.outputs().passwords;
    login();
    const id = pull(clients.reader, mirrored);
    expect(id).toEqual({ id: expect.stringMatching(/^sha256:/) });
    expect(pull(clients.outsider, mirrored)).toEqual({ error: expect.stringMatching(/denied|unauthorized/) });
    const push = clients.ci.run(["push", `${host}/hub/library/app:pushed`]);
    expect(push.status).not.toBe(0);
    expect(push.stderr).toContain("denied: requested access to the resource is denied: hub/ is a pull-through mirror");
});
