/**
 * The login throttle in basic mode as the real nginx and the real guard enforce it, on loopback:
 * a guesser is refused with 429 before nginx checks the password (nginx logs every bcrypt
 * mismatch, and the refused attempts add none), while other users keep logging in.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { renderNginxConfig, throttledBody, unauthorizedBody } from "../components/nginxConfig";
import { createGuardHandler } from "../components/tokenService/handler";
import { freePort, localNginx, RunningNginx, startNginx } from "./localNginx";
import { run } from "./tools";

let dir: string;
let ca: Buffer;
let port: number;
let nginx: RunningNginx;
let registry: http.Server;
let guard: http.Server;
const guardLog: string[] = [];

const listen = async (server: http.Server) => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as net.AddressInfo).port;
};

beforeAll(async () => {
    const local = localNginx("localhost");
    dir = local.dir;
    ca = fs.readFileSync(local.paths.certificate);
    const lines = ["alice", "bob"].map((u) => run("htpasswd", ["-nbB", "-C", "4", u, `pw-${u}`]).stdout.trim());
    fs.writeFileSync(local.paths.htpasswd, lines.join("\n") + "\n", { mode: 0o644 });
    registry = http.createServer((req, res) => {
        req.resume();
        res.writeHead(200, { "Content-Type": "application/json", "Docker-Distribution-Api-Version": "registry/2.0" });
        res.end("{}");
    });
    guard = http.createServer(
        createGuardHandler(
            {
                loginThrottle: {
                    maxFailures: 10,
                    maxFailuresPerAddress: 30,
                    windowSeconds: 60,
                    cooldownSeconds: 2,
                    maxCooldownSeconds: 60,
                },
                writeHoldSeconds: 5,
            },
            (line) => guardLog.push(line),
        ),
    );
    const registryPort = await listen(registry);
    const guardPort = await listen(guard);
    port = await freePort();
    fs.writeFileSync(
        local.paths.config,
        renderNginxConfig({
            serverName: "localhost",
            realm: "localhost",
            upstream: `127.0.0.1:${registryPort}`,
            listenPort: port,
            paths: local.paths,
            guard: { upstream: `127.0.0.1:${guardPort}`, loginThrottle: true, writeHoldSeconds: 5 },
        }),
    );
    nginx = await startNginx(local, port);
});

afterAll(async () => {
    nginx?.stop();
    await new Promise((r) => registry?.close(r));
    await new Promise((r) => guard?.close(r));
});

interface Answer {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

function get(user: string | undefined, password: string, localAddress = "127.0.0.1"): Promise<Answer> {
    const headers = user === undefined ? {} : { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
    return new Promise((resolve, reject) => {
        const req = https.request(
            { host: "127.0.0.1", port, servername: "localhost", ca, path: "/v2/", headers, agent: false, localAddress },
            (res) => {
                let body = "";
                res.on("data", (chunk) => (body += chunk));
                res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
            },
        );
        req.on("error", reject);
        req.end();
    });
}

/** nginx's error log records each bcrypt mismatch: the password checks made. */
const mismatches = () => (fs.readFileSync(path.join(dir, "error.log"), "utf8").match(/password mismatch/g) ?? []).length;

test("ten wrong passwords are checked and refused with 401 and the challenge; the 11th is 429 without a check", async () => {
    for (let i = 0; i < 10; i++) {
        const answer = await get("alice", `guess-${i}`);
        expect(answer.status).toBe(401);
        expect(answer.headers["www-authenticate"]).toBe('Basic realm="localhost"');
        expect(answer.headers["docker-distribution-api-version"]).toBe("registry/2.0");
    }
    expect(mismatches()).toBe(10);
    const refused = await get("alice", "guess-10");
    expect({ status: refused.status, body: JSON.parse(refused.body) }).toEqual({ status: 429, body: JSON.parse(throttledBody) });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers["retry-after"])).toBeLessThanOrEqual(2);
    // Even the right password is refused from this address, and neither was checked.
    expect((await get("alice", "pw-alice")).status).toBe(429);
    expect(mismatches()).toBe(10);
    // The refusal is logged with the user name and address, never a password.
    expect(guardLog).toContain('throttled: user "alice" from 127.0.0.1, refused for 2 s (this user from this address)');
    expect(guardLog.join("\n")).not.toMatch(/guess-|pw-alice/);

    // Another user from the same address, and the same user from another address, log in.
    expect((await get("bob", "pw-bob")).status).toBe(200);
    expect((await get("alice", "pw-alice", "127.0.0.2")).status).toBe(200);

    // After the cooling-off period the right password works again.
    await new Promise((r) => setTimeout(r, 2100));
    expect((await get("alice", "pw-alice")).status).toBe(200);
});

test("names no user can have reach the guard as one placeholder, never raw: a newline cannot forge a header", async () => {
    const before = guardLog.length;
    for (let i = 0; i < 10; i++) {
        expect((await get(`x${i}\r\nX-Registry-User: bob`, "guess", "127.0.0.3")).status).toBe(401);
    }
    expect((await get("other name", "guess", "127.0.0.3")).status).toBe(429);
    expect(guardLog.slice(before)).toContain('throttled: user "-" from 127.0.0.3, refused for 2 s (this user from this address)');
    expect((await get("bob", "pw-bob", "127.0.0.3")).status).toBe(200);
});

test("requests without credentials get the challenge and are never counted", async () => {
    for (let i = 0; i < 40; i++) {
        expect((await get(undefined, "")).status).toBe(401);
    }
    expect((await get("bob", "pw-bob")).status).toBe(200);
});

test("while the guard does not answer, every password is still checked: the right one is let in, a wrong one and none refused with the challenge", async () => {
    await new Promise((r) => guard.close(r));
    const before = mismatches();
    expect((await get("bob", "pw-bob", "127.0.0.4")).status).toBe(200);
    const refusal = (answer: Answer) => ({
        status: answer.status,
        challenge: answer.headers["www-authenticate"],
        version: answer.headers["docker-distribution-api-version"],
        body: JSON.parse(answer.body),
    });
    const expected = { status: 401, challenge: 'Basic realm="localhost"', version: "registry/2.0", body: JSON.parse(unauthorizedBody) };
    // The docker client's first request carries no credentials: it must get the challenge, not a 502.
    expect(refusal(await get(undefined, ""))).toEqual(expected);
    expect(refusal(await get("bob", "guess", "127.0.0.4"))).toEqual(expected);
    expect(mismatches()).toBe(before + 1);
});
