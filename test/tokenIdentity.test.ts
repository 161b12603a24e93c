/**
 * The token service's identity route, from the attacker's side: it names a token's user only for a
 * token the service itself signed, for its issuer and audience, still valid; every other
 * Authorization header names no one. It always answers 204, so it never decides a request.
 */
import { createPrivateKey } from "crypto";
import * as http from "http";
import { AddressInfo } from "net";
import { SignJWT } from "jose";
import { tokenIdentityHeader } from "../components/tokenService/files";
import { createIdentityCheck } from "../components/tokenService/identity";
import { selfSigned } from "./certificates";

const signing = selfSigned(["token-signer"]);
const claims = { issuer: "authenticated-registry token service", audience: "registry.example.com" };
let server: http.Server;
let port: number;

beforeAll(async () => {
    const check = createIdentityCheck(claims, signing.certificatePem);
    server = http.createServer((req, res) => void check(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The status and the raw bytes of the user header the route answers `authorization` with. */
function ask(authorization?: string): Promise<{ status: number; user?: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request(
            { host: "127.0.0.1", port, path: "/_token/identity", headers: authorization ? { authorization } : {} },
            (res) => {
                res.resume();
                const raw = res.headers[tokenIdentityHeader.toLowerCase()];
                // Node reads header bytes as latin1: back to the bytes, then as UTF-8.
                res.on("end", () =>
                    resolve({
                        status: res.statusCode!,
                        user: raw === undefined ? undefined : Buffer.from(String(raw), "latin1").toString("utf8"),
                    }),
                );
            },
        );
        req.on("error", reject);
        req.end();
    });
}

interface TokenOptions {
    readonly subject?: string;
    readonly key?: string;
    readonly issuer?: string;
    readonly audience?: string;
    readonly expiresIn?: number;
}

/** A token as the service signs one (ES256), with what `options` changes. */
function token({
    subject = "ci",
    key = signing.privateKeyPem,
    issuer = claims.issuer,
    audience = claims.audience,
    expiresIn = 300,
}: TokenOptions = {}) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ access: [] })
        .setProtectedHeader({ alg: "ES256", typ: "JWT" })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject)
        .setIssuedAt(now - 10)
        .setExpirationTime(now + expiresIn)
        .sign(createPrivateKey(key));
}

test("a token the service signed names its user", async () => {
    expect(await ask(`Bearer ${await token()}`)).toEqual({ status: 204, user: "ci" });
});

test("a name beyond ASCII arrives as its UTF-8 bytes", async () => {
    expect(await ask(`Bearer ${await token({ subject: "josé-山田" })}`)).toEqual({ status: 204, user: "josé-山田" });
});

describe("names no one", () => {
    const forger = selfSigned(["forger"]);
    /** The service's token with its header swapped for `alg: none` and its signature dropped. */
    const unsigned = async () => {
        const payload = (await token()).split(".")[1];
        const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
        return `${none}.${payload}.`;
    };
    test.each<[string, () => Promise<string | undefined>]>([
        ["a token signed by another key", async () => `Bearer ${await token({ key: forger.privateKeyPem })}`],
        ["an expired token", async () => `Bearer ${await token({ expiresIn: -60 })}`],
        ["a token of another issuer", async () => `Bearer ${await token({ issuer: "someone else" })}`],
        ["a token for another registry", async () => `Bearer ${await token({ audience: "other.example.com" })}`],
        ["a token with alg none", async () => `Bearer ${await unsigned()}`],
        [
            "a token with its payload changed",
            async () => {
                const [header, , signature] = (await token()).split(".");
                const payload = Buffer.from(
                    JSON.stringify({ iss: claims.issuer, aud: claims.audience, sub: "admin", exp: 4102444800 }),
                ).toString("base64url");
                return `Bearer ${header}.${payload}.${signature}`;
            },
        ],
        ["basic credentials", async () => `Basic ${Buffer.from("ci:pw-ci").toString("base64")}`],
        ["garbage", async () => "Bearer not.a.token"],
        ["no header", async () => undefined],
    ])("%s", async (_, authorization) => {
        expect(await ask(await authorization())).toEqual({ status: 204, user: undefined });
    });
});
