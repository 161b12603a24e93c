/** The write hold around garbage collection: which writes wait, and that every one is answered. */
import { describeWrite, MaintenancePhase, WriteHold } from "../components/tokenService/writeHold";

const a = "10.0.0.9";
const post = (repo: string, address = a) => ({ address, method: "POST", uri: `/v2/${repo}/blobs/uploads/` });
const patch = (repo: string, address = a) => ({ address, method: "PATCH", uri: `/v2/${repo}/blobs/uploads/5e1f?_state=x` });
const manifest = (repo: string, ref = "latest", address = a) => ({ address, method: "PUT", uri: `/v2/${repo}/manifests/${ref}` });

beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ["setImmediate"] });
});
afterEach(() => {
    jest.useRealTimers();
});

/** Whether the promise has settled, and with what, after pending callbacks ran. */
async function settled<T>(p: Promise<T>): Promise<T | "pending"> {
    return Promise.race([p, new Promise<"pending">((resolve) => setImmediate(() => resolve("pending")))]);
}

test.each([
    ["/v2/team/app/blobs/uploads/", "team/app", false],
    ["/v2/team/app/blobs/uploads/5e1f?digest=sha256:ab", "team/app", false],
    ["/v2/team/app/manifests/v1.2", "team/app", true],
    ["/v2/team/app/manifests/sha256:0123", "team/app", false],
    ["/v2/team/app/blobs/sha256:0123", "team/app", false],
    ["/v2/_catalog", undefined, false],
])("describeWrite(%s)", (uri, repository, endsPush) => {
    expect(describeWrite(uri)).toEqual({ repository, endsPush });
});

test("while open every write goes on at once", async () => {
    const hold = new WriteHold(120);
    expect(await hold.admit(post("app"))).toBe("go");
    expect(await hold.admit({ address: a, method: "DELETE", uri: "/v2/app/manifests/sha256:01" })).toBe("go");
});

test("closed, a write waits until the registry opens, then goes on", async () => {
    jest.useRealTimers();
    const hold = new WriteHold(120);
    hold.enter(MaintenancePhase.Closed, 60, 3);
    const write = hold.admit(manifest("app"));
    expect(await settled(write)).toBe("pending");
    expect(hold.state()).toMatchObject({ phase: "closed", waiting: 1 });
    hold.enter(MaintenancePhase.Open, 0, 3);
    expect(await settled(write)).toBe("go");
    expect(hold.state()).toEqual({ phase: "open", pushesUnderWay: 0, waiting: 0, leaseSeconds: 0 });
});

test("a write held past holdSeconds gets expired, not an endless wait", async () => {
    const hold = new WriteHold(120);
    hold.enter(MaintenancePhase.Closed, 600, 3);
    const write = hold.admit(post("app"));
    jest.advanceTimersByTime(119_999);
    expect(await settled(write)).toBe("pending");
    jest.advanceTimersByTime(1);
    expect(await write).toBe("expired");
    expect(hold.state().waiting).toBe(0);
});

test("a lease that is not renewed opens the registry again, and the waiting writes go on", async () => {
    const hold = new WriteHold(120);
    hold.enter(MaintenancePhase.Closed, 30, 3);
    const write = hold.admit(post("app"));
    expect(hold.state().leaseSeconds).toBe(30);
    jest.advanceTimersByTime(30_000);
    expect(await write).toBe("go");
    expect(hold.state().phase).toBe("open");
});

test("draining lets a push under way finish, and holds new pushes and deletes", async () => {
    const hold = new WriteHold(120);
    await hold.admit(post("app"));
    jest.advanceTimersByTime(1000);
    hold.enter(MaintenancePhase.Draining, 60, 3);
    expect(hold.state().pushesUnderWay).toBe(1);
    // The same client's next layer, its chunks and its manifest go on.
    expect(await settled(hold.admit(post("app")))).toBe("go");
    expect(await settled(hold.admit(patch("app")))).toBe("go");
    expect(await settled(hold.admit(manifest("app")))).toBe("go");
    expect(hold.state().pushesUnderWay).toBe(0);
    // Its next push is a new one, as are another repository's, another client's, and a delete.
    const held = [
        hold.admit(post("app")),
        hold.admit(post("other")),
        hold.admit(post("app", "10.0.0.10")),
        hold.admit({ address: a, method: "DELETE", uri: "/v2/app/manifests/sha256:01" }),
    ];
    for (const write of held) expect(await settled(write)).toBe("pending");
    hold.enter(MaintenancePhase.Open, 0, 3);
    expect(await Promise.all(held)).toEqual(["go", "go", "go", "go"]);
});

test("a push that has not written for the quiet time is no longer under way", async () => {
    const hold = new WriteHold(120);
    await hold.admit(post("app"));
    jest.advanceTimersByTime(3001);
    hold.enter(MaintenancePhase.Draining, 60, 3);
    expect(hold.state().pushesUnderWay).toBe(0);
    expect(await settled(hold.admit(post("app")))).toBe("pending");
});

test("a manifest put by digest (an image index's child) does not end the push", async () => {
    const hold = new WriteHold(120);
    await hold.admit(post("app"));
    await hold.admit(manifest("app", "sha256:0123"));
    hold.enter(MaintenancePhase.Draining, 60, 3);
    expect(hold.state().pushesUnderWay).toBe(1);
});
