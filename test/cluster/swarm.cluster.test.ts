/**
 * The swarm runtime on a single-node swarm of this machine's engine: the stack program with
 * `runtime: swarm`, two tasks of nginx and of the registry behind the edge (host mode: this
 * kernel has no IPVS for the routing mesh). A pull loop, bounded in count and time, runs in the
 * background while a password, the certificate and the nginx image are rotated and a registry
 * task is killed; not one pull may fail. The tests run in order and share one stack.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { curl, DockerClient, DockerTrust, exec, ok, Stack, standInImages, waitUntil, withoutFailedPulls } from "../e2e/harness";

const port = 25443;
const host = `localhost:${port}`;
const puller = "puller";
const rotated = "rotated";
const rotatedImage = "authenticated-registry/nginx:1.22-bookworm-rotated";

const stack = new Stack();
const docker = new DockerClient();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
const pulledRef = `${host}/team/payload:1`;
let swarmWasInactive = false;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed `stack output --json`, read at any depth
let outputs: Record<string, any>;

/** The stack's services' running tasks, by service name. */
function runningTasks(service: string): string[] {
    return ok("docker", [
        "service",
        "ps",
        service,
        "--no-trunc",
        "--filter",
        "desired-state=running",
        "--format",
        "{{.ID}} {{.CurrentState}}",
    ])
        .trim()
        .split("\n")
        .filter((line) => line.includes("Running"))
        .map((line) => line.split(" ")[0]);
}

/** The ID of the service's spec version: it changes with every update of the service. */
function specVersion(service: string): string {
    return ok("docker", ["service", "inspect", "--format", "{{.Version.Index}}", service]).trim();
}

function stackConfig(): string {
    const node = ok("docker", ["info", "--format", "{{.Name}}"]).trim();
    return [
        "config:",
        "  authenticated-registry:runtime: swarm",
        "  authenticated-registry:domain: localhost",
        `  authenticated-registry:port: ${port}`,
        "  authenticated-registry:users:",
        `    - username: ${puller}`,
        `    - username: ${rotated}`,
        "  authenticated-registry:tls:",
        "    mode: generated",
        "    ipAddresses: [127.0.0.1]",
        `  authenticated-registry:nginxImage: ${standInImages.nginx}`,
        `  authenticated-registry:registryImage: ${standInImages.registry}`,
        `  authenticated-registry:guardImage: ${standInImages.node}`,
        "  authenticated-registry:swarm:",
        "    replicas: {proxy: 2, registry: 2}",
        `    constraints: [node.hostname==${node}]`,
        "    publishMode: host",
        `    edgeImage: ${standInImages.nginx}`,
        "",
    ].join("\n");
}

beforeAll(() => {
    expect(ok("pulumi", ["version"]).trim()).toBe("v3.248.0");
    swarmWasInactive = ok("docker", ["info", "--format", "{{.Swarm.LocalNodeState}}"]).trim() === "inactive";
    if (swarmWasInactive) ok("docker", ["swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:2377"]);
    // A second nginx image, of another ID, to roll the proxy onto.
    const context = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-rotated-"));
    fs.writeFileSync(path.join(context, "Dockerfile"), `FROM ${standInImages.nginx}\nLABEL authenticated-registry.test=rotated\n`);
    ok("docker", ["build", "--quiet", "--tag", rotatedImage, context], { env: { DOCKER_BUILDKIT: "0" } });
    fs.rmSync(context, { recursive: true, force: true });
    stack.init(stackConfig());
});

afterAll(() => {
    stack.run(["destroy", "--yes", "--config-file", stack.configFile]);
    // Swarm removes a service's containers after the service; the volume is free once they are gone.
    waitUntil("the services' containers removed", 60_000, () => {
        const left = exec("docker", [
            "ps",
            "--all",
            "--quiet",
            "--filter",
            `label=authenticated-registry.instance=registry-${stack.name}`,
        ]).stdout.trim();
        return { done: left === "", seen: left };
    });
    stack.removeAll();
    exec("docker", ["rmi", rotatedImage]);
    trust.remove();
    if (swarmWasInactive) exec("docker", ["swarm", "leave", "--force"]);
});

