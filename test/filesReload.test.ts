/**
 * The writer's and the watcher's scripts, run for real with this machine's `sh` and Debian's
 * nginx, outside Docker: a staged directory stands in for the writer's uploads and a plain
 * directory for the volume. What the single-host proxy relies on: the watcher reloads nginx on a
 * new set, the writer returns once nginx has taken it, a set nginx refuses fails the writer and
 * leaves nginx serving the old one, and without a running watcher the writer does not wait.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { filesMarkers, filesWatcherScript, filesWriterScript } from "../components/runtimes/container/roleContainer";
import { proxyReload } from "../components/roles/proxy";
import { run, toolPath } from "./tools";

let work: string;
let staged: string;
let volume: string;
let mainConfig: string;
let stagedConfig: string;
let port: number;
let watcher: ChildProcess | undefined;

function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const { port: p } = server.address() as net.AddressInfo;
            server.close(() => resolve(p));
        });
    });
}

/** A GET of nginx's one location: the body it was configured to answer, or the error. */
function get(): Promise<string> {
    return new Promise((resolve) => {
        http.get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve(body.trim()));
        }).on("error", (err) => resolve(`error: ${err.message}`));
    });
}

async function until(what: string, probe: () => Promise<boolean> | boolean, boundMs = 10_000): Promise<void> {
    const start = Date.now();
    while (!(await probe())) {
        if (Date.now() - start > boundMs) throw new Error(`${what}: not within ${boundMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

/** Stages the files a writer has as uploads: a site answering `body`, and a key readable by its owner only. */
function stage(site: string, withKey = true): string[] {
    fs.writeFileSync(path.join(staged, "site.conf"), site);
    if (withKey) fs.writeFileSync(path.join(staged, "site.key"), "not a real key\n", { mode: 0o600 });
    return withKey ? ["site.conf", "site.key"] : ["site.conf"];
}
const site = (body: string) => `server { listen 127.0.0.1:${port}; location / { return 200 "${body}\\n"; } }\n`;

/** Runs the writer as its container does; returns its status, output and how long it took. */
function write(files: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
    const started = Date.now();
    // Its check reads the staged files, as the writer's nginx reads its uploads where the proxy's reads the volume.
    const check = [toolPath("nginx"), "-c", stagedConfig, "-t", "-q"];
    const script = filesWriterScript({ ...proxyReload, directory: staged, check }, volume);
    const result = spawnSync("/bin/sh", ["-c", script, "files-writer", ...files], { encoding: "utf8" });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started };
}

/** The watcher's children: the loop's shell, and nginx's workers. */
function childrenOf(pid: number): { pid: number; comm: string }[] {
    return fs
        .readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .flatMap((p) => {
            try {
                const [, comm, , ppid] = fs.readFileSync(`/proc/${p}/stat`, "utf8").split(" ");
                return Number(ppid) === pid ? [{ pid: Number(p), comm }] : [];
            } catch {
                return [];
            }
        });
}

beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "files-reload-"));
    staged = path.join(work, "staged");
    volume = path.join(work, "volume");
    fs.mkdirSync(staged);
    fs.mkdirSync(volume);
    fs.chmodSync(work, 0o755);
    port = await freePort();
    mainConfig = path.join(work, "nginx.conf");
    const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${work}/${t};`).join(" ");
    const main = (dir: string) =>
        `pid ${work}/nginx.pid;\nerror_log ${work}/error.log;\nevents {}\nhttp { access_log off; ${temp} include ${dir}/*.conf; }\n`;
    fs.writeFileSync(mainConfig, main(volume));
    stagedConfig = path.join(work, "staged.conf");
    fs.writeFileSync(stagedConfig, main(staged));
});

afterAll(async () => {
    if (watcher?.pid !== undefined) {
        // The loop first (it would outlive nginx outside a container), then nginx, which finishes gracefully.
        for (const child of childrenOf(watcher.pid).filter((c) => c.comm === "(sh)")) process.kill(child.pid, "SIGTERM");
        if (watcher.exitCode === null) {
            const exited = new Promise((resolve) => watcher!.once("exit", resolve));
            process.kill(watcher.pid, "SIGQUIT");
            await exited;
        }
    }
    fs.rmSync(work, { recursive: true, force: true });
});

test("both scripts are POSIX sh that shellcheck finds nothing in", () => {
    for (const script of [filesWriterScript(proxyReload), filesWatcherScript(proxyReload)]) {
        const result = run("shellcheck", ["--shell=sh", "-"], script);
        expect({ status: result.status, out: result.stdout }).toEqual({ status: 0, out: "" });
    }
});

