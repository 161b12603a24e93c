/**
 * Garbage collection on a live registry with scripts/gc.sh, on the real engine with the docker
 * client: the space of a deleted image's own layers comes back, an image sharing its layers still
 * pulls, pushes and pulls in loops around a collection all succeed (writes wait, never fail, and
 * no push straddles it), and an image pushed again afterwards pulls (the stale blob cache of
 * twuni/docker-registry.helm#104). On registry 3 and the legacy 2.8.
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
    collectionAmidLoops,
    curl,
    DockerClient,
    DockerTrust,
    exec,
    loopbackStackConfig,
    ok,
    projectDir,
    Stack,
    standInImages,
} from "./harness";

const port = 23043;
const host = `localhost:${port}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
const client = new DockerClient();
const users = ["    - username: ci", "      access:", "        - repositories: ['**']", "          actions: [pull, push, delete]"];
const shared = crypto.randomBytes(1024 * 1024);
const ids: Record<string, string> = {};
let auth: string[];
let registryContainer: string;

/** Makes `gc/app:TAG`: the shared 1 MiB layer, then 2 MiB of its own. */
function build(tag: string): string {
    return client.loadImage(`${host}/gc/app:${tag}`, [{ shared }, { own: crypto.randomBytes(2 * 1024 * 1024) }]);
}

function usedKiB(): number {
    return Number(ok("docker", ["exec", registryContainer, "du", "-sk", "/data/docker/registry/v2"]).split("\t")[0]);
}

function gc(args: string[] = []): { status: number; output: string } {
    const result = exec("bash", ["scripts/gc.sh", ...args, stack.name], { env: stack.env });
    return { status: result.status, output: result.stdout + result.stderr };
}

function repull(tag: string): string {
    client.ok(["rmi", `${host}/gc/app:${tag}`]);
    client.ok(["pull", `${host}/gc/app:${tag}`]);
    return client.ok(["image", "inspect", "--format", "{{.Id}}", `${host}/gc/app:${tag}`]).trim();
}

function startUpload(): number {
    return curl(`https://${host}/v2/gc/other/blobs/uploads/`, caFile, [...auth, "--request", "POST"]).status;
}

beforeAll(() => {
    stack.init(loopbackStackConfig(port, users));
    stack.up();
    const outputs = stack.outputs();
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    trust.trustFile(caFile);
    auth = ["--user", `ci:${outputs.passwords.ci}`];
    registryContainer = outputs.registryContainerName;
    expect(client.login(host, "ci", outputs.passwords.ci).stdout).toContain("Login Succeeded");
    for (const tag of ["a", "b"]) {
        ids[tag] = build(tag);
        client.ok(["push", `${host}/gc/app:${tag}`]);
    }
});

afterAll(() => {
    stack.removeAll();
    trust.remove();
});

test("deleting a tag and collecting frees its own layer, and the image sharing the rest still pulls", () => {
    const digest = curl(`https://${host}/v2/gc/app/manifests/a`, caFile, [
        ...auth,
        "--head",
        "--header",
        "Accept: application/vnd.docker.distribution.manifest.v2+json",
    ]).headers["docker-content-digest"][0];
    expect(curl(`https://${host}/v2/gc/app/manifests/${digest}`, caFile, [...auth, "--request", "DELETE"]).status).toBe(202);
    const before = usedKiB();
    const run = gc();
    expect({ status: run.status, output: run.status === 0 ? "" : run.output }).toEqual({ status: 0, output: "" });
    expect(run.output).toContain("draining: pushes under way finish, new pushes and deletes wait");
    expect(run.output).toContain("every write waits");
    expect(run.output).toContain("writes go on");
    const freed = before - usedKiB();
    // A's own 2 MiB layer (random, so it does not compress) and its config; not the shared 1 MiB.
    expect(freed).toBeGreaterThanOrEqual(2000);
    expect(freed).toBeLessThan(2048 + 1000);
    expect(repull("b")).toBe(ids.b);
    expect(curl(`https://${host}/v2/gc/app/manifests/a`, caFile, auth).status).toBe(404);
});

test("an image pushed again after the collection is stored again and pulls", () => {
    client.ok(["push", `${host}/gc/app:a`]);
    expect(repull("a")).toBe(ids.a);
});

test("while the collection waits for an upload in flight, a new push waits and then goes on; pulls go on", async () => {
    // An upload with a chunk written: the collection waits until it has been quiet for 3 s.
    const started = curl(`https://${host}/v2/gc/other/blobs/uploads/`, caFile, [...auth, "--request", "POST"]);
    expect(started.status).toBe(202);
    const location = new URL(started.headers.location[0], `https://${host}`);
    const chunk = path.join(stack.workDir, "chunk");
    fs.writeFileSync(chunk, crypto.randomBytes(64 * 1024));
    const patched = curl(`https://${host}${location.pathname}${location.search}`, caFile, [
        ...auth,
        "--request",
        "PATCH",
        "--header",
        "Content-Type: application/octet-stream",
        "--data-binary",
        `@${chunk}`,
    ]);
    expect(patched.status).toBe(202);

    const running = spawn("bash", ["scripts/gc.sh", "--quiet-seconds", "3", stack.name], {
        cwd: projectDir,
        env: { ...process.env, ...stack.env },
        stdio: "ignore",
    });
    const finished = new Promise<number>((resolve) => running.on("exit", (code) => resolve(code ?? -1)));
    await new Promise((r) => setTimeout(r, 2000));
    // A new upload from another client waits for the collection instead of failing.
    const newUpload = new Promise<{ status: number; waitedMs: number }>((resolve) => {
        const since = Date.now();
        const child = spawn("curl", [
            "--silent",
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_code}",
            "--cacert",
            caFile,
            ...auth,
            "--request",
            "POST",
            `https://${host}/v2/gc/third/blobs/uploads/`,
        ]);
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.on("exit", () => resolve({ status: Number(out), waitedMs: Date.now() - since }));
    });
    expect(curl(`https://${host}/v2/gc/app/manifests/b`, caFile, [...auth, "--head"]).status).toBe(200);
    expect(await finished).toBe(0);
    const answer = await newUpload;
    expect(answer.status).toBe(202);
    // It was held while the collection drained and ran: at least the 3 s quiet time.
    expect(answer.waitedMs).toBeGreaterThan(3000);
    expect(startUpload()).toBe(202);
});

test("a push loop and a pull loop around a collection: no push or pull fails, and every pushed image pulls afterwards", async () => {
    expect(await collectionAmidLoops(stack, client, `${host}/gc/loop`, 12, `${host}/gc/app:b`)).toEqual({
        collection: 0,
        pushes: { ok: 12, failed: [] },
        pulls: { any: true, failed: [] },
        lostAfterwards: [],
        straddled: true,
    });
});

test("the same collection runs on the legacy registry 2.8, and its images stay", () => {
    fs.writeFileSync(
        stack.configFile,
        `${fs.readFileSync(stack.configFile, "utf8").match(/^encryptionsalt: .*$/m)![0]}\n${loopbackStackConfig(port, users, { registryImage: standInImages.registry2 })}`,
    );
    stack.up();
    registryContainer = stack.outputs().registryContainerName;
    const run = gc(["--delete-untagged"]);
    expect({ status: run.status, output: run.status === 0 ? "" : run.output }).toEqual({ status: 0, output: "" });
    expect(repull("b")).toBe(ids.b);
    expect(repull("a")).toBe(ids.a);
});
