/** The login throttle: what a guesser must be refused, and what an honest user must never be. */
import { LoginThrottle, LoginThrottleSettings } from "../components/tokenService/loginThrottle";

const settings: LoginThrottleSettings = {
    maxFailures: 10,
    maxFailuresPerAddress: 30,
    windowSeconds: 60,
    cooldownSeconds: 60,
    maxCooldownSeconds: 3600,
};

let clock = 0;
const throttle = (maxEntries?: number) => new LoginThrottle(settings, () => clock, maxEntries);

beforeEach(() => {
    clock = 1_000_000;
});

/** Fails `n` logins of `user` from `address`, one per 100 ms, and returns the last decision. */
function fail(t: LoginThrottle, address: string, user: string, n: number) {
    let last = t.recordFailure(address, user);
    for (let i = 1; i < n; i++) {
        clock += 100;
        last = t.recordFailure(address, user);
    }
    return last;
}

test("the 11th attempt after ten wrong passwords in a minute is refused before its check, with the time left", () => {
    const t = throttle();
    for (let i = 0; i < 9; i++) {
        expect(t.check("10.0.0.9", "alice")).toEqual({ allowed: true });
        t.recordFailure("10.0.0.9", "alice");
        clock += 100;
    }
    expect(t.check("10.0.0.9", "alice")).toEqual({ allowed: true });
    expect(t.recordFailure("10.0.0.9", "alice")).toEqual({ allowed: false, retryAfterSeconds: 60, scope: "user" });
    clock += 500;
    expect(t.check("10.0.0.9", "alice")).toEqual({ allowed: false, retryAfterSeconds: 60, scope: "user" });
    clock += 30_000;
    expect(t.check("10.0.0.9", "alice")).toEqual({ allowed: false, retryAfterSeconds: 30, scope: "user" });
});

test("a refused user still logs in from another address, and other users from the same address", () => {
    const t = throttle();
    fail(t, "10.0.0.9", "alice", 10);
    expect(t.check("10.0.0.9", "alice").allowed).toBe(false);
    expect(t.check("10.0.0.10", "alice")).toEqual({ allowed: true });
    expect(t.check("10.0.0.9", "bob")).toEqual({ allowed: true });
});

test("failures spread thinly over time are not a refusal: only those within the window count", () => {
    const t = throttle();
    for (let i = 0; i < 30; i++) {
        expect(t.recordFailure("10.0.0.9", "alice")).toEqual({ allowed: true });
        clock += 7_000;
    }
    expect(t.check("10.0.0.9", "alice")).toEqual({ allowed: true });
});

test("a password tried against many names refuses every user from that address, and only that address", () => {
    const t = throttle();
    let last;
    for (let i = 0; i < 30; i++) {
        clock += 100;
        last = t.recordFailure("10.0.0.9", `user${i}`);
    }
    expect(last).toEqual({ allowed: false, retryAfterSeconds: 60, scope: "address" });
    expect(t.check("10.0.0.9", "alice")).toEqual({ allowed: false, retryAfterSeconds: 60, scope: "address" });
    expect(t.check("10.0.0.9", undefined)).toEqual({ allowed: false, retryAfterSeconds: 60, scope: "address" });
    expect(t.check("10.0.0.10", "alice")).toEqual({ allowed: true });
});

test("after the cooling-off period the user may try again, and a repeated offence doubles it up to the cap", () => {
    const t = throttle();
    fail(t, "10.0.0.9", "alice", 10);
    clock += 60_000;
    expect(t.check("10.0.0.9", "alice")).toEqual({ allowed: true });
    // A refusal needs a full count of new failures: one more is not enough.
    expect(t.recordFailure("10.0.0.9", "alice")).toEqual({ allowed: true });
    expect(fail(t, "10.0.0.9", "alice", 9)).toEqual({ allowed: false, retryAfterSeconds: 120, scope: "user" });
    const lengths = [];
    for (let offence = 3; offence <= 9; offence++) {
        clock += 3_600_000;
        lengths.push((fail(t, "10.0.0.9", "alice", 10) as { retryAfterSeconds: number }).retryAfterSeconds);
    }
    expect(lengths).toEqual([240, 480, 960, 1920, 3600, 3600, 3600]);
});

test("offences are forgotten after a day without one", () => {
    const t = throttle();
    fail(t, "10.0.0.9", "alice", 10);
    clock += 25 * 3_600_000;
    expect(fail(t, "10.0.0.9", "alice", 10)).toEqual({ allowed: false, retryAfterSeconds: 60, scope: "user" });
});

test("attempts refused while cooling off are not counted and do not extend the refusal", () => {
    const t = throttle();
    fail(t, "10.0.0.9", "alice", 10);
    for (let i = 0; i < 100; i++) {
        clock += 100;
        expect(t.check("10.0.0.9", "alice").allowed).toBe(false);
    }
    clock = 1_000_000 + 900 + 60_000;
    expect(t.check("10.0.0.9", "alice")).toEqual({ allowed: true });
});

test("requests without credentials are refused only when their address is", () => {
    const t = throttle();
    fail(t, "10.0.0.9", "alice", 10);
    expect(t.check("10.0.0.9", undefined)).toEqual({ allowed: true });
});

test("user names are compared exactly: another spelling is another user", () => {
    const t = throttle();
    fail(t, "10.0.0.9", "alice", 10);
    expect(t.check("10.0.0.9", "Alice")).toEqual({ allowed: true });
    expect(t.check("10.0.0.9", "alice\0")).toEqual({ allowed: true });
});

test("memory stays bounded when guesses come from very many addresses", () => {
    const t = throttle(1000);
    for (let i = 0; i < 5000; i++) {
        t.recordFailure(`2001:db8::${i.toString(16)}`, "alice");
    }
    expect(t.size).toBeLessThanOrEqual(1000);
});
