/**
 * Password guessing on the real engine, in both auth modes: after ten wrong passwords for one
 * user from one address within a minute the 11th attempt is refused with 429 and Retry-After
 * before any password is checked (the checks are counted in nginx's error log in basic mode and
 * in the token service's log in token mode), a client at another address logs in meanwhile,
 * the right password works again after the cooling-off period, and an honest push of many
 * layers never trips the limit.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { curl, DockerClient, DockerTrust, exec, loopbackStackConfig, ok, Stack, standInImages } from "./harness";

const port = 19343;
const host = `localhost:${port}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
const users = ["    - username: ci", "    - username: other"];
const cooldownSeconds = 5;
const throttle = ["  authenticated-registry:loginThrottle:", `    cooldownSeconds: ${cooldownSeconds}`];
const tokenMode = ["  authenticated-registry:auth:", "    mode: token", `    tokenServiceImage: ${standInImages.node}`];
let passwords: Record<string, string>;

function useConfig(extra: string[]): void {
    const salt = fs.readFileSync(stack.configFile, "utf8").match(/^encryptionsalt: .*$/m)![0];
    fs.writeFileSync(stack.configFile, `${salt}\n${loopbackStackConfig(port, users, { extra: [...throttle, ...extra] })}`);
}

/** The status of a login attempt from this host: `GET /v2/` in basic mode, a token in token mode. */
function attempt(path: string, user: string, password: string): { status: number; retryAfter?: string } {
    const answer = curl(`https://${host}${path}`, caFile, ["--user", `${user}:${password}`]);
    return { status: answer.status, ...(answer.status === 429 ? { retryAfter: answer.headers["retry-after"]?.[0] } : {}) };
}

/**
 * The status of the same request from a container on the registry's network: another client
 * address than this host's. It reaches nginx by the proxy container's address, under the name
 * the certificate is for.
 */
function fromElsewhere(path: string, user: string, password: string): number {
    const outputs = stack.outputs();
    const proxyIp = ok("docker", [
        "inspect",
        "--format",
        `{{ (index .NetworkSettings.Networks "${outputs.networkName}").IPAddress }}`,
        outputs.proxyContainerName,
    ]).trim();
    const status = ok("docker", [
        ...["run", "--rm", "--network", outputs.networkName, "--volume", `${caFile}:/ca.crt:ro`, "--entrypoint", "curl"],
        standInImages.nginx,
        ...["--silent", "--output", "/dev/null", "--write-out", "%{http_code}", "--cacert", "/ca.crt"],
        ...["--resolve", `localhost:443:${proxyIp}`, "--user", `${user}:${password}`, `https://localhost${path}`],
    ]);
    return Number(status);
}

/** Lines in a container's log (nginx logs to stderr, the token service to stdout) that match. */
function logCount(container: string, pattern: RegExp): number {
    const result = exec("docker", ["logs", container]);
    return `${result.stdout}\n${result.stderr}`.split("\n").filter((l) => pattern.test(l)).length;
}

function guessesRefusedBeforeTheirCheck(path: string, checks: () => number): void {
    const before = checks();
    for (let i = 0; i < 10; i++) {
        expect(attempt(path, "ci", `guess-${i}`).status).toBe(401);
    }
    expect(checks() - before).toBe(10);
    const refused = attempt(path, "ci", "guess-10");
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(cooldownSeconds);
    // The right password from the refused address is refused too, and neither was checked.
    expect(attempt(path, "ci", passwords.ci).status).toBe(429);
    expect(checks() - before).toBe(10);
}

beforeAll(() => {
    stack.init(loopbackStackConfig(port, users, { extra: throttle }));
    stack.up();
    passwords = stack.outputs().passwords;
    fs.writeFileSync(caFile, stack.outputs().caCertificatePem);
    trust.trustFile(caFile);
});

afterAll(() => {
    stack.removeAll();
    trust.remove();
});

describe("basic mode", () => {
    test("the 11th wrong password is 429 without a bcrypt check; another address logs in; after the cooling-off the password works", () => {
        const proxy = stack.outputs().proxyContainerName;
        guessesRefusedBeforeTheirCheck("/v2/", () => logCount(proxy, /password mismatch/));
        expect(fromElsewhere("/v2/", "ci", passwords.ci)).toBe(200);
        expect(attempt("/v2/", "other", passwords.other).status).toBe(200);
        // Every refusal is logged with the user name and the address, never the password.
        const guard = stack.outputs().guardContainerName;
        expect(logCount(guard, /throttled: user "ci" from \S+, refused for 5 s \(this user from this address\)/)).toBe(1);
        expect(logCount(guard, /refused \(too many failed logins\): user "ci" from /)).toBe(2);
        expect(logCount(guard, /guess-|pw-/)).toBe(0);
        exec("sleep", [String(cooldownSeconds + 1)]);
        expect(attempt("/v2/", "ci", passwords.ci).status).toBe(200);
    });

    test("a docker push of many layers by an honest user never trips the limit", () => {
        const client = new DockerClient();
        expect(client.login(host, "ci", passwords.ci).stdout).toContain("Login Succeeded");
        client.loadImage(
            `${host}/honest/layers:1`,
            Array.from({ length: 15 }, (_, i) => ({ [`layer-${i}`]: crypto.randomBytes(64 * 1024) })),
        );
        client.ok(["push", `${host}/honest/layers:1`]);
        client.ok(["rmi", `${host}/honest/layers:1`]);
        client.ok(["pull", `${host}/honest/layers:1`]);
        expect(logCount(stack.outputs().guardContainerName, /throttled: user "ci"/)).toBe(1);
    });
});

describe("token mode", () => {
    beforeAll(() => {
        useConfig(tokenMode);
        stack.up();
    });

    test("the 11th wrong password is 429 before the token service checks it; another address gets a token; after the cooling-off the password works", () => {
        const tokenPath = `/token?service=${encodeURIComponent(host)}`;
        const service = stack.outputs().guardContainerName;
        guessesRefusedBeforeTheirCheck(tokenPath, () => logCount(service, /refused: bad credentials for "ci"/));
        expect(fromElsewhere(tokenPath, "ci", passwords.ci)).toBe(200);
        expect(attempt(tokenPath, "other", passwords.other).status).toBe(200);
        expect(logCount(service, /guess-|pw-/)).toBe(0);
        exec("sleep", [String(cooldownSeconds + 1)]);
        expect(attempt(tokenPath, "ci", passwords.ci).status).toBe(200);
    });
});
