/**
 * Token mode on the real engine with the real docker client: a stack that starts in basic mode
 * with images in it switches to token mode and back with `pulumi up`, keeping every image; in
 * token mode the access matrix of basic mode holds unchanged, the registry refuses every crafted
 * token that must not pass, and nginx answers 429 to a flood of logins.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { decodeJwt, importPKCS8, SignJWT } from "jose";
import { selfSigned } from "../certificates";
import { curl, DockerClient, DockerTrust, exec, HttpAnswer, loopbackStackConfig, Stack, standInImages, waitUntil } from "./harness";

const port = 21043;
const host = `localhost:${port}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
const clients: Record<string, DockerClient> = { ci: new DockerClient(), node: new DockerClient(), "team-a": new DockerClient() };
const issuer = "authenticated-registry token service";
let passwords: Record<string, string>;
let tokenContainer: string;

const users = [
    "    - username: ci",
    "    - username: node",
    "      access:",
    "        - repositories: ['**']",
    "          actions: [pull]",
    "    - username: team-a",
    "      access:",
    "        - repositories: [team-a/**]",
    "          actions: [pull, push, delete]",
    "        - repositories: [base/*]",
    "          actions: [pull]",
];
const basicConfig = loopbackStackConfig(port, users);
const tokenSettings = ["  authenticated-registry:auth:", "    mode: token", `    tokenServiceImage: ${standInImages.node}`];
const tokenConfig = loopbackStackConfig(port, users, { extra: tokenSettings });

function useConfig(config: string): void {
    const current = fs.readFileSync(stack.configFile, "utf8");
    const salt = current.match(/^encryptionsalt: .*$/m)![0];
    fs.writeFileSync(stack.configFile, `${salt}\n${config}`);
}

/** A token from the token service for `user`, asking for `scopes`. */
function tokenFor(user: string, scopes: string[]): string {
    const query = [`service=${encodeURIComponent(host)}`, ...scopes.map((s) => `scope=${encodeURIComponent(s)}`)].join("&");
    const answer = curl(`https://${host}/token?${query}`, caFile, ["--user", `${user}:${passwords[user]}`]);
    expect(answer.status).toBe(200);
    return JSON.parse(answer.body).token;
}

function withToken(token: string, url: string, args: string[] = []): HttpAnswer {
    return curl(`https://${host}${url}`, caFile, ["--header", `Authorization: Bearer ${token}`, ...args]);
}

/**
 * The registry's refusal of a token: 401 and a bearer challenge naming the realm, with the
 * `error` the registry gives, or none: a token whose signature does not verify against the
 * certificate it carries is refused without one (distribution reports no reason for it), while
 * a certificate outside the bundle is `invalid_token`.
 */
function expectRefused(answer: HttpAnswer, error: "invalid_token" | "insufficient_scope" | "none"): void {
    const challenge = answer.headers["www-authenticate"]?.[0] ?? "";
    expect({ status: answer.status, realm: challenge.includes(`realm="https://${host}/token"`) }).toEqual({ status: 401, realm: true });
    if (error === "none") {
        expect(challenge).not.toContain("error=");
    } else {
        expect(challenge).toContain(`error="${error}"`);
    }
}

beforeAll(() => {
    stack.init(basicConfig);
    stack.up();
    passwords = stack.outputs().passwords;
    fs.writeFileSync(caFile, stack.outputs().caCertificatePem);
    trust.trustFile(caFile);
    // Images pushed in basic mode, before the switch.
    expect(clients.ci.login(host, "ci", passwords.ci).stdout).toContain("Login Succeeded");
    for (const ref of [`${host}/base/debian:12`, `${host}/team-b/secret:1`]) {
        clients.ci.buildRandomImage(ref);
        clients.ci.ok(["push", ref]);
    }
});

afterAll(() => {
    stack.removeAll();
    trust.remove();
});

