/**
 * The guard nginx consults on the private network (`auth_request`), in both auth modes:
 *
 * - `GET /_guard/login`: before nginx checks a password, whether the client's address may try
 *   for the user it names. 204 if so; 403 with `Retry-After` if not, which nginx answers as 429.
 * - `GET /_guard/failure`: after nginx refused a password, counts the failure and answers the
 *   401 the client gets (nginx keeps its own basic-auth challenge on it).
 * - `GET /_guard/write`: before every write, whether it goes on now; while garbage collection
 *   holds the registry the answer waits (`WriteHold`). 204, or 403 once the hold expired, which
 *   nginx answers as 503.
 * - `/_guard/maintenance?phase=...`: the hold's phase, set by `scripts/gc.sh` from inside the
 *   container; refused from any address but loopback.
 *
 * nginx gives the client's address in `X-Real-IP`, the user name in `X-Registry-User` and the
 * original write in `X-Original-Method` and `X-Original-URI`. No password reaches the guard.
 */
import * as http from "http";
import { LoginThrottle, LoginThrottleSettings } from "./loginThrottle";
import { MaintenancePhase, WriteHold } from "./writeHold";

/** The guard's settings, in the service's settings file. */
export interface GuardSettings {
    /** Failed-login limits; undefined turns the throttle off. */
    readonly loginThrottle?: LoginThrottleSettings;
    /** How long a write waits while garbage collection holds the registry, in seconds. */
    readonly writeHoldSeconds: number;
}

/** The paths the guard answers on. */
export const guardPaths = {
    login: "/_guard/login",
    failure: "/_guard/failure",
    write: "/_guard/write",
    maintenance: "/_guard/maintenance",
} as const;

/** The answer to an attempt refused before its check; nginx sends the same body in basic mode. */
export const throttledAnswer = {
    errors: [{ code: "TOOMANYREQUESTS", message: "too many failed logins from this address; retry after the time in Retry-After" }],
};

/** A request's client address, as nginx passes it on. */
export function clientAddress(req: http.IncomingMessage): string {
    const header = req.headers["x-real-ip"];
    return (typeof header === "string" ? header : undefined) ?? req.socket.remoteAddress ?? "unknown";
}

/** The user name nginx names in `X-Registry-User`; undefined when the request had no credentials. */
function userNamed(req: http.IncomingMessage): string | undefined {
    const header = req.headers["x-registry-user"];
    return typeof header === "string" && header !== "" ? header : undefined;
}

/** Logs a throttle decision: the user name and the address, never the password. */
export function throttleLine(
    what: string,
    username: string | undefined,
    address: string,
    retryAfterSeconds: number,
    scope: string,
): string {
    const who = username === undefined ? "no user" : `user ${JSON.stringify(username)}`;
    return `${what}: ${who} from ${address}, refused for ${retryAfterSeconds} s (${scope === "address" ? "every user from this address" : "this user from this address"})`;
}

/** The guard's routes; `handle` answers and returns true for its paths, false for any other. */
export function createGuard(settings: GuardSettings, log: (line: string) => void) {
    const throttle = settings.loginThrottle === undefined ? undefined : new LoginThrottle(settings.loginThrottle);
    const hold = new WriteHold(settings.writeHoldSeconds);

    function empty(res: http.ServerResponse, status: number, headers: Record<string, string> = {}): void {
        res.writeHead(status, { "Cache-Control": "no-store", ...headers });
        res.end();
    }

    function login(req: http.IncomingMessage, res: http.ServerResponse): void {
        const address = clientAddress(req);
        const username = userNamed(req);
        const decision = throttle?.check(address, username) ?? { allowed: true };
        if (decision.allowed) {
            empty(res, 204);
            return;
        }
        log(throttleLine("refused (too many failed logins)", username, address, decision.retryAfterSeconds, decision.scope));
        empty(res, 403, { "Retry-After": String(decision.retryAfterSeconds) });
    }

    function failure(req: http.IncomingMessage, res: http.ServerResponse): void {
        const address = clientAddress(req);
        const username = userNamed(req);
        if (username !== undefined) {
            log(`refused: bad credentials for ${JSON.stringify(username)} from ${address}`);
            const decision = throttle?.recordFailure(address, username);
            if (decision !== undefined && !decision.allowed) {
                log(throttleLine("throttled", username, address, decision.retryAfterSeconds, decision.scope));
            }
        }
        res.writeHead(401, { "Content-Type": "application/json", "Cache-Control": "no-store" });
        res.end(`${JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] })}\n`);
    }

    async function write(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const header = (name: string) => {
            const value = req.headers[name];
            return typeof value === "string" ? value : "";
        };
        const outcome = await hold.admit({
            address: clientAddress(req),
            method: header("x-original-method"),
            uri: header("x-original-uri"),
        });
        if (outcome === "go") {
            empty(res, 204);
        } else {
            log(`write held for ${settings.writeHoldSeconds} s in vain: ${header("x-original-method")} ${header("x-original-uri")}`);
            empty(res, 403);
        }
    }

    function maintenance(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
        const remote = req.socket.remoteAddress ?? "";
        if (!["127.0.0.1", "::1", "::ffff:127.0.0.1"].includes(remote)) {
            empty(res, 403);
            return;
        }
        const phase = url.searchParams.get("phase");
        if (phase !== null) {
            const seconds = (name: string, fallback: number) => {
                const value = Number(url.searchParams.get(name) ?? fallback);
                return Number.isInteger(value) && value >= 0 && value <= 86400 ? value : undefined;
            };
            const lease = seconds("leaseSeconds", 30);
            const quiet = seconds("quietSeconds", 3);
            if (!Object.values(MaintenancePhase).includes(phase as MaintenancePhase) || lease === undefined || quiet === undefined) {
                res.writeHead(400, { "Content-Type": "application/json" });
                res.end(`${JSON.stringify({ error: "expected phase=open|draining|closed, leaseSeconds and quietSeconds 0 to 86400" })}\n`);
                return;
            }
            const before = hold.state().phase;
            hold.enter(phase as MaintenancePhase, lease, quiet);
            if (before !== phase) log(`maintenance: ${before} -> ${phase}`);
        }
        res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
        res.end(`${JSON.stringify(hold.state())}\n`);
    }

    return {
        throttle,
        handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): boolean {
            switch (url.pathname) {
                case guardPaths.login:
                    login(req, res);
                    return true;
                case guardPaths.failure:
                    failure(req, res);
                    return true;
                case guardPaths.write:
                    write(req, res).catch((e: unknown) => {
                        log(`error: ${e instanceof Error ? e.message : String(e)}`);
                        if (!res.headersSent) empty(res, 500);
                    });
                    return true;
                case guardPaths.maintenance:
                    maintenance(req, res, url);
                    return true;
                default:
                    return false;
            }
        },
    };
}
