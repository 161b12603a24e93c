/**
 * The audit trail as the real nginx writes it: the rendered config, in basic mode with the login
 * throttle (a refused password takes the guard's path), runs in Debian's nginx in front of a
 * stand-in registry, and every line nginx writes (to files here, to its output in a container)
 * is read back. A pull, a push, a delete, a refused push, a refused password and a refused
 * upload each give one line; a blob download and the API root give none; no line holds a
 * password. In token mode the real token service issues the tokens, and a line names the user of
 * a token only when the service verified it.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import { validateUserAccess } from "../components/access";
import { AuditLine } from "../components/auditLog";
import { validateLoginThrottle } from "../components/guard";
import { renderNginxConfig } from "../components/nginxConfig";
import { createPrivateKey } from "crypto";
import * as bcrypt from "bcryptjs";
import { SignJWT } from "jose";
import { tokenIdentityPath } from "../components/tokenService/files";
import { createGuardHandler, createTokenHandler, TokenServiceSettings } from "../components/tokenService/handler";
import { selfSigned } from "./certificates";
import { freePort, localNginx, nginxCheck, RunningNginx, startNginx } from "./localNginx";
import { run } from "./tools";

const digest = `sha256:${"c".repeat(64)}`;
/** What nginx wrote to `file` so far. */
const written = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
/** What nginx wrote so far: its audit lines, and its access log. */
const audit = () => written(auditFile);
const access = () => written(accessFile);
let auditFile: string;
let accessFile: string;
let registry: http.Server;
let guard: http.Server;
let nginx: RunningNginx;
let port: number;
let ca: Buffer;

beforeAll(async () => {
    const local = localNginx("localhost");
    auditFile = local.paths.auditLog;
    accessFile = local.paths.accessLog;
    ca = fs.readFileSync(local.paths.certificate);
    const lines = ["ci", "reader"].map((user) => run("htpasswd", ["-nbB", "-C", "4", user, `pw-${user}`]).stdout.trim());
    fs.writeFileSync(local.paths.htpasswd, `${lines.join("\n")}\n`, { mode: 0o644 });
    registry = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => {
            // As the registry answers: with a Content-Length, so that nginx counts the body alone.
            res.writeHead(req.method === "PUT" ? 201 : req.method === "DELETE" ? 202 : 200, {
                "Docker-Distribution-Api-Version": "registry/2.0",
                "Content-Length": req.method === "GET" ? "10" : "0",
            });
            res.end(req.method === "GET" ? "0123456789" : undefined);
        });
    });
    await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
    const throttle = validateLoginThrottle("loginThrottle", { maxFailures: 10 })!;
    guard = http.createServer(createGuardHandler({ loginThrottle: throttle, writeHoldSeconds: 2 }));
    await new Promise<void>((resolve) => guard.listen(0, "127.0.0.1", resolve));
    port = await freePort();
    fs.writeFileSync(
        local.paths.config,
        renderNginxConfig({
            serverName: "localhost",
            realm: "localhost",
            upstream: `127.0.0.1:${(registry.address() as net.AddressInfo).port}`,
            listenPort: port,
            paths: local.paths,
            users: validateUserAccess("users", [
                { username: "ci", access: [{ repositories: ["**"], actions: ["pull", "push", "delete"] }] },
                { username: "reader", access: [{ repositories: ["**"], actions: ["pull"] }] },
            ]),
            guard: { upstream: `127.0.0.1:${(guard.address() as net.AddressInfo).port}`, loginThrottle: true, writeHoldSeconds: 2 },
            auditLog: true,
        }),
    );
    expect(nginxCheck(local)).toMatchObject({ status: 0 });
    nginx = await startNginx(local, port);
});

afterAll(async () => {
    nginx?.stop();
    await new Promise((r) => registry?.close(r));
    await new Promise((r) => guard?.close(r));
});