test("with no process running, the writer publishes the set and returns at once, the key kept its owner's", () => {
    const written = write(stage(site("one")));
    expect(written).toMatchObject({ status: 0, stderr: "" });
    expect(written.stdout).toMatch(/^published [0-9a-f]{64} [0-9a-f-]{36}: site\.conf site\.key\n$/);
    expect(written.ms).toBeLessThan(1000);
    expect(fs.readdirSync(volume).sort()).toEqual([filesMarkers.generation, "site.conf", "site.key"].sort());
    expect(fs.statSync(path.join(volume, "site.key")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(volume, "site.conf")).mode & 0o777).toBe(0o644);
    expect(fs.statSync(volume).mode & 0o777).toBe(0o755);
});

test("the watcher starts nginx as its own process, with the files there; nginx keeps the watcher's PID", async () => {
    const nginx = [toolPath("nginx"), "-c", mainConfig];
    const script = filesWatcherScript({
        directory: volume,
        start: [...nginx, "-g", "daemon off;"],
        check: [...nginx, "-t", "-q"],
        reload: [...nginx, "-s", "reload"],
        fileLabels: [],
    });
    watcher = spawn("/bin/sh", ["-c", script, "files-watcher", ...nginx, "-g", "daemon off;"], { stdio: "ignore" });
    await until("nginx answers", async () => (await get()) === "one");
    expect(fs.readFileSync(`/proc/${watcher.pid}/comm`, "utf8").trim()).toBe("nginx");
    await until("the heartbeat", () => fs.existsSync(path.join(volume, filesMarkers.heartbeat)));
    expect(fs.readFileSync(path.join(volume, filesMarkers.applied), "utf8")).toBe(
        fs.readFileSync(path.join(volume, filesMarkers.generation), "utf8"),
    );
});

test("a new set: the writer returns once nginx has reloaded it, and nginx answers from it at once", async () => {
    const workersBefore = childrenOf(watcher!.pid!).filter((c) => c.comm === "(nginx)");
    const written = write(stage(site("two")));
    expect(written).toMatchObject({ status: 0, stderr: "" });
    expect(written.stdout).toContain("taken by the running process");
    expect(written.ms).toBeLessThan(3000);
    expect(await get()).toBe("two");
    // The same master, new workers.
    expect(fs.readFileSync(`/proc/${watcher!.pid}/comm`, "utf8").trim()).toBe("nginx");
    const workersAfter = childrenOf(watcher!.pid!).filter((c) => c.comm === "(nginx)");
    expect(workersAfter.some((w) => !workersBefore.some((b) => b.pid === w.pid))).toBe(true);
});

test("a set nginx would refuse fails the writer with nginx's reason before anything reaches the volume", async () => {
    const before = fs.readFileSync(path.join(volume, filesMarkers.generation), "utf8");
    const written = write(stage("server { no_such_directive; }\n"));
    expect(written.status).toBe(1);
    expect(written.stdout).toBe("");
    expect(written.stderr).toContain('unknown directive "no_such_directive"');
    expect(written.stderr).toContain("refused by the check; nothing was written");
    expect(fs.readFileSync(path.join(volume, filesMarkers.generation), "utf8")).toBe(before);
    expect(fs.readFileSync(path.join(volume, "site.conf"), "utf8")).toBe(site("two"));
    expect(await get()).toBe("two");
});

test("a set the running nginx refuses fails the writer with nginx's reason; nginx goes on with the config it had", async () => {
    // What only the running process sees: here a stray file in its directory.
    fs.writeFileSync(path.join(volume, "stray.conf"), "no_such_directive;\n");
    const written = write(stage(site("three")));
    expect(written.status).toBe(1);
    expect(written.stderr).toContain('unknown directive "no_such_directive" in ' + path.join(volume, "stray.conf"));
    expect(written.stderr).toContain("refused by the running process; it goes on with what it had loaded");
    expect(await get()).toBe("two");
    // Once the cause is gone, the same set written again is taken as any other.
    fs.rmSync(path.join(volume, "stray.conf"));
    expect(write(stage(site("three")))).toMatchObject({ status: 0 });
    expect(await get()).toBe("three");
});

test("a file the new set no longer has is removed once nginx has taken the set", async () => {
    const written = write(stage(site("four"), false));
    expect(written).toMatchObject({ status: 0, stdout: expect.stringContaining("taken by the running process") });
    expect(await get()).toBe("four");
    expect(
        fs
            .readdirSync(volume)
            .filter((f) => !f.startsWith("."))
            .sort(),
    ).toEqual(["site.conf"]);
});

test("a watcher that stopped answering: the writer waits three seconds for its heartbeat, then leaves the set to the next start", () => {
    for (const child of childrenOf(watcher!.pid!).filter((c) => c.comm === "(sh)")) process.kill(child.pid, "SIGTERM");
    const written = write(stage(site("five")));
    expect(written).toMatchObject({ status: 0, stderr: "" });
    expect(written.stdout).toContain("no process is running; it reads the files when it starts");
    expect(written.ms).toBeGreaterThanOrEqual(3000);
    expect(written.ms).toBeLessThan(6000);
});
