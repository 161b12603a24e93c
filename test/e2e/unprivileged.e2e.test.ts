/**
 * The README's commands as a user without root, in the docker group, on a host that already has
 * the packages, the toolchain binaries and the images: the set-up, the unit tests, and one
 * `up`/`down` of a stack (which finds its images in place). Run as root, the suite creates that
 * user and gives it a copy of the checkout; run as anyone else, it runs the commands as itself.
 */
import * as fs from "fs";
import * as path from "path";
import { curl, exec, imageTagSettings, ok, projectDir, standInImages } from "./harness";

const asRoot = process.getuid?.() === 0;
const user = asRoot ? "authreg-e2e" : ok("id", ["-un"]).trim();
const home = asRoot ? `/home/${user}` : fs.mkdtempSync("/tmp/authreg-unprivileged-");
const checkout = path.join(home, "checkout");
const stack = "e2e-unprivileged";
const port = 18043;
/** The toolchain the scripts built, which this user finds on its PATH as a user-installed pulumi would be. */
const toolchainBin = process.env.AUTHREG_TOOLCHAIN_BIN!;
const userToolchain = path.join(home, "toolchain-bin");
/**
 * The stand-in images under names of this suite's own, which `down --purge` removes: the
 * stand-ins themselves stay for the suites running beside this one.
 */
const images = {
    nginx: `authreg-e2e-unprivileged/nginx:${stack}`,
    registry: `authreg-e2e-unprivileged/registry:${stack}`,
    node: `authreg-e2e-unprivileged/node:${stack}`,
};

/** Runs a bash command line in the checkout as the unprivileged user, with a clean environment. */
function asUser(commandLine: string) {
    const env = [
        `HOME=${home}`,
        `PATH=${userToolchain}:/usr/local/go/bin:/usr/local/bin:/usr/bin:/bin`,
        "LANG=C.UTF-8",
        ...imageTagSettings,
    ];
    const script = `cd ${checkout} && ${commandLine}`;
    return asRoot
        ? exec("runuser", ["-u", user, "--", "env", "-i", ...env, "bash", "-c", script])
        : exec("env", ["-i", ...env, "bash", "-c", script]);
}

beforeAll(() => {
    expect(toolchainBin).toBeTruthy();
    if (asRoot) {
        if (exec("id", [user]).status !== 0) {
            ok("useradd", ["--create-home", "--groups", "docker", "--shell", "/bin/bash", user]);
        }
    }
    fs.rmSync(checkout, { recursive: true, force: true });
    fs.mkdirSync(checkout, { recursive: true });
    // The checkout as committed and edited, with its history (a unit test reads what is committed),
    // node_modules as installed (timestamps kept, so the set-up sees it up to date), and the
    // toolchain's binaries.
    ok("sh", ["-c", `git ls-files -z | xargs -0 cp --parents --target-directory=${checkout}`], { cwd: projectDir });
    ok("cp", ["-a", path.join(projectDir, ".git"), checkout]);
    ok("cp", ["-a", path.join(projectDir, "node_modules"), checkout]);
    ok("cp", ["-a", "-T", toolchainBin, userToolchain]);
    ok("docker", ["tag", standInImages.nginx, images.nginx]);
    ok("docker", ["tag", standInImages.registry, images.registry]);
    ok("docker", ["tag", standInImages.node, images.node]);
    fs.writeFileSync(
        path.join(checkout, `Pulumi.${stack}.yaml`),
        [
            "config:",
            "  authenticated-registry:domain: localhost",
            `  authenticated-registry:port: "${port}"`,
            "  authenticated-registry:container:",
            "    bindAddress: 127.0.0.1",
            "  authenticated-registry:users:",
            "    - username: developer",
            "  authenticated-registry:tls:",
            "    ipAddresses: [127.0.0.1]",
            `  authenticated-registry:nginxImage: ${images.nginx}`,
            `  authenticated-registry:registryImage: ${images.registry}`,
            `  authenticated-registry:guardImage: ${images.node}`,
            "",
        ].join("\n"),
    );
    if (asRoot) {
        ok("chown", ["-R", `${user}:${user}`, home]);
    }
});

afterAll(() => {
    asUser(`source scripts/stack-env.sh ${stack} && pulumi destroy --yes --stack ${stack}; pulumi stack rm --yes --force --stack ${stack}`);
    exec("docker", ["volume", "rm", "--force", `registry-${stack}-data`]);
    exec("docker", ["rmi", ...Object.values(images)]);
    if (asRoot) {
        exec("userdel", ["--remove", user]);
    } else {
        fs.rmSync(home, { recursive: true, force: true });
    }
});

