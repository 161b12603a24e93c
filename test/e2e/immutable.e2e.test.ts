/**
 * Immutable tags on the real engine with the real docker client, in basic mode and then, on the
 * same stack, in token mode: release tags `v*` in `prod/**` never move once pushed and are never
 * deleted, while `latest` moves and new release tags are pushed. Each refusal is the docker
 * client's own `denied`, naming the rule, and the refused write leaves the old image as it was.
 */
import * as fs from "fs";
import * as path from "path";
import { curl, DockerClient, DockerTrust, HttpAnswer, loopbackStackConfig, Stack, standInImages } from "./harness";

const port = 29143;
const host = `localhost:${port}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
const rule = "immutableTags[0]: tags v* in prod/**";
const refusal = `denied: requested access to the resource is denied: the tag is immutable (${rule})`;
let password: string;

/** The digest a push printed. */
function pushed(client: DockerClient, ref: string): string {
    const output = client.ok(["push", ref]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1];
    if (digest === undefined) throw new Error(`docker push ${ref} printed no digest:\n${output}`);
    return digest;
}

/** An API request as the release user: basic credentials, or in token mode a token for `scope` first. */
function asRelease(method: string, url: string, scope: string, token: boolean): HttpAnswer {
    const credentials = ["--user", `release:${password}`];
    if (!token) return curl(`https://${host}${url}`, caFile, ["--request", method, ...credentials]);
    const answer = curl(`https://${host}/token?service=${host}&scope=${scope}`, caFile, credentials);
    expect(answer.status).toBe(200);
    const bearer = JSON.parse(answer.body).token as string;
    return curl(`https://${host}${url}`, caFile, ["--request", method, "--header", `Authorization: Bearer ${bearer}`]);
}

beforeAll(() => {
    stack.init(
        loopbackStackConfig(
            port,
            ["    - username: release", "      access:", "        - repositories: ['**']", "          actions: [pull, push, delete]"],
            { extra: ["  authenticated-registry:immutableTags:", "    - repositories: [prod/**]", "      tags: [v*]"] },
        ),
    );
    stack.up();
    const outputs = stack.outputs();
    password = outputs.passwords.release;
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    trust.trustFile(caFile);
});

afterAll(() => {
    stack.run(["destroy", "--yes", "--config-file", stack.configFile]);
    stack.removeAll();
    trust.remove();
});

describe.each([
    ["basic", false],
    ["token", true],
] as const)("%s mode", (mode, token) => {
    const client = new DockerClient();
    const release = `${host}/prod/app:v1-${mode}`;
    const latest = `${host}/prod/app:latest`;
    let v1: { id: string; digest: string };

    beforeAll(() => {
        if (token) {
            stack.setConfig("auth.mode", "token");
            stack.setConfig("auth.tokenServiceImage", standInImages.node);
            stack.up();
        }
        expect(client.login(host, "release", password).status).toBe(0);
    });

    test("a release tag is pushed once; pushed again with other content it is refused as denied, naming the rule", () => {
        const id = client.buildRandomImage(release);
        v1 = { id, digest: pushed(client, release) };
        client.buildRandomImage(release);
        const again = client.run(["push", release]);
        expect({ status: again.status, refusal: again.stderr.includes(refusal) }).toEqual({ status: 1, refusal: true });
    });

    test("the refused push left the release as it was: its tag and its digest pull the first image", () => {
        client.ok(["rmi", "--force", release]);
        client.ok(["pull", release]);
        expect(client.ok(["image", "inspect", "--format", "{{.Id}}", release]).trim()).toBe(v1.id);
        client.ok(["pull", `${host}/prod/app@${v1.digest}`]);
    });

    test("latest moves, and a new release tag is pushed", () => {
        client.buildRandomImage(latest);
        const first = pushed(client, latest);
        client.buildRandomImage(latest);
        expect(pushed(client, latest)).not.toBe(first);
        client.buildRandomImage(`${release}.1`);
        pushed(client, `${release}.1`);
    });

    test("a user with a delete grant cannot delete the release, by tag or by digest; the answer is denied, naming the rule", () => {
        const scope = "repository:prod/app:pull,push,delete";
        for (const reference of [`v1-${mode}`, v1.digest]) {
            const answer = asRelease("DELETE", `/v2/prod/app/manifests/${reference}`, scope, token);
            expect({ reference, status: answer.status, body: JSON.parse(answer.body) }).toEqual({
                reference,
                status: 403,
                body: {
                    errors: [{ code: "DENIED", message: `requested access to the resource is denied: the tag is immutable (${rule})` }],
                },
            });
        }
        client.ok(["rmi", "--force", release]);
        client.ok(["pull", release]);
    });

    test("outside the rule's repositories, tags move and manifests are deleted as the grants say", () => {
        const staging = `${host}/staging/app:v1-${mode}`;
        client.buildRandomImage(staging);
        pushed(client, staging);
        client.buildRandomImage(staging);
        const digest = pushed(client, staging);
        const answer = asRelease("DELETE", `/v2/staging/app/manifests/${digest}`, "repository:staging/app:pull,push,delete", token);
        expect(answer.status).toBe(202);
    });
});
