/**
 * Holds writes while garbage collection runs, instead of refusing them: nginx asks before every
 * write, and the answer waits until the collection ends (or `holdSeconds` pass, when the write
 * gets 503 after all).
 *
 * A collection deletes every blob no manifest refers to, so a push must not straddle it: blobs
 * uploaded before the collection and a manifest put after it would be a push whose layers were
 * deleted under it. So `scripts/gc.sh` first drains: pushes already under way (a write from the
 * same address to the same repository within the quiet time) go on to their manifest, while new
 * pushes (an upload's first POST, a DELETE) wait. Once no push has written for the quiet time,
 * the registry is closed to every write, collected, and opened. The maintenance phase is a lease
 * that `gc.sh` renews: if it dies, writes resume when the lease runs out.
 */

/** Where a collection is. */
export const MaintenancePhase = {
    /** Writes go on. */
    Open: "open",
    /** Pushes under way go on; new ones wait. */
    Draining: "draining",
    /** Every write waits. */
    Closed: "closed",
} as const;
export type MaintenancePhase = (typeof MaintenancePhase)[keyof typeof MaintenancePhase];

/** A write as nginx describes it: the client's address, the method and the request URI. */
export interface WriteRequest {
    readonly address: string;
    readonly method: string;
    readonly uri: string;
}

/** What the hold reports to `gc.sh`. */
export interface HoldState {
    readonly phase: MaintenancePhase;
    /** Pushes that have written within the quiet time. */
    readonly pushesUnderWay: number;
    /** Writes waiting now. */
    readonly waiting: number;
    /** Seconds until the phase falls back to open unless renewed; 0 when open. */
    readonly leaseSeconds: number;
}

/** The repository a write goes to and whether it ends a push (a manifest put by tag). */
export function describeWrite(uri: string): { repository: string | undefined; endsPush: boolean } {
    const path = uri.split("?", 1)[0];
    const manifest = /^\/v2\/(.+?)\/manifests\/([^/]+)$/.exec(path);
    if (manifest) return { repository: manifest[1], endsPush: !manifest[2].includes(":") };
    const blob = /^\/v2\/(.+?)\/blobs\//.exec(path);
    return { repository: blob?.[1], endsPush: false };
}

/** Decides, per write, whether it goes on now or waits for the collection to end. */
export class WriteHold {
    private phase: MaintenancePhase = MaintenancePhase.Open;
    private leaseUntil = 0;
    private quietMs = 3000;
    private leaseTimer: NodeJS.Timeout | undefined;
    /** The last write of each push under way, by address and repository. */
    private readonly pushes = new Map<string, number>();
    private readonly waiters = new Set<() => void>();

    /** @param holdSeconds how long a write waits at most */
    constructor(private readonly holdSeconds: number) {}

    /** Resolves `go` when the write may go on, `expired` when it waited `holdSeconds` in vain. */
    admit(write: WriteRequest): Promise<"go" | "expired"> {
        if (!this.mustWait(write)) {
            this.note(write);
            return Promise.resolve("go");
        }
        return new Promise((resolve) => {
            const retry = () => {
                if (this.mustWait(write)) return;
                this.waiters.delete(retry);
                clearTimeout(timer);
                this.note(write);
                resolve("go");
            };
            const timer = setTimeout(() => {
                this.waiters.delete(retry);
                resolve("expired");
            }, this.holdSeconds * 1000);
            this.waiters.add(retry);
        });
    }

    /**
     * Enters `phase` for `leaseSeconds` (renewed by calling again), counting a push as under way
     * while it has written within `quietSeconds`.
     */
    enter(phase: MaintenancePhase, leaseSeconds: number, quietSeconds: number): HoldState {
        clearTimeout(this.leaseTimer);
        this.phase = phase;
        this.quietMs = quietSeconds * 1000;
        if (phase === MaintenancePhase.Open) {
            this.leaseUntil = 0;
        } else {
            this.leaseUntil = Date.now() + leaseSeconds * 1000;
            this.leaseTimer = setTimeout(() => this.enter(MaintenancePhase.Open, 0, quietSeconds), leaseSeconds * 1000);
            this.leaseTimer.unref();
        }
        for (const retry of [...this.waiters]) retry();
        return this.state();
    }

    state(): HoldState {
        const now = Date.now();
        let pushesUnderWay = 0;
        for (const [key, last] of this.pushes) {
            if (now - last <= this.quietMs) pushesUnderWay++;
            else this.pushes.delete(key);
        }
        return {
            phase: this.phase,
            pushesUnderWay,
            waiting: this.waiters.size,
            leaseSeconds: Math.max(0, Math.ceil((this.leaseUntil - now) / 1000)),
        };
    }

    private mustWait(write: WriteRequest): boolean {
        switch (this.phase) {
            case MaintenancePhase.Open:
                return false;
            case MaintenancePhase.Closed:
                return true;
            case MaintenancePhase.Draining: {
                const last = this.pushes.get(pushKey(write));
                const underWay = last !== undefined && Date.now() - last <= this.quietMs;
                return !underWay && (write.method === "POST" || write.method === "DELETE");
            }
        }
    }

    /** Remembers a write that goes on: its push is under way, or over with a manifest put by tag. */
    private note(write: WriteRequest): void {
        const { repository, endsPush } = describeWrite(write.uri);
        if (repository === undefined || write.method === "DELETE") return;
        const key = pushKey(write);
        if (endsPush) this.pushes.delete(key);
        else this.pushes.set(key, Date.now());
        // Pushes long over are dropped now and then, so memory follows the pushes under way.
        if (this.pushes.size > 1000) this.state();
    }
}

const pushKey = (write: WriteRequest) => `${write.address}\0${describeWrite(write.uri).repository ?? ""}`;
