/**
 * Faults on the real engine, each with a bound: processes killed with SIGKILL, the registry
 * stopped, the registry back on another address while a stranger holds its old one, an impostor
 * answering to its name, and the Docker engine restarted. The tests share one throwaway stack and
 * run in order; every wait is bounded and every loop counted.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
    exec,
    HttpAnswer,
    loopbackStackConfig,
    ok,
    projectDir,
    pushImageByApi,
    sleep,
    Stack,
    standInImages,
    tryCurl,
    waitUntil,
} from "./harness";

const port = 16043;
const user = "faults";
const base = `https://localhost:${port}`;
const repository = "faults/payload";

const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const strangers: string[] = [];
let auth: string[];
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed `stack output --json`, read at any depth
let outputs: Record<string, any>;
let manifestDigest: string;

/** The authenticated manifest request every fault is judged by. */
function fetchManifest(): HttpAnswer | { error: string } {
    return tryCurl(`${base}/v2/${repository}/manifests/1`, caFile, [
        ...auth,
        "--header",
        "Accept: application/vnd.oci.image.manifest.v1+json",
    ]);
}

function served(): { done: boolean; seen: unknown } {
    const answer = fetchManifest();
    const done = "status" in answer && answer.status === 200 && answer.headers["docker-content-digest"]?.[0] === manifestDigest;
    return { done, seen: "status" in answer ? { status: answer.status, body: answer.body.slice(0, 200) } : answer };
}

function containerPid(name: string): number {
    return Number(ok("docker", ["inspect", "--format", "{{.State.Pid}}", name]).trim());
}

