/**
 * The guard's arguments: the failed-login throttle and the write hold around garbage collection
 * (`tokenService/guard.ts` is the process). In token mode the token service is the guard; in
 * basic mode, where nginx checks the passwords, a guard of its own runs beside nginx on the same
 * Node.js program.
 */
import { defaults } from "./defaults";
import type { GuardSettings } from "./tokenService/guard";
import type { LoginThrottleSettings } from "./tokenService/loginThrottle";
import { checkKnownKeys, describe, InvalidArgumentError, keysOf, validateBoolean } from "./validation";

/** How failed logins are limited; every setting is optional. */
export interface LoginThrottle {
    /**
     * Whether failed logins are counted and guessing refused (429 with `Retry-After`) before
     * any password is checked.
     * @default true
     */
    readonly enabled?: boolean;
    /**
     * Failed logins for one user from one client address within `windowSeconds` after which
     * that user is refused from that address.
     * @default 10
     */
    readonly maxFailures?: number;
    /**
     * Failed logins for any users from one client address within `windowSeconds` after which
     * every user is refused from that address.
     * @default 30
     */
    readonly maxFailuresPerAddress?: number;
    /**
     * The window failures are counted in, in seconds.
     * @default 60
     */
    readonly windowSeconds?: number;
    /**
     * How long a refusal lasts, in seconds; each repeated offence within a day doubles it.
     * @default 60
     */
    readonly cooldownSeconds?: number;
    /**
     * The longest refusal, in seconds.
     * @default 3600
     */
    readonly maxCooldownSeconds?: number;
}

/** @deprecated Renamed {@link LoginThrottle} in 0.3, which every Pulumi language's schema names without a doubled `Args`. */
export type LoginThrottleArgs = LoginThrottle;

const loginThrottleKeys = keysOf<LoginThrottle>()([
    "enabled",
    "maxFailures",
    "maxFailuresPerAddress",
    "windowSeconds",
    "cooldownSeconds",
    "maxCooldownSeconds",
]);

const throttleLimits: Record<keyof Omit<LoginThrottle, "enabled">, [number, number]> = {
    maxFailures: [1, 1000],
    maxFailuresPerAddress: [1, 100000],
    windowSeconds: [1, 86400],
    cooldownSeconds: [1, 86400],
    maxCooldownSeconds: [1, 604800],
};

function integerIn(field: string, value: unknown, [min, max]: [number, number]): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        throw new InvalidArgumentError(field, `${describe(value)} is not valid; expected an integer from ${min} to ${max}`);
    }
    return value;
}

/** Checks `loginThrottle` (named `field`); undefined when it is turned off. */
export function validateLoginThrottle(field: string, value: unknown): LoginThrottleSettings | undefined {
    const given = checkKnownKeys(field, value ?? {}, loginThrottleKeys, "a login throttle setting", "{enabled?, maxFailures?, ...}");
    const d = defaults.loginThrottle;
    if (!validateBoolean(`${field}.enabled`, given.enabled ?? d.enabled)) return undefined;
    const setting = (key: keyof typeof throttleLimits) => integerIn(`${field}.${key}`, given[key] ?? d[key], throttleLimits[key]);
    const settings = {
        maxFailures: setting("maxFailures"),
        maxFailuresPerAddress: setting("maxFailuresPerAddress"),
        windowSeconds: setting("windowSeconds"),
        cooldownSeconds: setting("cooldownSeconds"),
        maxCooldownSeconds: setting("maxCooldownSeconds"),
    };
    if (settings.maxCooldownSeconds < settings.cooldownSeconds) {
        throw new InvalidArgumentError(
            `${field}.maxCooldownSeconds`,
            `${settings.maxCooldownSeconds} is shorter than cooldownSeconds (${settings.cooldownSeconds}); expected at least that`,
        );
    }
    return settings;
}

/** Checks `writeHoldSeconds`: how long a write waits during garbage collection, 1 to 3600. */
export function validateWriteHoldSeconds(field: string, value: unknown): number {
    return integerIn(field, value ?? defaults.writeHoldSeconds, [1, 3600]);
}

/** The guard's part of the service's settings file. */
export function guardSettings(loginThrottle: LoginThrottleSettings | undefined, writeHoldSeconds: number): GuardSettings {
    return { ...(loginThrottle === undefined ? {} : { loginThrottle }), writeHoldSeconds };
}
