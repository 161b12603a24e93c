/**
 * The set-up, `up` and `down --purge` with HOME pointing to an empty directory that is not the
 * account's home in its passwd entry, as in a CI container or under `sudo -E`: the scripts must
 * put the stack's state, the engine's plugins and the passphrase under that HOME, and write
 * nothing into the passwd entry's home (where the pulumi CLI would look by itself).
 * It works on a copy of the project, so the checkout's stack files are never touched.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { curl, exec, imageTagSettings, loopbackStackConfig, ok, projectDir, scriptSettings, standInImages } from "./harness";

const port = 27043;
const stack = `e2e-home-${crypto.randomBytes(3).toString("hex")}`;
const home = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-home-"));
const checkout = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-home-checkout-"));
const passwdHome = os.userInfo().homedir;
/**
 * The stack's images under tags of its own, so that `down --purge`, which removes the images a
 * stack used, removes only these tags and never the stand-in images other stacks run.
 */
const images = {
    nginx: `authreg-e2e-home/nginx:${stack}`,
    registry: `authreg-e2e-home/registry:${stack}`,
    node: `authreg-e2e-home/node:${stack}`,
};
let started: number;
const goCaches = ok("go", ["env", "GOCACHE", "GOMODCACHE"]).trim().split("\n");

/** Runs a bash command line in the copy with a clean environment whose HOME is the empty directory. */
function inHome(commandLine: string) {
    const toolchainBin = process.env.AUTHREG_TOOLCHAIN_BIN;
    const searchPath = (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin")
        .split(":")
        .filter((dir) => dir !== toolchainBin)
        .join(":");
    const env = [
        `HOME=${home}`,
        `PATH=${searchPath}`,
        "LANG=C.UTF-8",
        // The cache is this machine's, shared so that nothing is rebuilt: the toolchain's binaries,
        // Node.js and the images are reused as they are. The plugins are not in it: the scripts
        // register them under this HOME themselves, which is what is tested.
        `AUTHREG_CACHE_DIR=${scriptSettings.AUTHREG_CACHE_DIR}`,
        // Go's caches too, for the same reason, should a binary be out of date after all.
        `GOCACHE=${goCaches[0]}`,
        `GOMODCACHE=${goCaches[1]}`,
        ...imageTagSettings,
        ...(process.env.DOCKER_HOST ? [`DOCKER_HOST=${process.env.DOCKER_HOST}`] : []),
    ];
    return exec("env", ["-i", ...env, "bash", "-c", `cd ${checkout} && ${commandLine}`]);
}

/** Every file under `dir` (none if it does not exist), with its path relative to `dir`. */
function filesUnder(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((file) => fs.lstatSync(path.join(dir, file)).isFile());
}

/** The files under `dir` whose path or (small) content names this test's stack, HOME or copy. */
function mentionsOfThisRun(dir: string): string[] {
    const needles = [stack, home, checkout];
    return filesUnder(dir).filter((file) => {
        const full = path.join(dir, file);
        if (needles.some((needle) => full.includes(needle))) return true;
        return fs.statSync(full).size < 1024 * 1024 && needles.some((needle) => fs.readFileSync(full, "utf8").includes(needle));
    });
}

const stateDir = path.join(home, ".local", "state", "authenticated-registry");
const stateFile = () => filesUnder(stateDir).find((file) => path.basename(file) === `${stack}.json`);
const passphrase = path.join(home, ".config", "authenticated-registry", `${stack}.passphrase`);
const caCopy = path.join(scriptSettings.AUTHREG_CACHE_DIR, `${stack}-ca.crt`);

beforeAll(() => {
    expect(passwdHome).not.toBe(home);
    // The copy's node_modules is the project's (a link): the set-up must find it up to date and
    // leave it alone, which it does when package-lock.json is not newer than what npm ci recorded.
    const lock = fs.statSync(path.join(projectDir, "package-lock.json")).mtimeMs;
    const installed = fs.statSync(path.join(projectDir, "node_modules", ".package-lock.json")).mtimeMs;
    if (lock > installed) throw new Error("node_modules is older than package-lock.json: run npm ci first");
    // What is committed, as it stands in the working tree, with its times (the set-up compares them).
    for (const file of ok("git", ["ls-files", "--cached", "-z"]).split("\0").filter(Boolean)) {
        const from = path.join(projectDir, file);
        if (!fs.existsSync(from)) continue;
        const to = path.join(checkout, file);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(from, to);
        const { atime, mtime } = fs.statSync(from);
        fs.utimesSync(to, atime, mtime);
    }
    fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(checkout, "node_modules"));
    ok("docker", ["tag", standInImages.nginx, images.nginx]);
    ok("docker", ["tag", standInImages.registry, images.registry]);
    ok("docker", ["tag", standInImages.node, images.node]);
    fs.writeFileSync(
        path.join(checkout, `Pulumi.${stack}.yaml`),
        loopbackStackConfig(port, "developer", { nginxImage: images.nginx, registryImage: images.registry, guardImage: images.node }),
    );
    started = Date.now();
});

