/**
 * How clients authenticate: `basic`, where nginx checks the password on every request, or
 * `token`, where a token service checks it once and the registry trusts the short-lived signed
 * token it issues. Both enforce the same grants.
 */
import { defaults } from "./defaults";
import type { TokenRoute } from "./nginxConfig";
import { checkKnownKeys, describe, InvalidArgumentError, keysOf, validateImageReference } from "./validation";

/** The authentication modes. */
export const AuthMode = {
    /** HTTP basic auth at nginx against the bcrypt htpasswd file, on every request; nginx enforces the grants. */
    Basic: "basic",
    /** The registry token protocol: the token service checks the password and issues scoped tokens. */
    Token: "token",
} as const;
/** One of {@link AuthMode}'s values. */
export type AuthMode = (typeof AuthMode)[keyof typeof AuthMode];

/** How clients authenticate; the `token*` settings apply to mode `token` only. */
export interface RegistryAuth {
    /**
     * `basic` or `token`; both enforce each user's `access` and `catalog` alike, so a stack can
     * switch modes without touching its users, and keeps its images.
     * @default "basic"
     */
    readonly mode?: AuthMode;
    /**
     * How long a token is valid, in seconds, 60 to 86400. A removed user or changed password
     * stops working for new tokens at once, for tokens already issued within this time.
     * @default 300
     */
    readonly tokenLifetimeSeconds?: number;
    /**
     * Token requests nginx serves per minute from one client address; beyond them and the
     * burst it answers 429, which bounds password guessing.
     * @default 300
     */
    readonly tokenRequestsPerMinute?: number;
    /**
     * Token requests over the rate served at once before nginx answers 429.
     * @default 20
     */
    readonly tokenRequestBurst?: number;
    /**
     * The image the token service runs on: any Node.js 20 or later with `node` on the PATH; pin a tag or digest.
     * @default "node:22.23.5-bookworm-slim"
     */
    readonly tokenServiceImage?: string;
}

/** {@link RegistryAuth} checked, with every default filled in. */
export type CheckedAuth =
    { readonly mode: typeof AuthMode.Basic } | (Required<Omit<RegistryAuth, "mode">> & { readonly mode: typeof AuthMode.Token });

const authKeys = keysOf<RegistryAuth>()([
    "mode",
    "tokenLifetimeSeconds",
    "tokenRequestsPerMinute",
    "tokenRequestBurst",
    "tokenServiceImage",
]);
/** The settings that apply to mode `token` only. */
const tokenSettings = authKeys.filter((key) => key !== "mode");

function integerIn(field: string, value: unknown, min: number, max: number, unit: string): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        throw new InvalidArgumentError(field, `${describe(value)} is not ${unit}; expected an integer from ${min} to ${max}`);
    }
    return value;
}

/** A token lifetime: whole seconds from 60 (the registry's own leeway) to one day. */
export function validateTokenLifetime(field: string, value: unknown): number {
    return integerIn(field, value, 60, 86400, "a token lifetime in seconds");
}

/** Checks `auth` (named `field`); refuses a token setting in basic mode rather than ignoring it. */
export function validateAuth(field: string, value: unknown): CheckedAuth {
    if (value === undefined) return { mode: AuthMode.Basic };
    const auth = checkKnownKeys(field, value, authKeys, "an auth setting", "{mode: basic} or {mode: token, ...}");
    const mode = auth.mode ?? AuthMode.Basic;
    if (!Object.values(AuthMode).includes(mode as AuthMode)) {
        throw new InvalidArgumentError(`${field}.mode`, `${describe(mode)} is not an auth mode; expected basic or token`);
    }
    if (mode === AuthMode.Basic) {
        const misplaced = tokenSettings.find((key) => auth[key] !== undefined);
        if (misplaced !== undefined) {
            throw new InvalidArgumentError(`${field}.${misplaced}`, "applies to mode token only; set mode: token or remove it");
        }
        return { mode: AuthMode.Basic };
    }
    const d = defaults.auth;
    return {
        mode: AuthMode.Token,
        tokenLifetimeSeconds: validateTokenLifetime(`${field}.tokenLifetimeSeconds`, auth.tokenLifetimeSeconds ?? d.tokenLifetimeSeconds),
        tokenRequestsPerMinute: integerIn(
            `${field}.tokenRequestsPerMinute`,
            auth.tokenRequestsPerMinute ?? d.tokenRequestsPerMinute,
            1,
            60000,
            "a rate",
        ),
        tokenRequestBurst: integerIn(`${field}.tokenRequestBurst`, auth.tokenRequestBurst ?? d.tokenRequestBurst, 0, 10000, "a burst size"),
        tokenServiceImage: validateImageReference(`${field}.tokenServiceImage`, auth.tokenServiceImage ?? d.tokenServiceImage),
    };
}

/** The bcrypt cost a mode uses when none is given. */
export function defaultBcryptCostFor(mode: AuthMode): number {
    return mode === AuthMode.Token ? defaults.tokenBcryptCost : defaults.bcryptCost;
}

/** Where nginx sends `/token` in token mode, and at what rate per client. */
export function tokenRouteFor(auth: CheckedAuth & { readonly mode: typeof AuthMode.Token }, upstream: string): TokenRoute {
    return { upstream, requestsPerMinute: auth.tokenRequestsPerMinute, burst: auth.tokenRequestBurst };
}
