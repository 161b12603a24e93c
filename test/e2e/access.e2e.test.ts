/**
 * Per-user grants on the real engine with the real docker client: pull-only nodes, a push-everywhere
 * CI user, and a team confined to its own space that reads the shared base images. Every
 * refusal the docker client can express is made with it; the rest with curl.
 */
import * as fs from "fs";
import * as path from "path";
import { curl, DockerClient, DockerTrust, HttpAnswer, loopbackStackConfig, Stack } from "./harness";

const port = 17043;
const host = `localhost:${port}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
const clients: Record<string, DockerClient> = { ci: new DockerClient(), node: new DockerClient(), "team-a": new DockerClient() };
let passwords: Record<string, string>;

function config(nodeGrants: string[]): string {
    return loopbackStackConfig(port, [
        "    - username: ci",
        "    - username: node",
        "      access:",
        ...nodeGrants,
        "    - username: team-a",
        "      access:",
        "        - repositories: [team-a/**]",
        "          actions: [pull, push, delete]",
        "        - repositories: [base/*]",
        "          actions: [pull]",
    ]);
}
const pullOnly = ["        - repositories: ['**']", "          actions: [pull]"];

function as(user: string, url: string, args: string[] = []): HttpAnswer {
    return curl(`https://${host}${url}`, caFile, ["--user", `${user}:${passwords[user]}`, ...args]);
}

/** A refusal as the proxy gives it: 403, the registry's JSON error, the API header once. */
function expectDenied(answer: HttpAnswer): void {
    expect({ status: answer.status, apiVersion: answer.headers["docker-distribution-api-version"], body: JSON.parse(answer.body) }).toEqual(
        {
            status: 403,
            apiVersion: ["registry/2.0"],
            body: { errors: [{ code: "DENIED", message: "requested access to the resource is denied" }] },
        },
    );
}

/** The config and first layer digests of an image in the registry, read as `user`. */
function layerOf(user: string, repository: string, tag: string): string {
    const manifest = as(user, `/v2/${repository}/manifests/${tag}`, [
        "--header",
        "Accept: application/vnd.docker.distribution.manifest.v2+json",
    ]);
    expect(manifest.status).toBe(200);
    return JSON.parse(manifest.body).layers[0].digest;
}

beforeAll(() => {
    stack.init(config(pullOnly));
    stack.up();
    const outputs = stack.outputs();
    passwords = outputs.passwords;
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    trust.trustFile(caFile);
    for (const [user, client] of Object.entries(clients)) {
        expect(client.login(host, user, passwords[user]).stdout).toContain("Login Succeeded");
    }
    // CI publishes a shared base image and another team's private one.
    for (const ref of [`${host}/base/debian:12`, `${host}/team-b/secret:1`]) {
        clients.ci.buildRandomImage(ref);
        clients.ci.ok(["push", ref]);
    }
});

afterAll(() => {
    stack.removeAll();
    trust.remove();
});

test("the pull-only node pulls, and cannot push, delete or start an upload", () => {
    clients.node.ok(["pull", `${host}/base/debian:12`]);
    const ref = `${host}/base/debian:node`;
    clients.node.ok(["tag", `${host}/base/debian:12`, ref]);
    const push = clients.node.run(["push", ref]);
    expect(push.status).not.toBe(0);
    // The docker client reports the registry's DENIED error code (the daemon retries uploads first).
    expect(push.stderr).toMatch(/^denied/m);
    expectDenied(as("node", `/v2/base/debian/manifests/12`, ["--request", "DELETE"]));
    expectDenied(as("node", `/v2/base/debian/blobs/uploads/`, ["--request", "POST"]));
});

