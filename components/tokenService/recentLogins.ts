/**
 * Logins the token service has verified recently, so that a client that asks for several tokens
 * in a row (a login, then a push, then a pull) pays the bcrypt check once per token lifetime
 * rather than once per token. Memory holds no password: each entry is an HMAC-SHA256 of the
 * password under a key drawn when the service starts. Only a correct password is ever kept, so
 * a guess still costs a bcrypt check; and any change of users or passwords restarts the
 * service, which forgets everything.
 */
import { createHmac, randomBytes, timingSafeEqual } from "crypto";

export class RecentLogins {
    private readonly key = randomBytes(32);
    private readonly entries = new Map<string, { mac: Buffer; until: number }>();

    /**
     * @param keepMs how long a verified login is remembered
     * @param now the clock, in milliseconds
     */
    constructor(
        private readonly keepMs: number,
        private readonly now: () => number = Date.now,
    ) {}

    private mac(username: string, password: string): Buffer {
        return createHmac("sha256", this.key).update(username).update("\0").update(password).digest();
    }

    /** True when `username` logged in with exactly `password` within the last `keepMs`. */
    has(username: string, password: string): boolean {
        const entry = this.entries.get(username);
        if (entry === undefined) return false;
        if (entry.until <= this.now()) {
            this.entries.delete(username);
            return false;
        }
        return timingSafeEqual(entry.mac, this.mac(username, password));
    }

    /** Remembers a login whose password bcrypt has just verified. */
    remember(username: string, password: string): void {
        this.entries.set(username, { mac: this.mac(username, password), until: this.now() + this.keepMs });
    }
}