function addressOn(container: string, network: string): string {
    return ok("docker", ["inspect", "--format", `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]).trim();
}

/**
 * Starts an nginx from the stand-in image on the stack's network that answers every request on
 * the registry's port and records each one, with its Authorization header, in a log `recorded`
 * reads back. `alias` makes it answer to a name on the network as well.
 */
function startRecorder(name: string, alias?: string): void {
    const config = [
        "log_format recorder '$request_method $request_uri authorization=[$http_authorization]';",
        "server {",
        "  listen 5000;",
        "  access_log /var/log/recorder.log recorder;",
        "  location / { return 200 'stranger\\n'; }",
        "}",
    ].join("\n");
    const aliasArgs = alias === undefined ? [] : ["--network-alias", alias];
    ok("docker", [
        "run",
        "--detach",
        "--name",
        name,
        "--network",
        outputs.networkName,
        ...aliasArgs,
        // The config arrives through the environment rather than through the command's quoting.
        "--env",
        `RECORDER_CONFIG=${config}`,
        standInImages.nginx,
        "sh",
        "-c",
        `printf '%s\\n' "$RECORDER_CONFIG" > /etc/nginx/conf.d/recorder.conf && touch /var/log/recorder.log && exec nginx -g 'daemon off;'`,
    ]);
    strangers.push(name);
}

/** The requests a recorder has received, one line each. */
function recorded(name: string): string[] {
    return ok("docker", ["exec", name, "cat", "/var/log/recorder.log"]).split("\n").filter(Boolean);
}

beforeAll(() => {
    expect(ok("pulumi", ["version"]).trim()).toBe("v3.248.0");
    stack.init(loopbackStackConfig(port, user));
    stack.up();
    outputs = stack.outputs();
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    auth = ["--user", `${user}:${outputs.passwords[user]}`];
    manifestDigest = pushImageByApi(base, caFile, auth, repository, "1", crypto.randomBytes(256 * 1024));
    expect(served().done).toBe(true);
});

afterAll(() => {
    for (const name of strangers) {
        exec("docker", ["rm", "--force", name]);
    }
    stack.removeAll();
});

test("the registry process killed with SIGKILL: served again within 15 s", () => {
    const before = containerPid(outputs.registryContainerName);
    process.kill(before, "SIGKILL");
    waitUntil("the registry container restarted", 15_000, () => {
        const pid = containerPid(outputs.registryContainerName);
        return { done: pid !== 0 && pid !== before, seen: pid };
    });
    const took = waitUntil("served after the registry was killed", 15_000, served);
    console.log(`registry SIGKILL: served again after ${took} ms`);
});

test("the nginx process killed with SIGKILL: served again within 15 s", () => {
    const before = containerPid(outputs.proxyContainerName);
    process.kill(before, "SIGKILL");
    const took = waitUntil("served after nginx was killed", 15_000, served);
    expect(containerPid(outputs.proxyContainerName)).not.toBe(before);
    console.log(`nginx SIGKILL: served again after ${took} ms`);
});

test("registry stopped: 503 in the registry's error format with the API header and Retry-After; 200 within 10 s of its start", () => {
    ok("docker", ["stop", "--time", "5", outputs.registryContainerName]);
    let answer = fetchManifest();
    waitUntil("503 while the registry is stopped", 10_000, () => {
        answer = fetchManifest();
        return { done: "status" in answer && answer.status === 503, seen: answer };
    });
    // Every request while it is down gets that answer, none waits for the address it left.
    for (let i = 0; i < 5; i++) {
        const again = fetchManifest();
        expect("status" in again ? again.status : again).toBe(503);
    }
    answer = answer as HttpAnswer;
    expect(answer.status).toBe(503);
    expect(answer.headers["content-type"]).toEqual(["application/json"]);
    expect(answer.headers["docker-distribution-api-version"]).toEqual(["registry/2.0"]);
    expect(answer.headers["retry-after"]).toEqual(["5"]);
    expect(JSON.parse(answer.body)).toEqual({
        errors: [{ code: "UNAVAILABLE", message: "service unavailable", detail: expect.any(String) }],
    });
    // Authentication still comes first: an anonymous client learns nothing about the backend.
    const anonymous = tryCurl(`${base}/v2/`, caFile) as HttpAnswer;
    expect(anonymous.status).toBe(401);

    ok("docker", ["start", outputs.registryContainerName]);
    const took = waitUntil("served after the registry started again", 10_000, served);
    console.log(`registry stopped and started: served ${took} ms after its start`);
});

test("an impostor answering to the registry's name receives no credentials, and the registry's log holds none", () => {
    ok("docker", ["stop", "--time", "5", outputs.registryContainerName]);
    const impostor = `${outputs.registryContainerName}-impostor`;
    startRecorder(impostor, "registry");
    // nginx asks Docker's DNS again within 2 s; from then on requests reach the impostor.
    waitUntil("requests reach the impostor", 10_000, () => {
        fetchManifest();
        const lines = recorded(impostor);
        return { done: lines.length >= 3, seen: lines };
    });
    const lines = recorded(impostor);
    expect(lines.every((line) => line.startsWith(`GET /v2/${repository}/manifests/1 `))).toBe(true);
    expect(lines.map((line) => line.slice(line.indexOf("authorization=")))).toEqual(Array(lines.length).fill("authorization=[-]"));
    ok("docker", ["rm", "--force", impostor]);
    ok("docker", ["start", outputs.registryContainerName]);
    waitUntil("served after the impostor left", 10_000, served);

    const password = outputs.passwords[user] as string;
    const basic = Buffer.from(`${user}:${password}`).toString("base64");
    const registryLog =
        ok("docker", ["logs", outputs.registryContainerName]) + exec("docker", ["logs", outputs.registryContainerName]).stderr;
    expect(registryLog).toContain(`/v2/${repository}/manifests/1`);
    expect(registryLog).not.toContain(password);
    expect(registryLog).not.toContain(basic);
    expect(registryLog).not.toMatch(/authorization/i);
});

test("the registry back on a new address while a stranger holds its old one: followed within 10 s, nothing more reaches the stranger", () => {
    const network = outputs.networkName as string;
    const oldAddress = addressOn(outputs.registryContainerName, network);
    ok("docker", ["stop", "--time", "5", outputs.registryContainerName]);
    const stranger = `${outputs.registryContainerName}-stranger`;
    startRecorder(stranger);
    expect(addressOn(stranger, network)).toBe(oldAddress);
    // Requests while the registry is away; any that reach the stranger carry no credentials.
    for (let i = 0; i < 8; i++) {
        fetchManifest();
        sleep(250);
    }
    ok("docker", ["start", outputs.registryContainerName]);
    expect(addressOn(outputs.registryContainerName, network)).not.toBe(oldAddress);
    const took = waitUntil("served from the registry's new address", 10_000, served);
    console.log(`registry on a new address: followed after ${took} ms`);

    const seenBefore = recorded(stranger).length;
    for (let i = 0; i < 20; i++) {
        expect(served()).toEqual({ done: true, seen: expect.anything() });
    }
    sleep(3_000);
    for (let i = 0; i < 5; i++) {
        expect(served().done).toBe(true);
    }
    const seen = recorded(stranger);
    expect(seen.length).toBe(seenBefore);
    expect(seen.filter((line) => !line.endsWith("authorization=[-]"))).toEqual([]);
});

/** True when the running engine is the dockerd that scripts/docker-engine.sh started and recorded. */
function engineStartedByScripts(): boolean {
    const cacheDir = process.env.AUTHREG_CACHE_DIR ?? path.join(process.env.HOME ?? "/root", ".cache", "authenticated-registry");
    const recordedPid = fs.existsSync(path.join(cacheDir, "dockerd.pid"))
        ? fs.readFileSync(path.join(cacheDir, "dockerd.pid"), "utf8").trim()
        : "";
    return (
        recordedPid !== "" &&
        fs.existsSync(`/proc/${recordedPid}`) &&
        fs.readFileSync(`/proc/${recordedPid}/comm`, "utf8").trim() === "dockerd"
    );
}

// Restarting someone else's engine (a workstation's systemd docker, say) would stop every other
// container on it, so this runs only against the engine the scripts started.
(engineStartedByScripts() ? test : test.skip)("the Docker engine restarted: both containers come back and the image is intact", () => {
    const proxyBefore = ok("docker", ["inspect", "--format", "{{.Id}}", outputs.proxyContainerName]).trim();
    const restart = exec(path.join(projectDir, "scripts", "docker-engine.sh"), ["--restart"]);
    expect({ status: restart.status, stderr: restart.status === 0 ? "" : restart.stderr }).toEqual({ status: 0, stderr: "" });
    const took = waitUntil("served after the engine restarted", 60_000, served, 500);
    console.log(`engine restart: served again ${took} ms after the engine answered`);
    for (const container of [outputs.proxyContainerName, outputs.registryContainerName]) {
        expect(ok("docker", ["inspect", "--format", "{{.State.Running}}", container]).trim()).toBe("true");
    }
    expect(ok("docker", ["inspect", "--format", "{{.Id}}", outputs.proxyContainerName]).trim()).toBe(proxyBefore);
    const manifest = JSON.parse((fetchManifest() as HttpAnswer).body);
    const layer = manifest.layers[0].digest as string;
    const readBack = ok("sh", [
        "-c",
        `curl --silent --fail --cacert ${caFile} --user '${auth[1]}' ${base}/v2/${repository}/blobs/${layer} | sha256sum`,
    ]);
    expect(`sha256:${readBack.split(" ")[0]}`).toBe(layer);
});
