/**
 * The token service over real HTTP on loopback: what it answers and what it refuses, and that a
 * token it issues verifies against its certificate with exactly the claims the registry reads.
 */
import * as http from "http";
import { AddressInfo } from "net";
import * as bcrypt from "bcryptjs";
import { decodeProtectedHeader, importX509, jwtVerify } from "jose";
import { X509Certificate } from "crypto";
import { validateUserAccess } from "../components/access";
import { createTokenHandler, decoyHash, TokenServiceSettings } from "../components/tokenService/handler";
import { throttledAnswer } from "../components/tokenService/guard";
import { accessExample } from "./accessExample";
import { selfSigned } from "./certificates";

const signing = selfSigned(["token-signer"]);
const password = (username: string) => `pw-${username}`;
const settings: TokenServiceSettings = {
    issuer: "authenticated-registry token service",
    service: "registry.example.com:5043",
    lifetimeSeconds: 300,
    users: validateUserAccess("users", accessExample).map((u) => ({ ...u, passwordHash: bcrypt.hashSync(password(u.username), 4) })),
    writeHoldSeconds: 120,
};
const logged: string[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
    server = http.createServer(await createTokenHandler(settings, signing, (line) => logged.push(line)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function basic(username: string, pw: string): string {
    return `Basic ${Buffer.from(`${username}:${pw}`).toString("base64")}`;
}

async function get(query: string, authorization?: string, method = "GET") {
    const res = await fetch(`${base}${query}`, { method, headers: authorization ? { authorization } : {} });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text) };
}

const service = encodeURIComponent(settings.service);

test("grants what the user asked for and may do, in a token that verifies against the certificate", async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await get(
        `/token?service=${service}&scope=repository:team-a/app:pull,push&scope=repository:base/debian:pull,push`,
        basic("team-a", "pw-team-a"),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body.access_token).toBe(res.body.token);
    expect(res.body.expires_in).toBe(300);
    expect(Date.parse(res.body.issued_at) / 1000).toBeGreaterThanOrEqual(before);

    const header = decodeProtectedHeader(res.body.token);
    expect(header).toEqual({ alg: "ES256", typ: "JWT", x5c: [new X509Certificate(signing.certificatePem).raw.toString("base64")] });
    const { payload } = await jwtVerify(res.body.token, await importX509(signing.certificatePem, "ES256"), {
        issuer: settings.issuer,
        audience: settings.service,
        algorithms: ["ES256"],
    });
    expect(payload.sub).toBe("team-a");
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.access).toEqual([
        { type: "repository", name: "team-a/app", actions: ["pull", "push"] },
        { type: "repository", name: "base/debian", actions: ["pull"] },
    ]);
});

test("a login without scope gets a token with an empty access list", async () => {
    const res = await get(`/token?service=${service}&account=node`, basic("node", "pw-node"));
    expect(res.status).toBe(200);
    const { payload } = await jwtVerify(res.body.token, await importX509(signing.certificatePem, "ES256"));
    expect(payload.access).toEqual([]);
});

test("each token has its own ID", async () => {
    const tokens = await Promise.all([1, 2].map(() => get(`/token?service=${service}`, basic("ci", "pw-ci"))));
    const ids = await Promise.all(
        tokens.map(async (t) => (await jwtVerify(t.body.token, await importX509(signing.certificatePem, "ES256"))).payload.jti),
    );
    expect(new Set(ids).size).toBe(2);
});

describe("refused", () => {
    const challenge = `Basic realm="${settings.service}", charset="UTF-8"`;
    test.each([
        ["no credentials", undefined],
        ["a wrong password", basic("team-a", "pw-ci")],
        ["an unknown user", basic("mallory", "pw-mallory")],
        ["an empty password", basic("team-a", "")],
        ["a user name differing in case", basic("Team-A", "pw-team-a")],
        ["a password with a suffix", basic("team-a", "pw-team-a ")],
        ["credentials without a colon", `Basic ${Buffer.from("team-a").toString("base64")}`],
        ["a bearer token instead of credentials", "Bearer abc.def.ghi"],
        ["credentials that are not base64", "Basic !!!"],
    ])("401 for %s, with a basic challenge and no token", async (_what, authorization) => {
        const res = await get(`/token?service=${service}&scope=repository:team-a/app:pull`, authorization);
        expect({ status: res.status, challenge: res.headers.get("www-authenticate"), body: res.body }).toEqual({
            status: 401,
            challenge,
            body: { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
        });
    });

    test("400 for a token for another service", async () => {
        const res = await get(`/token?service=other.example.com&scope=repository:team-a/app:pull`, basic("team-a", "pw-team-a"));
        expect(res.status).toBe(400);
        expect(res.body.errors[0].code).toBe("UNSUPPORTED");
        expect(res.body.token).toBeUndefined();
    });

    test("400 for a malformed scope, before the password is looked at", async () => {
        const res = await get(`/token?service=${service}&scope=repository:Team-A/app:pull`, basic("team-a", "wrong"));
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
            errors: [{ code: "INVALID_SCOPE", message: '"Team-A/app" in scope "repository:Team-A/app:pull" is not a repository name' }],
        });
    });

    test("404 for POST (OAuth2), which sends the docker client back to GET", async () => {
        const res = await get(`/token`, basic("team-a", "pw-team-a"), "POST");
        expect(res.status).toBe(404);
    });

    test("404 for any other path", async () => {
        expect((await get(`/v2/`, basic("team-a", "pw-team-a"))).status).toBe(404);
    });
});