test("the user is not root and reaches the engine through the docker group", () => {
    expect(asUser("id -u").stdout.trim()).not.toBe("0");
    expect(asUser("id -Gn").stdout.split(/\s+/)).toContain("docker");
    expect(asUser("docker version --format '{{.Server.Version}}'").status).toBe(0);
});

test("the set-up finds everything in place and needs no root", () => {
    const setup = asUser("./scripts/setup.sh");
    expect({ status: setup.status, output: setup.status === 0 ? "" : setup.stdout + setup.stderr }).toEqual({ status: 0, output: "" });
    expect(setup.stderr).toContain("docker engine already answers");
});

test("the unit tests pass", () => {
    const unit = asUser("npm test 2>&1");
    expect({ status: unit.status, tail: unit.status === 0 ? "" : unit.stdout.slice(-4000) }).toEqual({ status: 0, tail: "" });
    expect(unit.stdout).toMatch(/Tests:\s+\d+ passed, \d+ total/);
});

test("up serves the registry and down --purge removes all it left, as this user", () => {
    const up = asUser(`./scripts/up.sh ${stack}`);
    expect({ status: up.status, output: up.status === 0 ? "" : (up.stdout + up.stderr).slice(-4000) }).toEqual({ status: 0, output: "" });
    expect(up.stdout).toContain(`The registry is up at https://localhost:${port} (users: developer).`);
    // The images the stack runs were in place: up built none.
    expect(up.stderr).not.toMatch(/==> (Building|Image) /);
    const password = JSON.parse(
        asUser(`source scripts/stack-env.sh ${stack} >/dev/null 2>&1 && pulumi stack output passwords --show-secrets --json`).stdout,
    ).developer;
    const caFile = path.join(home, "ca.crt");
    fs.writeFileSync(caFile, asUser(`source scripts/stack-env.sh ${stack} >/dev/null 2>&1 && pulumi stack output caCertificatePem`).stdout);
    expect(curl(`https://localhost:${port}/v2/`, caFile, ["--user", `developer:${password}`]).status).toBe(200);
    // The passphrase the scripts generated belongs to the user, readable by nobody else.
    const passphrase = path.join(home, ".config", "authenticated-registry", `${stack}.passphrase`);
    expect((fs.statSync(passphrase).mode & 0o777).toString(8)).toBe("600");

    const down = asUser(`./scripts/down.sh --purge ${stack}`);
    expect({ status: down.status, output: down.status === 0 ? "" : down.stdout + down.stderr }).toEqual({ status: 0, output: "" });
    // It says what it removes before it removes it, then removes exactly that.
    const said = down.stderr;
    expect(said.indexOf("--purge of stack e2e-unprivileged removes:")).toBeLessThan(said.indexOf("removed volume"));
    expect(said).toContain(`the data volume registry-${stack}-data, with every image pushed to it`);
    expect(said).toContain(`the passphrase file ${passphrase}`);
    for (const image of [images.nginx, images.registry]) {
        expect(said).toMatch(
            new RegExp(
                `image ${image.replace(/[.]/g, "\\.")}: kept, a container still uses it|removed image ${image.replace(/[.]/g, "\\.")}`,
            ),
        );
    }
    expect(exec("docker", ["container", "inspect", `registry-${stack}-nginx`]).status).not.toBe(0);
    expect(exec("docker", ["volume", "inspect", `registry-${stack}-data`]).status).not.toBe(0);
    expect(fs.existsSync(passphrase)).toBe(false);
    expect(asUser("source scripts/env.sh && pulumi stack ls --json").stdout).not.toContain(stack);
    // Only this suite's names went: the stand-ins every other stack here runs are in place.
    for (const image of [standInImages.nginx, standInImages.registry, standInImages.node]) {
        expect(exec("docker", ["image", "inspect", "--format", "{{.Id}}", image]).status).toBe(0);
    }
});

test("--trust-ca, which writes under /etc, stops before doing anything and prints the command", () => {
    const trust = asUser(`./scripts/up.sh --trust-ca ${stack}`);
    expect(trust.status).not.toBe(0);
    expect(trust.stderr).toContain("--trust-ca (it writes /etc/docker/certs.d) needs root; run this, then rerun:");
    expect(trust.stderr).toContain(`sudo ./scripts/up.sh --trust-ca ${stack}`);
    expect(exec("docker", ["container", "inspect", `registry-${stack}-nginx`]).status).not.toBe(0);
});