test("up creates two tasks of each role and the edge; a second preview shows no changes", () => {
    stack.up();
    const again = stack.preview(["--expect-no-changes"]);
    expect({ status: again.status, output: again.status === 0 ? "" : again.stdout + again.stderr }).toEqual({ status: 0, output: "" });
    outputs = stack.outputs();
    expect(outputs.url).toBe(`https://${host}`);
    expect(outputs.proxyContainerName).toBeUndefined();
    for (const role of ["nginx", "registry"]) {
        expect(outputs[`${role === "nginx" ? "proxy" : "registry"}ServiceName`]).toBe(`registry-${stack.name}-${role}`);
        expect(runningTasks(`registry-${stack.name}-${role}`)).toHaveLength(2);
    }
    expect(runningTasks(outputs.edgeServiceName)).toHaveLength(1);
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    trust.trustFile(caFile);
});

test("push and pull through the edge, nginx and the registry with the docker client", () => {
    expect(docker.login(host, puller, outputs.passwords[puller]).status).toBe(0);
    const id = docker.buildRandomImage(pulledRef);
    docker.ok(["push", pulledRef]);
    docker.ok(["rmi", "--force", pulledRef]);
    docker.ok(["pull", pulledRef]);
    expect(docker.ok(["image", "inspect", "--format", "{{.Id}}", pulledRef]).trim()).toBe(id);
    // Without credentials, nothing.
    const anonymous = new DockerClient();
    expect(anonymous.run(["pull", pulledRef]).status).not.toBe(0);
});

test("no secret is in a service's definition: the key, the password file and the HTTP secret are Swarm secrets", () => {
    const specs = ok("docker", ["service", "inspect", outputs.proxyServiceName, outputs.registryServiceName]);
    expect(specs).not.toMatch(/REGISTRY_HTTP_SECRET|BEGIN (EC |RSA )?PRIVATE KEY|\$2[aby]\$/);
    for (const password of Object.values(outputs.passwords) as string[]) expect(specs).not.toContain(password);
    const secrets = ok("docker", [
        "secret",
        "ls",
        "--filter",
        `label=authenticated-registry.instance=registry-${stack.name}`,
        "--format",
        "{{.Name}}",
    ]);
    expect(secrets.trim().split("\n").sort()).toEqual(
        [
            expect.stringMatching(new RegExp(`^registry-${stack.name}-nginx-domain\\.key-[0-9a-f]{12}$`)),
            expect.stringMatching(new RegExp(`^registry-${stack.name}-nginx-registry\\.password-[0-9a-f]{12}$`)),
            expect.stringMatching(new RegExp(`^registry-${stack.name}-registry-environment-[0-9a-f]{12}$`)),
        ].sort(),
    );
});

test("a password rotated by pulumi up: nginx rolls, no pull fails, the new password works and the old one does not", async () => {
    const before = specVersion(outputs.proxyServiceName);
    const oldPassword = outputs.passwords[rotated];
    await withoutFailedPulls("password rotation", pulledRef, docker, stack.workDir, () => {
        stack.setConfig("users[1].password", "a rotated password of some length", true);
        stack.up();
    });
    expect(specVersion(outputs.proxyServiceName)).not.toBe(before);
    outputs = stack.outputs();
    const probe = new DockerClient();
    expect(probe.login(host, rotated, "a rotated password of some length").status).toBe(0);
    expect(probe.login(host, rotated, oldPassword).status).not.toBe(0);
});

test("the server certificate replaced by pulumi up: nginx rolls onto it, no pull fails", async () => {
    const served = () => ok("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost"], { input: "" });
    const serialOf = (pem: string) => ok("openssl", ["x509", "-noout", "-serial"], { input: pem }).trim();
    const before = serialOf(served());
    await withoutFailedPulls("certificate rotation", pulledRef, docker, stack.workDir, () => {
        stack.setConfig("tls.validityHours", "8000");
        stack.up();
    });
    expect(serialOf(served())).not.toBe(before);
});

