/**
 * The token endpoint of the distribution token specification: `GET /token?service=S&scope=...`
 * with basic credentials answers a short-lived ES256 JWT that names what the user may do. The
 * password is checked once here, with bcrypt; the registry then checks only the token's
 * signature on each request. In token mode with the audit trail, nginx also asks which user a
 * request's token names (`GET /_token/identity`, identity.ts).
 *
 * jose signs the token and bcryptjs checks the password; nothing here parses or signs by hand.
 */
import { randomUUID, X509Certificate } from "crypto";
import * as http from "http";
import * as bcrypt from "bcryptjs";
import { importPKCS8, KeyLike, SignJWT } from "jose";
import { UserAccess } from "../grants";
import { basicCredentials } from "./credentials";
import { tokenHealthPath, tokenIdentityPath, tokenPath } from "./files";
import { clientAddress, createGuard, GuardSettings, throttledAnswer, throttleLine } from "./guard";
import { createIdentityCheck } from "./identity";
import { RecentLogins } from "./recentLogins";
import { grantScopes, InvalidScopeError, parseScopes } from "./scopes";

/** A user as the token service knows it: the grants, and the bcrypt hash of the password. */
export interface TokenUser extends Required<UserAccess> {
    /** The bcrypt hash (`$2y$`, `$2a$` or `$2b$`) of the user's password. */
    readonly passwordHash: string;
}

/** What the service is given in its config file: the guard's settings, and the token settings. */
export interface TokenServiceSettings extends GuardSettings {
    /** The token's `iss`; the registry's `auth.token.issuer`. */
    readonly issuer: string;
    /** The token's `aud`, and the `service` clients ask for; the registry's `auth.token.service`. */
    readonly service: string;
    /** How long a token is valid, in seconds. */
    readonly lifetimeSeconds: number;
    /** The users who may get tokens. */
    readonly users: readonly TokenUser[];
}

/** The key tokens are signed with and its certificate, which the registry trusts. */
export interface SigningMaterial {
    /** PKCS#8 PEM of a P-256 private key. */
    readonly privateKeyPem: string;
    /** PEM of the certificate of that key, as in the registry's `rootcertbundle`. */
    readonly certificatePem: string;
}

/** The answer to a granted request, as clients read it. */
export interface TokenAnswer {
    readonly token: string;
    readonly access_token: string;
    readonly expires_in: number;
    readonly issued_at: string;
}

/**
 * A hash no password matches, at the cost of the users' own hashes: it is checked for an unknown
 * user, so that a refusal takes as long whether or not the name exists.
 */
export function decoyHash(users: readonly TokenUser[]): string {
    const cost = users.length > 0 ? bcrypt.getRounds(users[0].passwordHash) : 10;
    return bcrypt.hashSync(randomUUID(), cost);
}

function send(res: http.ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers });
    res.end(`${JSON.stringify(body)}\n`);
}

function errorBody(code: string, message: string): object {
    return { errors: [{ code, message }] };
}