test("switching to token mode keeps the images and the passwords, and adds only the token service", () => {
    useConfig(tokenConfig);
    stack.up();
    const outputs = stack.outputs();
    expect(outputs.passwords).toEqual(passwords);
    tokenContainer = `registry-${stack.name}-token`;
    expect(exec("docker", ["inspect", "--format", "{{.State.Health.Status}}", tokenContainer]).stdout.trim()).toBe("healthy");
    // The registry now challenges for a token at the proxy's own origin.
    const challenge = curl(`https://${host}/v2/`, caFile);
    expect(challenge.status).toBe(401);
    expect(challenge.headers["www-authenticate"]).toEqual([`Bearer realm="https://${host}/token",service="${host}"`]);
    for (const [user, client] of Object.entries(clients)) {
        expect(client.login(host, user, passwords[user]).stdout).toContain("Login Succeeded");
    }
    clients.ci.ok(["rmi", `${host}/base/debian:12`]);
    clients.ci.ok(["pull", `${host}/base/debian:12`]);
    clients.ci.ok(["pull", `${host}/team-b/secret:1`]);
});

test("a wrong password gets no token and no login", () => {
    const login = new DockerClient().login(host, "ci", "not-the-password");
    expect(login.status).not.toBe(0);
    const answer = curl(`https://${host}/token?service=${host}`, caFile, ["--user", "ci:not-the-password"]);
    expect(answer.status).toBe(401);
    expect(answer.body).not.toContain('token":');
});

test("the pull-only node pulls, and cannot push or delete", () => {
    clients.node.ok(["pull", `${host}/base/debian:12`]);
    const ref = `${host}/base/debian:node`;
    clients.node.ok(["tag", `${host}/base/debian:12`, ref]);
    const push = clients.node.run(["push", ref]);
    expect(push.status).not.toBe(0);
    expect(push.stderr).toMatch(/denied|unauthorized|insufficient_scope/);
    const token = tokenFor("node", ["repository:base/debian:pull,push,delete"]);
    expect(decodeJwt(token).access).toEqual([{ type: "repository", name: "base/debian", actions: ["pull"] }]);
    expectRefused(withToken(token, "/v2/base/debian/blobs/uploads/", ["--request", "POST"]), "insufficient_scope");
    expectRefused(withToken(token, "/v2/base/debian/manifests/12", ["--request", "DELETE"]), "insufficient_scope");
});

test("the team pushes in its space and pulls the base, but cannot push the base or read another team", () => {
    const own = `${host}/team-a/app:1`;
    const id = clients["team-a"].buildRandomImage(own);
    clients["team-a"].ok(["push", own]);
    clients["team-a"].ok(["rmi", own]);
    clients["team-a"].ok(["pull", own]);
    expect(clients["team-a"].ok(["image", "inspect", "--format", "{{.Id}}", own]).trim()).toBe(id);
    clients["team-a"].ok(["pull", `${host}/base/debian:12`]);

    const intoBase = `${host}/base/debian:team-a`;
    clients["team-a"].ok(["tag", own, intoBase]);
    expect(clients["team-a"].run(["push", intoBase]).status).not.toBe(0);
    expect(clients["team-a"].run(["pull", `${host}/team-b/secret:1`]).status).not.toBe(0);
    const token = tokenFor("team-a", ["repository:team-b/secret:pull"]);
    expect(decodeJwt(token).access).toEqual([]);
    expectRefused(withToken(token, "/v2/team-b/secret/tags/list"), "insufficient_scope");
});

test("only a user with the catalog right lists the catalog", () => {
    const listing = withToken(tokenFor("ci", ["registry:catalog:*"]), "/v2/_catalog");
    expect(listing.status).toBe(200);
    expect(JSON.parse(listing.body).repositories).toEqual(expect.arrayContaining(["base/debian", "team-a/app", "team-b/secret"]));
    expectRefused(withToken(tokenFor("node", ["registry:catalog:*"]), "/v2/_catalog"), "insufficient_scope");
});

test("an upload begun under one token finishes under the next, so a push outlives its first token", () => {
    const scope = ["repository:team-a/long:pull,push"];
    const first = tokenFor("team-a", scope);
    const start = withToken(first, "/v2/team-a/long/blobs/uploads/", ["--request", "POST"]);
    expect(start.status).toBe(202);
    const location = start.headers.location[0];
    const blob = crypto.randomBytes(64 * 1024);
    const file = path.join(stack.workDir, "blob");
    fs.writeFileSync(file, blob);
    const digest = `sha256:${crypto.createHash("sha256").update(blob).digest("hex")}`;
    const second = tokenFor("team-a", scope);
    expect(second).not.toBe(first);
    const url = new URL(location, `https://${host}`);
    url.searchParams.set("digest", digest);
    const done = withToken(second, `${url.pathname}${url.search}`, [
        "--request",
        "PUT",
        "--header",
        "Content-Type: application/octet-stream",
        "--data-binary",
        `@${file}`,
    ]);
    expect(done.status).toBe(201);
    expect(withToken(second, `/v2/team-a/long/blobs/${digest}`, ["--head"]).status).toBe(200);
});