test("after a good login, a wrong password is still refused, and the right one still accepted", async () => {
    expect((await get(`/token?service=${service}`, basic("node", "pw-node"))).status).toBe(200);
    expect((await get(`/token?service=${service}`, basic("node", "pw-nod"))).status).toBe(401);
    expect((await get(`/token?service=${service}`, basic("node", "pw-team-a"))).status).toBe(401);
    expect((await get(`/token?service=${service}`, basic("team-a", "pw-node"))).status).toBe(401);
    expect((await get(`/token?service=${service}`, basic("node", "pw-node"))).status).toBe(200);
});

test("the health path answers without credentials", async () => {
    expect(await get("/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
});

test("the log names users and grants, never a password", () => {
    expect(logged).toContain(
        'issued: team-a [{"type":"repository","name":"team-a/app","actions":["pull","push"]},{"type":"repository","name":"base/debian","actions":["pull"]}]',
    );
    expect(logged).toContain('refused: bad credentials for "mallory" from 127.0.0.1');
    expect(logged.join("\n")).not.toMatch(/pw-/);
});

test("an unknown user's password is checked against a decoy hash of the users' own cost, so the refusal takes as long", () => {
    const decoy = decoyHash(settings.users);
    expect(bcrypt.getRounds(decoy)).toBe(4);
    expect(bcrypt.compareSync("pw-team-a", decoy)).toBe(false);
});

describe("failed logins", () => {
    const throttled: string[] = [];
    let throttledBase: string;
    let throttledServer: http.Server;

    beforeAll(async () => {
        const withThrottle = {
            ...settings,
            loginThrottle: { maxFailures: 3, maxFailuresPerAddress: 100, windowSeconds: 60, cooldownSeconds: 1, maxCooldownSeconds: 60 },
        };
        throttledServer = http.createServer(await createTokenHandler(withThrottle, signing, (line) => throttled.push(line)));
        await new Promise<void>((resolve) => throttledServer.listen(0, "127.0.0.1", resolve));
        throttledBase = `http://127.0.0.1:${(throttledServer.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => throttledServer.close(resolve)));

    const token = async (user: string, pass: string, address: string) => {
        const res = await fetch(`${throttledBase}/token?service=${service}`, {
            headers: { authorization: basic(user, pass), "x-real-ip": address },
        });
        return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as unknown };
    };
    /** The password checks the service made: each logs a refusal or an issue. */
    const checks = () => throttled.filter((l) => l.startsWith("refused: bad credentials") || l.startsWith("issued:")).length;

    test("past the limit the address gets 429 with Retry-After before any password is checked; another address logs in", async () => {
        for (let i = 0; i < 3; i++) expect((await token("team-a", `guess-${i}`, "10.0.0.9")).status).toBe(401);
        expect(checks()).toBe(3);
        expect(await token("team-a", "pw-team-a", "10.0.0.9")).toEqual({ status: 429, retryAfter: "1", body: throttledAnswer });
        expect(checks()).toBe(3);
        expect(throttled).toContain(
            'refused (too many failed logins): user "team-a" from 10.0.0.9, refused for 1 s (this user from this address)',
        );
        expect((await token("team-a", "pw-team-a", "10.0.0.10")).status).toBe(200);
        expect((await token("node", "pw-node", "10.0.0.9")).status).toBe(200);
        await new Promise((r) => setTimeout(r, 1100));
        expect((await token("team-a", "pw-team-a", "10.0.0.9")).status).toBe(200);
        expect(throttled.join("\n")).not.toMatch(/guess-|pw-/);
    });
});
