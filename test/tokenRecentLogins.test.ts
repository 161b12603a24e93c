/** The token service's memory of verified logins: what it must never accept. */
import { RecentLogins } from "../components/tokenService/recentLogins";

let clock = 0;
const logins = () => new RecentLogins(300_000, () => clock);

beforeEach(() => {
    clock = 1_000_000;
});

test("a login verified by bcrypt is remembered for the keep time, and only that exact login", () => {
    const recent = logins();
    expect(recent.has("ci", "secret")).toBe(false);
    recent.remember("ci", "secret");
    expect(recent.has("ci", "secret")).toBe(true);
    clock += 299_999;
    expect(recent.has("ci", "secret")).toBe(true);
});

test.each([
    ["a wrong password", "ci", "guess"],
    ["the password with a suffix", "ci", "secret "],
    ["a prefix of the password", "ci", "secre"],
    ["an empty password", "ci", ""],
    ["another user with the same password", "node", "secret"],
    ["the user name differing in case", "CI", "secret"],
])("refuses %s", (_what, username, password) => {
    const recent = logins();
    recent.remember("ci", "secret");
    expect(recent.has(username, password)).toBe(false);
});

test("forgets a login when the keep time is over, so the next one pays bcrypt again", () => {
    const recent = logins();
    recent.remember("ci", "secret");
    clock += 300_000;
    expect(recent.has("ci", "secret")).toBe(false);
    clock -= 1;
    expect(recent.has("ci", "secret")).toBe(false);
});

test("a changed password replaces the remembered one", () => {
    const recent = logins();
    recent.remember("ci", "old");
    recent.remember("ci", "new");
    expect(recent.has("ci", "old")).toBe(false);
    expect(recent.has("ci", "new")).toBe(true);
});

test("two services never share what they remember: each draws its own key", () => {
    const a = logins();
    const b = logins();
    a.remember("ci", "secret");
    expect(b.has("ci", "secret")).toBe(false);
});