describe("the registry refuses crafted tokens", () => {
    const repository = "team-a/app";
    let signingKey: crypto.KeyObject;
    let x5c: string[];
    const now = () => Math.floor(Date.now() / 1000);
    const claims = () => ({
        iss: issuer,
        aud: host,
        sub: "team-a",
        iat: now(),
        nbf: now(),
        exp: now() + 300,
        jti: crypto.randomUUID(),
        access: [{ type: "repository", name: repository, actions: ["pull"] }],
    });
    async function sign(payload: Record<string, unknown>, key: crypto.KeyObject = signingKey, chain: string[] = x5c): Promise<string> {
        return new SignJWT(payload).setProtectedHeader({ alg: "ES256", typ: "JWT", x5c: chain }).sign(key);
    }

    beforeAll(async () => {
        // The service's own key and certificate, as only root on the host can read them.
        const read = (file: string) => exec("docker", ["exec", tokenContainer, "cat", file]).stdout;
        signingKey = (await importPKCS8(read("/etc/token-service/signing.key"), "ES256")) as crypto.KeyObject;
        x5c = [new crypto.X509Certificate(read("/etc/token-service/signing.crt")).raw.toString("base64")];
    });

    test("control: a token made here with the service's key and the right claims is accepted", async () => {
        expect(withToken(await sign(claims()), `/v2/${repository}/tags/list`).status).toBe(200);
    });

    type Crafted = [string, "invalid_token" | "none", () => Promise<string>, string?];
    test.each<Crafted>([
        [
            "expired (beyond the registry's leeway)",
            "invalid_token",
            async () => sign({ ...claims(), iat: now() - 900, nbf: now() - 900, exp: now() - 600 }),
        ],
        ["not yet valid", "invalid_token", async () => sign({ ...claims(), nbf: now() + 600, exp: now() + 900 })],
        ["of another issuer", "invalid_token", async () => sign({ ...claims(), iss: "someone else" })],
        ["for another service", "invalid_token", async () => sign({ ...claims(), aud: "registry.example.com" })],
        [
            "signed by another key, with that key's certificate",
            "invalid_token",
            async () => {
                const other = selfSigned(["attacker"]);
                const key = crypto.createPrivateKey(other.privateKeyPem);
                return sign(claims(), key, [new crypto.X509Certificate(other.certificatePem).raw.toString("base64")]);
            },
        ],
        [
            "signed by another key, presenting the service's certificate",
            "none",
            async () => sign(claims(), crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey),
        ],
        [
            "with alg none",
            "invalid_token",
            async () => {
                const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
                return `${encode({ alg: "none", typ: "JWT", x5c })}.${encode(claims())}.`;
            },
        ],
        [
            "with a tampered access claim",
            "none",
            async () => {
                const [header, , signature] = (await sign(claims())).split(".");
                const widened = { ...claims(), access: [{ type: "repository", name: "team-b/secret", actions: ["pull", "push"] }] };
                return `${header}.${Buffer.from(JSON.stringify(widened)).toString("base64url")}.${signature}`;
            },
            "/v2/team-b/secret/tags/list",
        ],
    ])("a token %s: 401, error %s", async (...[, error, make, url]: Crafted) => {
        expectRefused(withToken(await make(), url ?? `/v2/${repository}/tags/list`), error);
    });

    test("a valid token for a scope the user lacks: 401 insufficient_scope", async () => {
        expectRefused(withToken(await sign(claims()), "/v2/team-b/secret/tags/list"), "insufficient_scope");
        expectRefused(withToken(await sign(claims()), `/v2/${repository}/blobs/uploads/`, ["--request", "POST"]), "insufficient_scope");
    });
});

