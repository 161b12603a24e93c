/**
 * Webhooks on the real engine: the registry's notifications to a receiver run here, in a container
 * on the stack's network. A push reaches it with the repository and digest and the configured
 * header; a pull it was not asked for does not; and while it is down, pushes and pulls go on, and
 * what it missed arrives once it is back.
 */
import * as fs from "fs";
import * as path from "path";
import { DockerClient, DockerTrust, exec, loopbackStackConfig, ok, Stack, standInImages, waitUntil } from "./harness";

const port = 29343;
const host = `localhost:${port}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
const receiver = `authreg-webhooks-${stack.name}`;
const client = new DockerClient();
/** The receiver: every POST's Authorization header and body, one JSON line each, on its output. */
const receiverProgram = `require("http").createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => { console.log(JSON.stringify({ authorization: req.headers.authorization, body: JSON.parse(body) })); res.end(); });
}).listen(8080);`;
let networkName: string;

interface Received {
    authorization?: string;
    body: { events: { action: string; target: { repository: string; digest: string; tag?: string } }[] };
}

/** What the receiver got so far, every event with the request's header. */
function received(): {
    authorization?: string;
    action: string;
    repository: string;
    digest: string;
    tag?: string;
    [key: string]: unknown;
}[] {
    const lines = exec("docker", ["logs", receiver]).stdout.trim().split("\n").filter(Boolean);
    return lines.flatMap((line) => {
        const request = JSON.parse(line) as Received;
        return request.body.events.map((event) => ({ authorization: request.authorization, action: event.action, ...event.target }));
    });
}

function startReceiver(): void {
    ok("docker", ["run", "--detach", "--name", receiver, "--network", networkName, standInImages.node, "node", "-e", receiverProgram]);
}

/** Pushes a fresh image as `ref`; returns the manifest's digest. */
function push(ref: string): string {
    client.buildRandomImage(ref);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(client.ok(["push", ref]))?.[1];
    if (digest === undefined) throw new Error(`no digest for ${ref}`);
    return digest;
}

beforeAll(() => {
    stack.init(
        loopbackStackConfig(port, "publisher", {
            extra: [
                "  authenticated-registry:notifications:",
                "    - name: receiver",
                `      url: http://${receiver}:8080/events`,
                "      events: [push, delete]",
            ],
        }),
    );
    stack.setConfig("notifications[0].headers.Authorization", "Bearer a-hook-secret", true);
    stack.up();
    const outputs = stack.outputs();
    networkName = outputs.networkName;
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    trust.trustFile(caFile);
    expect(client.login(host, "publisher", outputs.passwords.publisher).status).toBe(0);
    startReceiver();
});

afterAll(() => {
    exec("docker", ["rm", "--force", receiver]);
    stack.run(["destroy", "--yes", "--config-file", stack.configFile]);
    stack.removeAll();
    trust.remove();
});

test("a push reaches the receiver with its repository, tag and digest and the configured header; a pull does not", () => {
    const digest = push(`${host}/team/app:1`);
    client.ok(["rmi", "--force", `${host}/team/app:1`]);
    client.ok(["pull", `${host}/team/app:1`]);
    waitUntil("the push event", 30_000, () => {
        const events = received();
        return { done: events.some((e) => e.action === "push" && e.digest === digest), seen: events };
    });
    const manifestPush = received().find((e) => e.action === "push" && e.digest === digest);
    expect(manifestPush).toEqual({
        authorization: "Bearer a-hook-secret",
        action: "push",
        repository: "team/app",
        tag: "1",
        digest,
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        size: expect.any(Number),
        length: expect.any(Number),
        url: `https://${host}/v2/team/app/manifests/${digest}`,
    });
    expect(received().filter((e) => e.action === "pull")).toEqual([]);
});

test("with the receiver down, pushes and pulls go on; what it missed arrives once it is back", () => {
    ok("docker", ["rm", "--force", receiver]);
    const digest = push(`${host}/team/app:2`);
    client.ok(["rmi", "--force", `${host}/team/app:2`]);
    client.ok(["pull", `${host}/team/app:2`]);
    startReceiver();
    waitUntil("the missed push event, retried", 60_000, () => {
        const events = received();
        return { done: events.some((e) => e.action === "push" && e.digest === digest), seen: events.length };
    });
});