test("the team pushes and deletes in its space and pulls the base, but cannot push the base or read another team", () => {
    const own = `${host}/team-a/app:1`;
    const id = clients["team-a"].buildRandomImage(own);
    clients["team-a"].ok(["push", own]);
    clients["team-a"].ok(["rmi", own]);
    clients["team-a"].ok(["pull", own]);
    expect(clients["team-a"].ok(["image", "inspect", "--format", "{{.Id}}", own]).trim()).toBe(id);
    clients["team-a"].ok(["pull", `${host}/base/debian:12`]);

    const intoBase = `${host}/base/debian:team-a`;
    clients["team-a"].ok(["tag", own, intoBase]);
    const push = clients["team-a"].run(["push", intoBase]);
    expect(push.status).not.toBe(0);
    // The docker client reports the registry's DENIED error code (the daemon retries uploads first).
    expect(push.stderr).toMatch(/^denied/m);

    const pull = clients["team-a"].run(["pull", `${host}/team-b/secret:1`]);
    expect(pull.status).not.toBe(0);
    expect(pull.stderr).toContain("denied");
    expectDenied(as("team-a", "/v2/team-b/secret/tags/list"));

    const digest = as("team-a", "/v2/team-a/app/manifests/1", [
        "--head",
        "--header",
        "Accept: application/vnd.docker.distribution.manifest.v2+json",
    ]).headers["docker-content-digest"][0];
    expect(as("team-a", `/v2/team-a/app/manifests/${digest}`, ["--request", "DELETE"]).status).toBe(202);
    expect(as("team-a", "/v2/team-a/app/manifests/1").status).toBe(404);
});

test("a blob mounts from a repository the user may pull, never from one it may not", () => {
    const secretLayer = layerOf("ci", "team-b/secret", "1");
    const stolen = as("team-a", `/v2/team-a/stolen/blobs/uploads/?mount=${secretLayer}&from=team-b%2Fsecret`, ["--request", "POST"]);
    expectDenied(stolen);
    expect(as("ci", `/v2/team-a/stolen/blobs/${secretLayer}`, ["--head"]).status).toBe(404);

    const baseLayer = layerOf("team-a", "base/debian", "12");
    const mounted = as("team-a", `/v2/team-a/copy/blobs/uploads/?mount=${baseLayer}&from=base%2Fdebian`, ["--request", "POST"]);
    expect(mounted.status).toBe(201);
    expect(as("team-a", `/v2/team-a/copy/blobs/${baseLayer}`, ["--head"]).status).toBe(200);
});

test("only a user with the catalog right lists the catalog", () => {
    const listing = as("ci", "/v2/_catalog");
    expect(listing.status).toBe(200);
    expect(JSON.parse(listing.body).repositories).toEqual(expect.arrayContaining(["base/debian", "team-a/app", "team-b/secret"]));
    expectDenied(as("node", "/v2/_catalog"));
    expectDenied(as("team-a", "/v2/_catalog"));
});

test("changing a user's grants with pulumi up shows in the preview and takes effect, with every image kept", () => {
    const widened = config([...pullOnly, "        - repositories: [node/**]", "          actions: [pull, push]"]);
    fs.writeFileSync(stack.configFile, fs.readFileSync(stack.configFile, "utf8").replace(config(pullOnly), widened));
    // The grants are on the proxy's access label, not only in its (secret) config file.
    const preview = stack.preview();
    expect(preview.status).toBe(0);
    expect(preview.stdout).toMatch(/authenticated-registry\.access/);
    expect(preview.stdout).toContain("node/**");
    expect(preview.stdout).toMatch(/\+-\s*docker:index\/container:Container: \(replace\)/);
    stack.up();
    const own = `${host}/node/agent:1`;
    clients.node.buildRandomImage(own);
    clients.node.ok(["push", own]);
    const push = clients.node.run(["push", `${host}/base/debian:node`]);
    expect(push.status).not.toBe(0);
    clients["team-a"].ok(["rmi", `${host}/base/debian:12`]);
    clients["team-a"].ok(["pull", `${host}/base/debian:12`]);
    expect(as("ci", "/v2/team-b/secret/tags/list").status).toBe(200);
});
