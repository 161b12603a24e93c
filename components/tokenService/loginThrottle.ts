/**
 * Failed logins counted per client address, for one user and for all users, so that password
 * guessing is refused before any password is checked. Past `maxFailures` failures for one user
 * from one address within `windowSeconds`, that user is refused from that address; past
 * `maxFailuresPerAddress` failures for any users, every user is. A refusal lasts
 * `cooldownSeconds`, doubled for each repeated offence up to `maxCooldownSeconds`.
 *
 * Only failures are counted, and only from the address they came from: a correct password from
 * another address still works, so nobody can lock a user out from elsewhere. Nothing here sees a
 * password. Memory is bounded: entries past their use are dropped, and beyond `maxEntries` the
 * oldest go first.
 */
import { loginThrottleDefaults } from "../defaults";

/** The throttle's settings; see {@link loginThrottleDefaults} for the defaults. */
export interface LoginThrottleSettings {
    /** Failures for one user from one address within the window before that user is refused there. */
    readonly maxFailures: number;
    /** Failures for any users from one address within the window before every user is refused there. */
    readonly maxFailuresPerAddress: number;
    /** The window failures are counted in, in seconds. */
    readonly windowSeconds: number;
    /** The first refusal's length, in seconds; each repeated offence doubles it. */
    readonly cooldownSeconds: number;
    /** The longest refusal, in seconds. */
    readonly maxCooldownSeconds: number;
}

/** Whether an attempt may go on to the password check, and if not for how long it is refused. */
export type ThrottleDecision =
    { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number; readonly scope: "user" | "address" };

interface Entry {
    /** Times of the failures within the window, oldest first, in milliseconds. */
    failures: number[];
    /** Refused until then, in milliseconds; 0 when not refused. */
    blockedUntil: number;
    /** Offences so far; forgotten after `offenceMemoryMs` without a new one. */
    offences: number;
    lastOffence: number;
}

/** Counts failed logins and decides which attempts are refused before their password is checked. */
export class LoginThrottle {
    private readonly entries = new Map<string, Entry>();

    /**
     * @param settings the thresholds and cooling-off periods
     * @param now the clock, in milliseconds
     * @param maxEntries the most addresses and user-address pairs kept at once
     */
    constructor(
        private readonly settings: LoginThrottleSettings,
        private readonly now: () => number = Date.now,
        private readonly maxEntries: number = loginThrottleDefaults.maxEntries,
    ) {}

    /** Whether `username` (undefined when the request carries no credentials) may try from `address`. */
    check(address: string, username: string | undefined): ThrottleDecision {
        const now = this.now();
        const byAddress = this.blockedUntil(addressKey(address));
        const byUser = username === undefined ? 0 : this.blockedUntil(pairKey(address, username));
        const until = Math.max(byAddress, byUser);
        if (until <= now) return { allowed: true };
        return { allowed: false, retryAfterSeconds: Math.ceil((until - now) / 1000), scope: byAddress >= byUser ? "address" : "user" };
    }

    /**
     * Counts a failed login of `username` from `address`. Returns the refusal it starts, if
     * this failure crossed a threshold, so that the caller can log it once.
     */
    recordFailure(address: string, username: string): ThrottleDecision {
        const now = this.now();
        const pair = this.count(pairKey(address, username), now, this.settings.maxFailures);
        const all = this.count(addressKey(address), now, this.settings.maxFailuresPerAddress);
        const until = Math.max(pair, all);
        if (until <= now) return { allowed: true };
        return { allowed: false, retryAfterSeconds: Math.ceil((until - now) / 1000), scope: all >= pair ? "address" : "user" };
    }

    /** How many addresses and pairs are remembered; for tests and the memory bound. */
    get size(): number {
        return this.entries.size;
    }

    /** When the refusal under `key` ends, in milliseconds; 0 when there is none. */
    private blockedUntil(key: string): number {
        return this.entries.get(key)?.blockedUntil ?? 0;
    }

    /** Adds a failure under `key`; starts a refusal at `max` failures in the window. Returns the refusal's end. */
    private count(key: string, now: number, max: number): number {
        const entry = this.entry(key, now);
        const windowStart = now - this.settings.windowSeconds * 1000;
        entry.failures = entry.failures.filter((t) => t > windowStart);
        entry.failures.push(now);
        if (entry.failures.length >= max && entry.blockedUntil <= now) {
            if (now - entry.lastOffence > offenceMemoryMs) entry.offences = 0;
            entry.offences += 1;
            entry.lastOffence = now;
            const cooldown = Math.min(this.settings.cooldownSeconds * 2 ** (entry.offences - 1), this.settings.maxCooldownSeconds);
            entry.blockedUntil = now + cooldown * 1000;
            // The next refusal needs a full count of new failures after this one ends.
            entry.failures = [];
        }
        return entry.blockedUntil;
    }

    private entry(key: string, now: number): Entry {
        let entry = this.entries.get(key);
        if (entry === undefined) {
            if (this.entries.size >= this.maxEntries) this.prune(now);
            entry = { failures: [], blockedUntil: 0, offences: 0, lastOffence: 0 };
        } else {
            // Re-inserted so that the map's order is the order of last use.
            this.entries.delete(key);
        }
        this.entries.set(key, entry);
        return entry;
    }

    /**
     * Drops entries that no longer refuse, count or remember anything; then the least recently
     * used, down to nine tenths of the bound, so that a flood of addresses costs one scan per
     * tenth of the bound rather than one per request.
     */
    private prune(now: number): void {
        const windowStart = now - this.settings.windowSeconds * 1000;
        for (const [key, entry] of this.entries) {
            const idle = entry.blockedUntil <= now && entry.failures.every((t) => t <= windowStart);
            if (idle && now - entry.lastOffence > offenceMemoryMs) this.entries.delete(key);
        }
        for (const key of this.entries.keys()) {
            if (this.entries.size < this.maxEntries * 0.9) break;
            this.entries.delete(key);
        }
    }
}

/** How long a repeated offence still doubles the cooling-off period: a day. */
const offenceMemoryMs = 24 * 3600 * 1000;

const addressKey = (address: string) => `a\0${address}`;
const pairKey = (address: string, username: string) => `u\0${address}\0${username}`;