test("a new nginx image rolled by pulumi up, one task at a time, start-first: no pull fails", async () => {
    await withoutFailedPulls("nginx image rotation", pulledRef, docker, stack.workDir, () => {
        stack.setConfig("nginxImage", rotatedImage);
        stack.up();
    });
    const images = ok("docker", ["service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", outputs.proxyServiceName]);
    expect(images.trim()).toMatch(new RegExp(`^${rotatedImage.replace(/[.:/]/g, "\\$&")}`));
    expect(runningTasks(outputs.proxyServiceName)).toHaveLength(2);
});

test("a registry task killed: no pull fails, and Swarm replaces it within 15 s", async () => {
    const service = outputs.registryServiceName;
    const tasksBefore = runningTasks(service);
    const victim = ok("docker", ["ps", "--quiet", "--filter", `label=com.docker.swarm.task.id=${tasksBefore[0]}`]).trim();
    expect(victim).not.toBe("");
    let replacedAfter = 0;
    await withoutFailedPulls("registry task killed", pulledRef, docker, stack.workDir, () => {
        ok("docker", ["kill", "--signal", "KILL", victim]);
        replacedAfter = waitUntil("a new registry task running", 15_000, () => {
            const now = runningTasks(service);
            return { done: now.length === 2 && !now.includes(tasksBefore[0]), seen: now };
        });
    });
    console.log(`registry task killed: replaced after ${replacedAfter} ms`);
});

test("scaled from 2 to 3 registry tasks and back by pulumi up", () => {
    stack.setConfig("swarm.replicas.registry", "3");
    stack.up();
    expect(runningTasks(outputs.registryServiceName)).toHaveLength(3);
    stack.setConfig("swarm.replicas.registry", "2");
    stack.up();
    waitUntil("two registry tasks", 30_000, () => {
        const now = runningTasks(outputs.registryServiceName);
        return { done: now.length === 2, seen: now };
    });
    // Every change kept the pushed image.
    docker.ok(["rmi", "--force", pulledRef]);
    docker.ok(["pull", pulledRef]);
});

/** Runs scripts/gc.sh on the stack; returns its status and output. */
function collect(): { status: number; output: string } {
    const run = exec("bash", ["scripts/gc.sh", "--quiet-seconds", "1", stack.name], { env: stack.env });
    return { status: run.status, output: run.stdout + run.stderr };
}

test("garbage collection of the swarm stack holds writes at the guard's one task and collects in a registry task", () => {
    expect(runningTasks(outputs.guardServiceName)).toHaveLength(1);
    const run = collect();
    expect({ status: run.status, output: run.status === 0 ? "" : run.output }).toEqual({ status: 0, output: "" });
    expect(run.output).toContain("every write waits");
    expect(run.output).toContain("writes go on");
    docker.ok(["rmi", "--force", pulledRef]);
    docker.ok(["pull", pulledRef]);
});

test("switched to token mode by pulumi up: two token service tasks, the image kept, no token for a wrong password", () => {
    stack.setConfig("auth.mode", "token");
    stack.setConfig("auth.tokenServiceImage", standInImages.node);
    stack.up();
    outputs = stack.outputs();
    expect(outputs.tokenServiceName).toBe(`registry-${stack.name}-token`);
    expect(runningTasks(outputs.tokenServiceName)).toHaveLength(2);
    // The image pushed in basic mode is served in token mode.
    const client = new DockerClient();
    expect(client.login(host, puller, outputs.passwords[puller]).status).toBe(0);
    client.ok(["pull", pulledRef]);
    // No token for a wrong password; the registry refuses a request without one.
    const wrongPassword = ["--user", `${puller}:not the password`];
    expect(curl(`https://${host}/token?service=${host}&scope=repository:team/payload:pull`, caFile, wrongPassword).status).toBe(401);
    expect(curl(`https://${host}/v2/`, caFile).status).toBe(401);
    // The token service's two tasks are the guard now: the collection holds writes at both.
    expect(outputs.guardServiceName).toBe(outputs.tokenServiceName);
    const run = collect();
    expect({ status: run.status, output: run.status === 0 ? "" : run.output }).toEqual({ status: 0, output: "" });
    client.ok(["rmi", "--force", pulledRef]);
    client.ok(["pull", pulledRef]);
});