afterAll(() => {
    // Whatever a failed test left: the stack (as down --purge removes it), then this run's files.
    if (stateFile()) inHome(`./scripts/down.sh --purge ${stack}`);
    const containers = ok("docker", ["ps", "--all", "--quiet", "--filter", `label=authenticated-registry.instance=registry-${stack}`]);
    for (const id of containers.split("\n").filter(Boolean)) exec("docker", ["rm", "--force", id]);
    exec("docker", ["volume", "rm", "--force", `registry-${stack}-data`]);
    exec("docker", ["rmi", ...Object.values(images)]);
    fs.rmSync(caCopy, { force: true });
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(checkout, { recursive: true, force: true });
});

test("up, from a HOME that is an empty directory, serves the registry", () => {
    expect(fs.readdirSync(home)).toEqual([]);
    const up = inHome(`./scripts/up.sh ${stack}`);
    expect({ status: up.status, output: up.status === 0 ? "" : (up.stdout + up.stderr).slice(-4000) }).toEqual({ status: 0, output: "" });
    expect(up.stdout).toContain(`The registry is up at https://localhost:${port} (users: developer).`);
    // The machine's cache served the toolchain and the images: nothing was built for this HOME.
    expect(up.stderr).not.toMatch(/==> (Building|Image) /);

    const output = (name: string) => {
        const result = inHome(`source scripts/stack-env.sh ${stack} >/dev/null 2>&1 && pulumi stack output ${name} --show-secrets --json`);
        expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
        return JSON.parse(result.stdout);
    };
    const password = output("passwords").developer;
    const caFile = path.join(checkout, "ca.crt");
    fs.writeFileSync(caFile, output("caCertificatePem"));
    expect(curl(`https://localhost:${port}/v2/`, caFile).status).toBe(401);
    expect(curl(`https://localhost:${port}/v2/`, caFile, ["--user", `developer:${password}`]).status).toBe(200);
});

test("state, plugins and passphrase are under that HOME, and nothing is in the passwd entry's home", () => {
    expect(stateFile()).toBeDefined();
    for (const [name, version] of [
        ["docker", scriptSettings.PULUMI_DOCKER_VERSION],
        ["tls", scriptSettings.PULUMI_TLS_VERSION],
        ["random", scriptSettings.PULUMI_RANDOM_VERSION],
    ]) {
        expect(fs.existsSync(path.join(home, ".pulumi", "plugins", `resource-${name}-v${version}`, `pulumi-resource-${name}`))).toBe(true);
    }
    expect((fs.statSync(passphrase).mode & 0o777).toString(8)).toBe("600");

    // Neither state, a selected stack (Pulumi's workspace files) nor a plugin of this run landed there.
    expect(mentionsOfThisRun(path.join(passwdHome, ".pulumi"))).toEqual([]);
    expect(mentionsOfThisRun(path.join(passwdHome, ".local", "state"))).toEqual([]);
    const plugins = path.join(passwdHome, ".pulumi", "plugins");
    const written = filesUnder(plugins).filter((file) => fs.statSync(path.join(plugins, file)).mtimeMs >= started);
    expect(written).toEqual([]);
});

test("down --purge removes the stack, its state, passphrase and image tags, from that HOME", () => {
    const down = inHome(`./scripts/down.sh --purge ${stack}`);
    expect({ status: down.status, output: down.status === 0 ? "" : down.stdout + down.stderr }).toEqual({ status: 0, output: "" });
    expect(exec("docker", ["container", "inspect", `registry-${stack}-nginx`]).status).not.toBe(0);
    expect(exec("docker", ["volume", "inspect", `registry-${stack}-data`]).status).not.toBe(0);
    expect(stateFile()).toBeUndefined();
    expect(fs.existsSync(passphrase)).toBe(false);
    expect(fs.existsSync(caCopy)).toBe(false);
    for (const image of Object.values(images)) {
        expect(exec("docker", ["image", "inspect", image]).status).not.toBe(0);
    }
    // The stand-in images themselves, which other stacks run, are still there.
    for (const image of [standInImages.nginx, standInImages.registry, standInImages.node]) {
        expect(exec("docker", ["image", "inspect", image]).status).toBe(0);
    }
    expect(mentionsOfThisRun(path.join(passwdHome, ".pulumi"))).toEqual([]);
});