const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** A request to the proxy on `proxyPort` (trusting `proxyCa`) with `authorization`: its status and body. */
function send(
    proxyPort: number,
    proxyCa: Buffer,
    method: string,
    target: string,
    authorization: string,
): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = https.request(
            {
                host: "127.0.0.1",
                port: proxyPort,
                servername: "localhost",
                ca: proxyCa,
                method,
                path: target,
                headers: { Authorization: authorization },
                agent: false,
            },
            (res) => {
                let body = "";
                res.on("data", (chunk) => (body += chunk));
                res.on("end", () => resolve({ status: res.statusCode!, body }));
            },
        );
        req.on("error", reject);
        req.end(method === "PUT" ? "{}" : undefined);
    });
}

/** A request to the basic-mode proxy as `user`: its status. */
async function request(method: string, target: string, user: string, password = `pw-${user}`): Promise<number> {
    return (await send(port, ca, method, target, basicAuth(user, password))).status;
}

/** The audit lines nginx wrote to `file` since `from` (an offset into it), once `count` are there. */
async function linesOf(file: string, from: number, count: number): Promise<AuditLine[]> {
    for (let i = 0; i < 50; i++) {
        const lines = written(file)
            .slice(from)
            .split("\n")
            .filter((line) => line.startsWith("{"))
            .map((line) => JSON.parse(line) as AuditLine);
        if (lines.length >= count) return lines;
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`fewer than ${count} audit lines in: ${written(file).slice(from)}`);
}

/** The basic-mode proxy's audit lines since `from`, once `count` are there. */
const auditLines = (from: number, count: number) => linesOf(auditFile, from, count);

const line = (fields: Partial<AuditLine>) => ({
    time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/),
    address: "127.0.0.1",
    ...fields,
});

test("a pull, a push, a delete, a refused push, a refused password and a refused upload are one line each, in order", async () => {
    const from = audit().length;
    expect(await request("GET", "/v2/team/app/manifests/1", "reader")).toBe(200);
    expect(await request("PUT", "/v2/team/app/manifests/2", "ci")).toBe(201);
    expect(await request("DELETE", `/v2/team/app/manifests/${digest}`, "ci")).toBe(202);
    expect(await request("PUT", "/v2/team/app/manifests/3", "reader")).toBe(403);
    expect(await request("HEAD", "/v2/team/app/manifests/1", "reader", "a-wrong-password")).toBe(401);
    // An upload is audited only when refused, as the push it begins.
    expect(await request("POST", "/v2/team/app/blobs/uploads/", "ci")).toBe(200);
    expect(await request("POST", "/v2/team/new/blobs/uploads/", "reader")).toBe(403);
    const lines = await auditLines(from, 6);
    expect(lines).toEqual([
        line({ user: "reader", action: "pull", requested: "pull", repository: "team/app", reference: "1", status: 200, bytes: 10 }),
        line({ user: "ci", action: "push", requested: "push", repository: "team/app", reference: "2", status: 201, bytes: 0 }),
        line({ user: "ci", action: "delete", requested: "delete", repository: "team/app", reference: digest, status: 202, bytes: 0 }),
        line({
            user: "reader",
            action: "denied",
            requested: "push",
            repository: "team/app",
            reference: "3",
            status: 403,
            bytes: expect.any(Number),
        }),
        line({
            user: "reader",
            action: "denied",
            requested: "pull",
            repository: "team/app",
            reference: "1",
            status: 401,
            bytes: expect.any(Number),
        }),
        line({
            user: "reader",
            action: "denied",
            requested: "push",
            repository: "team/new",
            reference: "",
            status: 403,
            bytes: expect.any(Number),
        }),
    ]);
    expect(audit()).not.toContain("a-wrong-password");
    expect(audit()).not.toContain("pw-");
});

