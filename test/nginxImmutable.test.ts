/**
 * Immutable tags as the real nginx enforces them, in basic mode: the rendered config runs in
 * Debian's nginx in front of a recording stand-in for the registry, which has tag `v1` of
 * `prod/app` and nothing else. For each rule the write that must be refused is here, and a
 * refused write must never reach the registry; what the rules allow reaches it as sent.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import { validateUserAccess } from "../components/access";
import { validateImmutableTags } from "../components/immutableTags";
import { renderNginxConfig } from "../components/nginxConfig";
import { createGuardHandler } from "../components/tokenService/handler";
import { freePort, localNginx, nginxCheck, RunningNginx, startNginx } from "./localNginx";
import { run } from "./tools";

const digest = `sha256:${"b".repeat(64)}`;
const rules = validateImmutableTags("immutableTags", [
    { repositories: ["prod/**"], tags: ["v*"] },
    { repositories: ["base/*"], tags: ["*"] },
]);

interface Seen {
    method: string;
    url: string;
    accept?: string;
    authorization?: string;
}
const seen: Seen[] = [];
let upstream: http.Server;
let guard: http.Server;
let nginx: RunningNginx;
let port: number;
let ca: Buffer;

beforeAll(async () => {
    const local = localNginx("localhost");
    ca = fs.readFileSync(local.paths.certificate);
    const line = run("htpasswd", ["-nbB", "-C", "4", "ci", "pw-ci"]).stdout.trim();
    fs.writeFileSync(local.paths.htpasswd, `${line}\n`, { mode: 0o644 });

    // The registry: tag v1 of prod/app exists, any other manifest does not.
    upstream = http.createServer((req, res) => {
        seen.push({ method: req.method!, url: req.url!, accept: req.headers.accept, authorization: req.headers.authorization });
        req.resume();
        req.on("end", () => {
            const exists = req.url === "/v2/prod/app/manifests/v1";
            const status = req.method === "HEAD" ? (exists ? 200 : 404) : 201;
            res.writeHead(status, { "Content-Type": "application/json", "Docker-Distribution-Api-Version": "registry/2.0" });
            res.end(req.method === "HEAD" ? undefined : "{}");
        });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    guard = http.createServer(createGuardHandler({ writeHoldSeconds: 2 }));
    await new Promise<void>((resolve) => guard.listen(0, "127.0.0.1", resolve));

    port = await freePort();
    fs.writeFileSync(
        local.paths.config,
        renderNginxConfig({
            serverName: "localhost",
            realm: "localhost",
            upstream: `127.0.0.1:${(upstream.address() as net.AddressInfo).port}`,
            listenPort: port,
            users: validateUserAccess("users", [
                { username: "ci", access: [{ repositories: ["**"], actions: ["pull", "push", "delete"] }] },
            ]),
            paths: local.paths,
            guard: { upstream: `127.0.0.1:${(guard.address() as net.AddressInfo).port}`, loginThrottle: false, writeHoldSeconds: 2 },
            immutableTags: rules,
        }),
    );
    expect(nginxCheck(local)).toMatchObject({ status: 0 });
    nginx = await startNginx(local, port);
});

afterAll(async () => {
    nginx?.stop();
    await new Promise((r) => upstream?.close(r));
    await new Promise((r) => guard?.close(r));
});

/** One request through nginx as user ci. */
function request(method: string, target: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = https.request(
            {
                host: "127.0.0.1",
                port,
                servername: "localhost",
                ca,
                method,
                path: target,
                headers: { Authorization: `Basic ${Buffer.from("ci:pw-ci").toString("base64")}` },
                agent: false,
            },
            (res) => {
                let body = "";
                res.on("data", (chunk) => (body += chunk));
                res.on("end", () => resolve({ status: res.statusCode!, body }));
            },
        );
        req.on("error", reject);
        req.end(method === "DELETE" ? undefined : "");
    });
}

const refusal = (rule: string) =>
    `${JSON.stringify({ errors: [{ code: "DENIED", message: `requested access to the resource is denied: the tag is immutable (${rule})` }] })}\n`;
const prodRule = "immutableTags[0]: tags v* in prod/**";

beforeEach(() => void (seen.length = 0));

test.each([
    ["PUT", "/v2/prod/app/manifests/v1", prodRule],
    ["DELETE", "/v2/prod/app/manifests/v1", prodRule],
    ["DELETE", "/v2/prod/app/manifests/v2", prodRule],
    ["DELETE", `/v2/prod/deep/app/manifests/${digest}`, prodRule],
    ["DELETE", "/v2/base/debian/manifests/latest", "immutableTags[1]: tags * in base/*"],
])("%s %s is refused with denied, naming the rule, and never reaches the registry as a write", async (method, target, rule) => {
    const answer = await request(method, target);
    expect(answer).toEqual({ status: 403, body: refusal(rule) });
    expect(seen.filter((s) => s.method !== "HEAD")).toEqual([]);
});

test("a push of an immutable tag asks the registry whether it exists, without the writer's password", async () => {
    await request("PUT", "/v2/prod/app/manifests/v1");
    expect(seen).toEqual([
        {
            method: "HEAD",
            url: "/v2/prod/app/manifests/v1",
            accept:
                "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, " +
                "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json",
            authorization: undefined,
        },
    ]);
});

test.each([
    ["PUT", "/v2/prod/app/manifests/v2", "a new immutable tag"],
    ["PUT", "/v2/prod/app/manifests/latest", "a tag no rule covers, which may move"],
    ["PUT", `/v2/prod/app/manifests/${digest}`, "a manifest by digest"],
    ["PUT", "/v2/staging/app/manifests/v1", "a repository no rule covers"],
    ["DELETE", `/v2/staging/app/manifests/${digest}`, "a delete outside the rules' repositories"],
    ["DELETE", "/v2/prod/app/manifests/latest", "a delete of a tag no rule covers"],
])("%s %s (%s) reaches the registry", async (method, target) => {
    const answer = await request(method, target);
    expect(answer.status).toBe(201);
    expect(seen.filter((s) => s.method !== "HEAD")).toEqual([{ method, url: target, accept: undefined, authorization: undefined }]);
});