test("a flood of logins from one address is answered 429 beyond the burst, and the password is never checked for them", () => {
    const logLines = () =>
        exec("docker", ["logs", tokenContainer])
            .stdout.split("\n")
            .filter((l) => l.includes("refused:")).length;
    const before = logLines();
    const dir = fs.mkdtempSync(path.join(stack.workDir, "flood-"));
    const requests = Array.from({ length: 60 }, (_, i) => [`https://${host}/token?service=${host}`, "--output", path.join(dir, `${i}`)]);
    const answers = exec("curl", [
        "--silent",
        "--parallel",
        "--parallel-immediate",
        "--parallel-max",
        "60",
        "--cacert",
        caFile,
        // A name of no user, so that the failed-login limit this flood trips refuses nobody else.
        "--user",
        "flood:guess",
        "--write-out",
        "%{http_code} %{filename_effective}\\n",
        ...requests.flat(),
    ])
        .stdout.trim()
        .split("\n")
        .map((line) => line.split(" "));
    const count = (code: string) => answers.filter(([c]) => c === code).length;
    // The first request and the burst of 20 reach the service; the rest never do.
    expect({ total: answers.length, other: answers.filter(([c]) => c !== "401" && c !== "429") }).toEqual({ total: 60, other: [] });
    expect(count("401")).toBeLessThanOrEqual(21 + 2);
    expect(count("429")).toBeGreaterThanOrEqual(60 - 21 - 2);
    // Most are nginx's rate limit; once ten have failed, the service refuses the rest of those it
    // is given before their check.
    const limited = answers.filter(([c]) => c === "429").map(([, file]) => JSON.parse(fs.readFileSync(file, "utf8")).errors[0].message);
    expect(limited).toContain("too many token requests from this address; retry shortly");
    // Only the requests nginx let through reached the service, each logged as refused.
    waitUntil("the token service's log", 5000, () => {
        const seen = logLines() - before;
        return { done: seen === count("401"), seen };
    });
});

test("rotating the signing key is a pulumi up: old tokens are refused, new ones work, the images stay", () => {
    const before = tokenFor("ci", ["repository:base/debian:pull"]);
    expect(withToken(before, "/v2/base/debian/tags/list").status).toBe(200);
    const state = JSON.parse(stack.ok(["stack", "export"]));
    const keyUrn = state.deployment.resources
        .map((r: { urn: string }) => r.urn)
        .find((urn: string) => urn.endsWith(`::registry-${stack.name}-token-signing-key`));
    expect(keyUrn).toContain("tls:index/privateKey:PrivateKey");
    stack.ok(["up", "--yes", "--skip-preview", "--config-file", stack.configFile, "--replace", keyUrn]);
    // Its certificate is no longer in the registry's bundle.
    expectRefused(withToken(before, "/v2/base/debian/tags/list"), "invalid_token");
    const after = tokenFor("ci", ["repository:base/debian:pull"]);
    expect(withToken(after, "/v2/base/debian/tags/list").status).toBe(200);
    clients.node.ok(["rmi", `${host}/base/debian:12`]);
    clients.node.ok(["pull", `${host}/base/debian:12`]);
});

test("the legacy registry 2.8 accepts the same tokens: the x5c chain needs no key ID of either line", () => {
    useConfig(loopbackStackConfig(port, users, { extra: tokenSettings, registryImage: standInImages.registry2 }));
    stack.up();
    clients.node.ok(["rmi", `${host}/base/debian:12`]);
    clients.node.ok(["pull", `${host}/base/debian:12`]);
    expectRefused(withToken(tokenFor("node", ["repository:base/debian:pull"]), "/v2/team-b/secret/tags/list"), "insufficient_scope");
    expect(clients.node.run(["push", `${host}/base/debian:node`]).status).not.toBe(0);
});

test("switching back to basic mode keeps every image, and removes the token service", () => {
    useConfig(basicConfig);
    stack.up();
    expect(exec("docker", ["inspect", tokenContainer]).status).not.toBe(0);
    const auth = ["--user", `ci:${passwords.ci}`];
    for (const [repository, tag] of [
        ["base/debian", "12"],
        ["team-b/secret", "1"],
        ["team-a/app", "1"],
    ]) {
        expect(curl(`https://${host}/v2/${repository}/manifests/${tag}`, caFile, [...auth, "--head"]).status).toBe(200);
    }
    expect(curl(`https://${host}/token`, caFile, auth).status).toBe(404);
});