test("a blob download, the API root and a tag list give access-log lines but no audit line", async () => {
    const from = audit().length;
    const accessFrom = access().length;
    expect(await request("GET", `/v2/team/app/blobs/${digest}`, "reader")).toBe(200);
    expect(await request("GET", "/v2/", "reader")).toBe(200);
    expect(await request("GET", "/v2/team/app/tags/list?n=5", "reader")).toBe(200);
    expect(await request("GET", "/v2/team/app/manifests/4", "reader")).toBe(200);
    const lines = await auditLines(from, 1);
    expect(lines).toEqual([
        line({ user: "reader", action: "pull", requested: "pull", repository: "team/app", reference: "4", status: 200, bytes: 10 }),
    ]);
    // The access log goes on as before, beside the audit lines.
    expect(access().slice(accessFrom)).toContain(`"GET /v2/team/app/blobs/${digest} HTTP/1.1" 200 10`);
});

describe("token mode: the real token service issues the tokens and names their users", () => {
    const signing = selfSigned(["token-signer"]);
    const tokenSettings: TokenServiceSettings = {
        issuer: "authenticated-registry token service",
        service: "localhost",
        lifetimeSeconds: 300,
        users: validateUserAccess("users", [
            { username: "ci", access: [{ repositories: ["**"], actions: ["pull", "push", "delete"] }] },
        ]).map((u) => ({ ...u, passwordHash: bcrypt.hashSync("pw-ci", 4) })),
        writeHoldSeconds: 2,
    };
    /** The Authorization header of each request nginx sent to the identity route. */
    const identityAsked: (string | undefined)[] = [];
    let tokenNginx: RunningNginx;
    let tokenService: http.Server;
    let tokenCa: Buffer;
    let tokenAudit: string;
    let tokenPort: number;

    beforeAll(async () => {
        const local = localNginx("localhost");
        tokenCa = fs.readFileSync(local.paths.certificate);
        tokenAudit = local.paths.auditLog;
        const handler = await createTokenHandler(tokenSettings, signing);
        tokenService = http.createServer((req, res) => {
            if (req.url === tokenIdentityPath) identityAsked.push(req.headers.authorization);
            handler(req, res);
        });
        await new Promise<void>((resolve) => tokenService.listen(0, "127.0.0.1", resolve));
        const service = `127.0.0.1:${(tokenService.address() as net.AddressInfo).port}`;
        tokenPort = await freePort();
        fs.writeFileSync(
            local.paths.config,
            renderNginxConfig({
                serverName: "localhost",
                realm: "localhost",
                upstream: `127.0.0.1:${(registry.address() as net.AddressInfo).port}`,
                listenPort: tokenPort,
                paths: local.paths,
                token: { upstream: service, requestsPerMinute: 300, burst: 20 },
                guard: { upstream: service, loginThrottle: false, writeHoldSeconds: 2 },
                auditLog: true,
            }),
        );
        expect(nginxCheck(local)).toMatchObject({ status: 0 });
        tokenNginx = await startNginx(local, tokenPort);
    });

    afterAll(async () => {
        tokenNginx?.stop();
        await new Promise((r) => tokenService?.close(r));
    });

    /** A request to the token-mode proxy with `authorization`: its status and body. */
    const sendToken = (method: string, target: string, authorization: string) => send(tokenPort, tokenCa, method, target, authorization);
    /** The token-mode proxy's audit lines since `from`, once `count` are there. */
    const tokenLines = (from: number, count: number) => linesOf(tokenAudit, from, count);
    const auditSize = () => written(tokenAudit).length;

    test("a login and a refused login name their user; the query, the password and the token stay out of the line", async () => {
        const from = auditSize();
        const granted = await sendToken("GET", "/token?service=localhost&scope=repository:team/app:pull", basicAuth("ci", "pw-ci"));
        expect(granted.status).toBe(200);
        expect(
            (await sendToken("GET", "/token?service=localhost&scope=repository:team/app:pull", basicAuth("ci", "a-wrong-password"))).status,
        ).toBe(401);
        const lines = await tokenLines(from, 2);
        expect(lines).toEqual([
            line({
                user: "ci",
                action: "login",
                requested: "login",
                repository: "",
                reference: "",
                status: 200,
                bytes: expect.any(Number),
            }),
            line({
                user: "ci",
                action: "denied",
                requested: "login",
                repository: "",
                reference: "",
                status: 401,
                bytes: expect.any(Number),
            }),
        ]);
        // The token's bytes, and nginx's chunked framing of them.
        expect(lines[0].bytes).toBeGreaterThan(granted.body.length);
        const text = written(tokenAudit);
        for (const secret of ["pw-ci", "a-wrong-password", JSON.parse(granted.body).token, "scope="]) expect(text).not.toContain(secret);
    });

    test("a pull, a push and a delete with a token name the token's user; only they ask the token service, with the token alone", async () => {
        const { body } = await sendToken(
            "GET",
            "/token?service=localhost&scope=repository:team/app:pull,push,delete",
            basicAuth("ci", "pw-ci"),
        );
        const bearer = `Bearer ${JSON.parse(body).token}`;
        const from = auditSize();
        const asked = identityAsked.length;
        expect((await sendToken("GET", "/v2/team/app/manifests/1", bearer)).status).toBe(200);
        expect((await sendToken("PUT", "/v2/team/app/manifests/2", bearer)).status).toBe(201);
        expect((await sendToken("DELETE", `/v2/team/app/manifests/${digest}`, bearer)).status).toBe(202);
        // Neither a blob download nor the API root is audited, so neither asks.
        expect((await sendToken("GET", `/v2/team/app/blobs/${digest}`, bearer)).status).toBe(200);
        expect((await sendToken("GET", "/v2/", bearer)).status).toBe(200);
        expect(await tokenLines(from, 3)).toEqual([
            line({ user: "ci", action: "pull", requested: "pull", repository: "team/app", reference: "1", status: 200, bytes: 10 }),
            line({ user: "ci", action: "push", requested: "push", repository: "team/app", reference: "2", status: 201, bytes: 0 }),
            line({ user: "ci", action: "delete", requested: "delete", repository: "team/app", reference: digest, status: 202, bytes: 0 }),
        ]);
        expect(identityAsked.slice(asked)).toEqual([bearer, bearer, bearer]);
    });

    test("a forged token, an expired one and a password sent to /v2/ name no user, and the token service never sees the password", async () => {
        const forger = selfSigned(["forger"]);
        const sign = (key: string, expiresAt: number) =>
            new SignJWT({ access: [] })
                .setProtectedHeader({ alg: "ES256", typ: "JWT" })
                .setIssuer(tokenSettings.issuer)
                .setAudience(tokenSettings.service)
                .setSubject("ci")
                .setIssuedAt(expiresAt - 300)
                .setExpirationTime(expiresAt)
                .sign(createPrivateKey(key));
        const now = Math.floor(Date.now() / 1000);
        const forged = await sign(forger.privateKeyPem, now + 300);
        const expired = await sign(signing.privateKeyPem, now - 60);
        const from = auditSize();
        const asked = identityAsked.length;
        // The stand-in registry answers every request; the real one refuses these, by the same check.
        await sendToken("GET", "/v2/team/app/manifests/5", `Bearer ${forged}`);
        await sendToken("GET", "/v2/team/app/manifests/6", `Bearer ${expired}`);
        await sendToken("GET", "/v2/team/app/manifests/7", basicAuth("ci", "pw-ci"));
        const lines = await tokenLines(from, 3);
        expect(lines.map((l) => [l.reference, l.user])).toEqual([
            ["5", ""],
            ["6", ""],
            ["7", ""],
        ]);
        expect(identityAsked.slice(asked)).toEqual([`Bearer ${forged}`, `Bearer ${expired}`, undefined]);
    });

    test("while the token service does not answer, a pull with a token goes on and its line names no one", async () => {
        const { body } = await sendToken("GET", "/token?service=localhost&scope=repository:team/app:pull", basicAuth("ci", "pw-ci"));
        await new Promise((resolve) => tokenService.close(resolve));
        const from = auditSize();
        expect((await sendToken("GET", "/v2/team/app/manifests/8", `Bearer ${JSON.parse(body).token}`)).status).toBe(200);
        expect(await tokenLines(from, 1)).toEqual([
            line({ user: "", action: "pull", requested: "pull", repository: "team/app", reference: "8", status: 200, bytes: 10 }),
        ]);
    });
});