/** Builds the request handler; the key is imported once. */
export async function createTokenHandler(
    settings: TokenServiceSettings,
    signing: SigningMaterial,
    log: (line: string) => void = () => undefined,
): Promise<http.RequestListener> {
    const key: KeyLike = await importPKCS8(signing.privateKeyPem, "ES256");
    // The certificate goes into each token's x5c header: registry 2 and 3 both verify a token by
    // the chain it carries, checked against rootcertbundle, whatever key ID each would expect.
    const x5c = [new X509Certificate(signing.certificatePem).raw.toString("base64")];
    const users = new Map(settings.users.map((u) => [u.username, u]));
    const unknownUserHash = decoyHash(settings.users);
    const recent = new RecentLogins(settings.lifetimeSeconds * 1000);
    const guard = createGuard(settings, log);
    const identity = createIdentityCheck({ issuer: settings.issuer, audience: settings.service }, signing.certificatePem);

    /** bcrypt, unless this exact login was verified within a token lifetime; an unknown user checks the decoy. */
    async function checkPassword(username: string, password: string, hash: string | undefined): Promise<boolean> {
        if (hash !== undefined && recent.has(username, password)) return true;
        const ok = await bcrypt.compare(password, hash ?? unknownUserHash);
        if (ok && hash !== undefined) recent.remember(username, password);
        return ok && hash !== undefined;
    }
    const realm = settings.service;

    async function issue(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
        const service = url.searchParams.get("service");
        if (service !== null && service !== settings.service) {
            send(res, 400, errorBody("UNSUPPORTED", `this service issues tokens for ${JSON.stringify(settings.service)} only`));
            return;
        }
        let requested;
        try {
            requested = parseScopes(url.searchParams.getAll("scope"));
        } catch (e) {
            if (!(e instanceof InvalidScopeError)) throw e;
            send(res, 400, errorBody("INVALID_SCOPE", e.message));
            return;
        }
        const credentials = basicCredentials(req.headers.authorization);
        const address = clientAddress(req);
        // Refused before the password is checked: a guesser costs no bcrypt check.
        const decision = guard.throttle?.check(address, credentials?.username) ?? { allowed: true };
        if (!decision.allowed) {
            log(
                throttleLine(
                    "refused (too many failed logins)",
                    credentials?.username,
                    address,
                    decision.retryAfterSeconds,
                    decision.scope,
                ),
            );
            send(res, 429, throttledAnswer, { "Retry-After": String(decision.retryAfterSeconds) });
            return;
        }
        const user = credentials === undefined ? undefined : users.get(credentials.username);
        const passwordOk =
            credentials !== undefined && (await checkPassword(credentials.username, credentials.password, user?.passwordHash));
        if (user === undefined || !passwordOk) {
            log(
                `refused: ${credentials === undefined ? "no credentials" : `bad credentials for ${JSON.stringify(credentials.username)}`} from ${address}`,
            );
            if (credentials !== undefined) {
                const started = guard.throttle?.recordFailure(address, credentials.username);
                if (started !== undefined && !started.allowed) {
                    log(throttleLine("throttled", credentials.username, address, started.retryAfterSeconds, started.scope));
                }
            }
            send(res, 401, errorBody("UNAUTHORIZED", "authentication required"), {
                "WWW-Authenticate": `Basic realm="${realm}", charset="UTF-8"`,
            });
            return;
        }
        const access = grantScopes(user, requested);
        const issuedAt = Math.floor(Date.now() / 1000);
        const token = await new SignJWT({ access })
            .setProtectedHeader({ alg: "ES256", typ: "JWT", x5c })
            .setIssuer(settings.issuer)
            .setAudience(settings.service)
            .setSubject(user.username)
            .setIssuedAt(issuedAt)
            .setNotBefore(issuedAt)
            .setExpirationTime(issuedAt + settings.lifetimeSeconds)
            .setJti(randomUUID())
            .sign(key);
        log(`issued: ${user.username} ${JSON.stringify(access)}`);
        const answer: TokenAnswer = {
            token,
            access_token: token,
            expires_in: settings.lifetimeSeconds,
            issued_at: new Date(issuedAt * 1000).toISOString(),
        };
        send(res, 200, answer);
    }

    return (req, res) => {
        const url = new URL(req.url ?? "/", "http://token-service");
        if (req.method === "GET" && url.pathname === tokenHealthPath) {
            send(res, 200, { status: "ok" });
        } else if (guard.handle(req, res, url)) {
            return;
        } else if (req.method === "GET" && url.pathname === tokenIdentityPath) {
            identity(req, res).catch((e: unknown) => {
                log(`error: ${e instanceof Error ? e.message : String(e)}`);
                if (!res.headersSent) send(res, 500, errorBody("UNKNOWN", "the token service failed"));
            });
        } else if ((req.method === "GET" || req.method === "HEAD") && url.pathname === tokenPath) {
            issue(req, res, url).catch((e: unknown) => {
                log(`error: ${e instanceof Error ? e.message : String(e)}`);
                if (!res.headersSent) send(res, 500, errorBody("UNKNOWN", "the token service failed"));
            });
        } else {
            // 404 (not 405) for a POST: the docker client falls back from OAuth2 to GET on 404.
            send(res, 404, errorBody("NOT_FOUND", "not found"));
        }
    };
}

/** The guard alone, for basic mode, where nginx checks the passwords: its routes and the health check. */
export function createGuardHandler(settings: GuardSettings, log: (line: string) => void = () => undefined): http.RequestListener {
    const guard = createGuard(settings, log);
    return (req, res) => {
        const url = new URL(req.url ?? "/", "http://guard");
        if (req.method === "GET" && url.pathname === tokenHealthPath) {
            send(res, 200, { status: "ok" });
        } else if (!guard.handle(req, res, url)) {
            send(res, 404, errorBody("NOT_FOUND", "not found"));
        }
    };
}
