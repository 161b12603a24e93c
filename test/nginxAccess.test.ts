/**
 * The access rules as the real nginx enforces them: the rendered config runs in Debian's nginx
 * on loopback, in front of a recording stand-in for the registry, and every case is a request
 * with real credentials. For each rule the request that must be refused is here, and a refused
 * request must never reach the registry.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import { validateUserAccess } from "../components/access";
import { UserAccess } from "../components/grants";
import { deniedBody, readOnlyBody, renderNginxConfig } from "../components/nginxConfig";
import { createGuardHandler } from "../components/tokenService/handler";
import { accessExample } from "./accessExample";
import { freePort, localNginx, RunningNginx, startNginx } from "./localNginx";
import { run } from "./tools";

/** The example's users, plus one whose name is an nginx keyword, with passwords. */
const users: UserAccess[] = [...accessExample, { username: "default", access: [{ repositories: ["public/*"], actions: ["pull"] }] }];
const password = (username: string) => `pw-${username}`;

interface Seen {
    method: string;
    url: string;
    authorization?: string;
}
const seen: Seen[] = [];
let upstream: http.Server;
let guard: http.Server;
let guardPort: number;
let nginx: RunningNginx;
let port: number;
let ca: Buffer;

beforeAll(async () => {
    const local = localNginx("localhost");
    const paths = local.paths;
    ca = fs.readFileSync(paths.certificate);
    const lines = users.map((u) => run("htpasswd", ["-nbB", "-C", "4", u.username, password(u.username)]).stdout.trim());
    fs.writeFileSync(paths.htpasswd, lines.join("\n") + "\n", { mode: 0o644 });

    upstream = http.createServer((req, res) => {
        seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
        req.resume();
        req.on("end", () => {
            res.writeHead(200, { "Content-Type": "application/json", "Docker-Distribution-Api-Version": "registry/2.0" });
            res.end("{}");
        });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const upstreamPort = (upstream.address() as net.AddressInfo).port;

    // The real guard, with a short hold; no login throttle here (nginxThrottle.test.ts has it).
    guard = http.createServer(createGuardHandler({ writeHoldSeconds: 2 }));
    await new Promise<void>((resolve) => guard.listen(0, "127.0.0.1", resolve));
    guardPort = (guard.address() as net.AddressInfo).port;

    port = await freePort();
    fs.writeFileSync(
        paths.config,
        renderNginxConfig({
            serverName: "localhost",
            realm: "localhost",
            upstream: `127.0.0.1:${upstreamPort}`,
            listenPort: port,
            users: validateUserAccess("users", users),
            paths,
            guard: { upstream: `127.0.0.1:${guardPort}`, loginThrottle: false, writeHoldSeconds: 2 },
        }),
    );
    nginx = await startNginx(local, port);
});

afterAll(async () => {
    nginx?.stop();
    await new Promise((r) => upstream?.close(r));
    await new Promise((r) => guard?.close(r));
});

interface Answer {
    status: number;
    apiVersion: string | string[] | undefined;
    body: string;
}

/** One request through nginx, `target` sent exactly as written. */
function request(
    user: string | undefined,
    method: string,
    target: string,
    headers: Record<string, string> = {},
    pass?: string,
): Promise<Answer> {
    const auth =
        user === undefined ? {} : { Authorization: `Basic ${Buffer.from(`${user}:${pass ?? password(user)}`).toString("base64")}` };
    return new Promise((resolve, reject) => {
        const req = https.request(
            { host: "127.0.0.1", port, servername: "localhost", ca, method, path: target, headers: { ...auth, ...headers }, agent: false },
            (res) => {
                let body = "";
                res.on("data", (chunk) => (body += chunk));
                res.on("end", () => resolve({ status: res.statusCode!, apiVersion: res.headers["docker-distribution-api-version"], body }));
            },
        );
        req.on("error", reject);
        req.end(method === "GET" || method === "HEAD" || method === "DELETE" ? undefined : "");
    });
}

const digest = `sha256:${"a".repeat(64)}`;
const upload = "/blobs/uploads/";

type Case = [user: string, method: string, target: string, headers?: Record<string, string>];

/** Requests a grant allows: each reaches the registry as sent, without credentials. */
const allowed: Case[] = [
    ["ci", "GET", "/v2/"],
    ["ci", "GET", "/v2/_catalog?n=100"],
    ["ci", "GET", "/v2/anything/deep/name/manifests/latest"],
    ["ci", "PUT", "/v2/anything/manifests/v1"],
    ["ci", "POST", `/v2/team-b/app${upload}`],
    ["ci", "POST", `/v2/team-a/app${upload}?mount=${digest}&from=team-b/app`],
    ["node", "GET", "/v2/"],
    ["node", "GET", "/v2/team-b/secret/manifests/latest"],
    ["node", "HEAD", `/v2/base/debian/blobs/${digest}`],
    ["node", "GET", "/v2/base/debian/tags/list?n=10&last=a"],
    ["node", "GET", `/v2/team-a/app/referrers/${digest}?artifactType=application%2Fvnd.example`],
    ["team-a", "GET", "/v2/team-a/app/manifests/latest"],
    ["team-a", "GET", "/v2/team-a/deep/nested/app/manifests/latest"],
    ["team-a", "PUT", "/v2/team-a/app/manifests/latest"],
    ["team-a", "DELETE", `/v2/team-a/app/manifests/${digest}`],
    ["team-a", "DELETE", `/v2/team-a/app/blobs/${digest}`],
    ["team-a", "POST", `/v2/team-a/app${upload}`],
    ["team-a", "PATCH", `/v2/team-a/app${upload}0b5c7a4e-5a2d-4c8b-8e7c-9e3f2d1a0b9c?_state=abc`],
    ["team-a", "PUT", `/v2/team-a/app${upload}0b5c7a4e-5a2d-4c8b-8e7c-9e3f2d1a0b9c?digest=${digest.replace(":", "%3A")}`],
    ["team-a", "GET", "/v2/base/debian/manifests/12"],
    ["team-a", "POST", `/v2/team-a/app${upload}?mount=${digest}&from=base/debian`],
    // The docker client encodes the slash of `from`; the registry decodes it.
    ["team-a", "POST", `/v2/team-a/app${upload}?mount=${digest.replace(":", "%3A")}&from=base%2Fdebian`],
    ["auditor", "GET", "/v2/_catalog"],
    ["auditor", "GET", "/v2/audit-only/tags/list"],
    ["default", "GET", "/v2/public/tool/manifests/1"],
];

/** Requests no grant allows: each is refused with 403 and never reaches the registry. */
const refused: [why: string, ...Case][] = [
    ["pull-only pushes a manifest", "node", "PUT", "/v2/base/debian/manifests/latest"],
    ["pull-only starts an upload", "node", "POST", `/v2/base/debian${upload}`],
    ["pull-only continues an upload", "node", "PATCH", `/v2/base/debian${upload}some-upload-id`],
    ["pull-only deletes a manifest", "node", "DELETE", `/v2/base/debian/manifests/${digest}`],
    ["pull-only deletes a blob", "node", "DELETE", `/v2/base/debian/blobs/${digest}`],
    ["a user with grants and no catalog right lists the catalog", "node", "GET", "/v2/_catalog"],
    ["push without delete deletes", "ci", "DELETE", `/v2/anything/manifests/${digest}`],
    ["a team pushes into the shared base", "team-a", "PUT", "/v2/base/debian/manifests/latest"],
    ["a team starts an upload in the shared base", "team-a", "POST", `/v2/base/debian${upload}`],
    ["a team reads another team", "team-a", "GET", "/v2/team-b/secret/manifests/latest"],
    ["a team lists another team's tags", "team-a", "GET", "/v2/team-b/secret/tags/list"],
    ["a team deletes in the shared base", "team-a", "DELETE", `/v2/base/debian/manifests/${digest}`],
    ["`*` matches one segment only", "team-a", "GET", "/v2/base/debian/extra/manifests/12"],
    ["`team-a/**` does not match team-a itself", "team-a", "GET", "/v2/team-a/manifests/latest"],
    ["a prefix is not a segment", "team-a", "GET", "/v2/team-ab/app/manifests/latest"],
    ["a mount reads another team's blob", "team-a", "POST", `/v2/team-a/app${upload}?mount=${digest}&from=team-b/secret`],
    ["a mount with the slash encoded", "team-a", "POST", `/v2/team-a/app${upload}?mount=${digest}&from=team-b%2Fsecret`],
    ["a mount with the name's letters encoded", "team-a", "POST", `/v2/team-a/app${upload}?mount=${digest}&from=team-%62/secret`],
    ["a second from after an allowed one", "team-a", "POST", `/v2/team-a/app${upload}?mount=${digest}&from=base/debian&from=team-b/secret`],
    ["an upper-case FROM before the real one", "team-a", "POST", `/v2/team-a/app${upload}?mount=${digest}&FROM=base/debian&from=team-b/x`],
    ["an encoded parameter name", "team-a", "POST", `/v2/team-a/app${upload}?mount=${digest}&fr%6Fm=team-b/secret`],
    ["an unknown parameter", "team-a", "POST", `/v2/team-a/app${upload}?mount=${digest}&from=base/debian&x=1`],
    [
        "upload parameters in a form body, which nginx cannot see",
        "ci",
        "POST",
        `/v2/team-a/app${upload}`,
        { "Content-Type": "application/x-www-form-urlencoded" },
    ],
    ["a multipart form body", "ci", "POST", `/v2/team-a/app${upload}`, { "Content-Type": "Multipart/Form-Data; boundary=x" }],
    ["an encoded slash in the path", "team-a", "GET", "/v2/team-a%2F..%2Fteam-b/app/manifests/latest"],
    ["a dot segment in the path", "team-a", "GET", "/v2/team-a/./app/manifests/latest"],
    ["a doubled slash", "team-a", "GET", "/v2/team-a//app/manifests/latest"],
    ["an upper-case repository", "ci", "GET", "/v2/Team-A/app/manifests/latest"],
    ["a route the registry does not have", "ci", "GET", "/v2/team-a/app/unknown/latest"],
    ["a method the route does not take", "ci", "OPTIONS", "/v2/team-a/app/manifests/latest"],
    ["the keyword-named user outside its grant", "default", "GET", "/v2/team-b/secret/manifests/latest"],
    ["a catalog user outside its grant", "auditor", "GET", "/v2/team-a/app/manifests/latest"],
];

// Spread parameters: jest would take a fourth named parameter that a row leaves out for `done`.
test.each(allowed)("%s may %s %s", async (...[user, method, target, headers]: Case) => {
    const before = seen.length;
    const answer = await request(user, method, target, headers);
    expect({ status: answer.status, apiVersion: answer.apiVersion }).toEqual({ status: 200, apiVersion: "registry/2.0" });
    expect(seen.slice(before)).toEqual([{ method, url: target, authorization: undefined }]);
});

test.each(refused)("refused: %s (%s %s %s)", async (...[, user, method, target, headers]: [string, ...Case]) => {
    const before = seen.length;
    const answer = await request(user, method, target, headers);
    expect(answer.status).toBe(403);
    expect(answer.apiVersion).toBe("registry/2.0");
    if (method !== "HEAD") {
        expect(JSON.parse(answer.body)).toEqual(JSON.parse(deniedBody));
    }
    expect(seen.slice(before)).toEqual([]);
});

test("a wrong password gets 401 even where the user's grants would refuse: no grant is revealed", async () => {
    for (const [user, method, target] of [
        ["node", "PUT", "/v2/base/debian/manifests/latest"],
        ["team-a", "GET", "/v2/team-b/secret/manifests/latest"],
        ["team-a", "GET", "/v2/team-a/app/manifests/latest"],
    ]) {
        const answer = await request(user, method, target, {}, "wrong");
        expect({ target, status: answer.status, apiVersion: answer.apiVersion }).toEqual({
            target,
            status: 401,
            apiVersion: "registry/2.0",
        });
    }
    const anonymous = await request(undefined, "GET", "/v2/_catalog");
    expect(anonymous.status).toBe(401);
});

/** Sets the guard's maintenance phase, as scripts/gc.sh does from inside its container. */
async function maintenance(phase: string): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${guardPort}/_guard/maintenance?phase=${phase}&leaseSeconds=60&quietSeconds=3`);
    expect(res.status).toBe(200);
}

describe("held while garbage collection runs, as scripts/gc.sh sets it", () => {
    afterEach(() => maintenance("open"));

    test.each<Case>([
        ["ci", "POST", `/v2/team-b/app${upload}`],
        ["ci", "PATCH", `/v2/team-b/app${upload}some-upload-id`],
        ["ci", "PUT", `/v2/team-b/app${upload}some-upload-id?digest=${digest}`],
        ["ci", "PUT", "/v2/anything/manifests/v1"],
        ["team-a", "DELETE", `/v2/team-a/app/manifests/${digest}`],
    ])("%s's %s %s waits, and reaches the registry once the collection ends", async (...[user, method, target]: Case) => {
        await maintenance("closed");
        const before = seen.length;
        const answer = request(user, method, target);
        await new Promise((r) => setTimeout(r, 500));
        expect(seen.slice(before)).toEqual([]);
        await maintenance("open");
        expect((await answer).status).toBe(200);
        expect(seen.slice(before)).toEqual([expect.objectContaining({ method, url: target })]);
    });

    test("a write held past the hold gets 503 with Retry-After, and never reaches the registry", async () => {
        await maintenance("closed");
        const before = seen.length;
        const answer = await request("ci", "PUT", "/v2/anything/manifests/v1");
        expect({ status: answer.status, apiVersion: answer.apiVersion, body: JSON.parse(answer.body) }).toEqual({
            status: 503,
            apiVersion: "registry/2.0",
            body: JSON.parse(readOnlyBody),
        });
        expect(seen.slice(before)).toEqual([]);
    });

    test("reads go on, refusals stay refusals and a wrong password stays 401", async () => {
        await maintenance("closed");
        expect((await request("node", "GET", "/v2/base/debian/manifests/latest")).status).toBe(200);
        expect((await request("node", "HEAD", `/v2/base/debian/blobs/${digest}`)).status).toBe(200);
        expect((await request("node", "PUT", "/v2/base/debian/manifests/latest")).status).toBe(403);
        expect((await request("ci", "POST", `/v2/team-b/app${upload}`, {}, "wrong")).status).toBe(401);
    });

    test("the maintenance endpoint is not served through nginx", async () => {
        expect((await request("ci", "GET", "/_guard/maintenance?phase=closed")).status).toBe(404);
        expect((await request("ci", "GET", "/_guard/write")).status).toBe(404);
    });
});

test("without a user list every authenticated user pulls and pushes everywhere, as before grants existed", () => {
    const config = renderNginxConfig({
        serverName: "r",
        realm: "r",
        upstream: "registry:5000",
        listenPort: 443,
        guard: { upstream: "guard:5001", loginThrottle: true, writeHoldSeconds: 120 },
    });
    expect(config).toContain("map $remote_user $registry_user {\n  default u;\n}");
    expect(config).toContain('"~^u (?:base|catalog)$" allowed;');
    expect(config).not.toMatch(/"~\^u delete /);
});
