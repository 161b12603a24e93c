/**
 * Object storage on a real S3-compatible server: MinIO (built from its Go module) in a container
 * on a network the test creates, the registry joining it. Push and pull with the docker client,
 * the layers in the bucket and no data volume, a garbage collection, and a restart of the storage
 * server during a loop of pulls, which retry and succeed once it is back.
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
    s3Request,
    sleep,
    Stack,
    standInImages,
} from "./harness";

const port = 24043;
const minioPort = 24900;
const host = `localhost:${port}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
const client = new DockerClient();
const suffix = crypto.randomBytes(3).toString("hex");
const network = `authreg-s3-${suffix}`;
const minio = `authreg-minio-${suffix}`;
const accessKey = "registry";
const secretKey = crypto.randomBytes(18).toString("hex");
const bucket = "registry-images";
const ids: Record<string, string> = {};

/** A request to MinIO from the host. */
function s3(method: string, urlPath: string): { status: number; body: string } {
    return s3Request(`http://127.0.0.1:${minioPort}`, accessKey, secretKey, method, urlPath);
}

function tagged(tag: string): string {
    return `${host}/s3/app:${tag}`;
}

/** rmi, then pull with up to `attempts` tries a second apart; returns the tries it took. */
function pullWithRetries(tag: string, attempts: number): number {
    client.run(["rmi", tagged(tag)]);
    for (let attempt = 1; attempt <= attempts; attempt++) {
        if (client.run(["pull", tagged(tag)]).status === 0) {
            expect(client.ok(["image", "inspect", "--format", "{{.Id}}", tagged(tag)]).trim()).toBe(ids[tag]);
            return attempt;
        }
        sleep(1000);
    }
    throw new Error(`pull of ${tagged(tag)} did not succeed in ${attempts} tries`);
}

beforeAll(() => {
    ok("docker", ["network", "create", network]);
    ok("docker", [
        "run",
        "--detach",
        "--name",
        minio,
        "--network",
        network,
        "--network-alias",
        "minio",
        "--publish",
        `127.0.0.1:${minioPort}:9000`,
        "--env",
        `MINIO_ROOT_USER=${accessKey}`,
        "--env",
        `MINIO_ROOT_PASSWORD=${secretKey}`,
        standInImages.minio,
    ]);
    for (let i = 0; i < 60 && s3("PUT", `/${bucket}`).status !== 200; i++) sleep(500);
    expect(s3("GET", `/${bucket}?list-type=2`).status).toBe(200);

    stack.init(
        loopbackStackConfig(
            port,
            ["    - username: ci", "      access:", "        - repositories: ['**']", "          actions: [pull, push, delete]"],
            {
                extra: [
                    "  authenticated-registry:storage:",
                    "    kind: s3",
                    `    bucket: ${bucket}`,
                    "    endpoint: http://minio:9000",
                    `    accessKey: ${accessKey}`,
                    `    secretKey: ${secretKey}`,
                    `    network: ${network}`,
                ],
            },
        ),
    );
    stack.up();
    const outputs = stack.outputs();
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    trust.trustFile(caFile);
    expect(client.login(host, "ci", outputs.passwords.ci).stdout).toContain("Login Succeeded");
});

afterAll(() => {
    stack.removeAll();
    exec("docker", ["rm", "--force", minio]);
    exec("docker", ["network", "rm", network]);
    trust.remove();
});

test("push and pull through the proxy keep the layers in the bucket, and no data volume exists", () => {
    for (const tag of ["a", "b"]) {
        ids[tag] = client.buildRandomImage(tagged(tag));
        client.ok(["push", tagged(tag)]);
    }
    expect(pullWithRetries("a", 1)).toBe(1);
    const listing = s3("GET", `/${bucket}?list-type=2&prefix=${encodeURIComponent("docker/registry/v2/repositories/s3/app/")}`);
    expect(listing.status).toBe(200);
    expect(listing.body).toContain("docker/registry/v2/repositories/s3/app/_manifests/tags/a/current/link");
    expect(stack.outputs().volumeName).toBeUndefined();
    expect(exec("docker", ["volume", "inspect", `registry-${stack.name}-data`]).status).not.toBe(0);
    // The secret key is in no container label or preview, only in the (secret) environment.
    expect(stack.preview(["--expect-no-changes"]).stdout).not.toContain(secretKey);
});

test("garbage collection runs against the bucket and keeps what is tagged", () => {
    const digest = curl(`https://${host}/v2/s3/app/manifests/a`, caFile, [
        "--user",
        `ci:${stack.outputs().passwords.ci}`,
        "--head",
        "--header",
        "Accept: application/vnd.docker.distribution.manifest.v2+json",
    ]).headers["docker-content-digest"][0];
    const blobs = () =>
        s3("GET", `/${bucket}?list-type=2&prefix=${encodeURIComponent("docker/registry/v2/blobs/")}`).body.match(/<Key>/g)?.length ?? 0;
    expect(
        curl(`https://${host}/v2/s3/app/manifests/${digest}`, caFile, [
            "--user",
            `ci:${stack.outputs().passwords.ci}`,
            "--request",
            "DELETE",
        ]).status,
    ).toBe(202);
    const before = blobs();
    const run = exec("bash", ["scripts/gc.sh", "--quiet-seconds", "1", stack.name], { env: stack.env });
    expect({ status: run.status, output: run.status === 0 ? "" : run.stdout + run.stderr }).toEqual({ status: 0, output: "" });
    expect(run.stderr).toContain("every write waits");
    // Image a's layer and config are gone from the bucket; b still pulls.
    expect(blobs()).toBeLessThan(before);
    expect(pullWithRetries("b", 1)).toBe(1);
});

test("a push loop and a pull loop around a collection on the bucket: no push or pull fails, and every pushed image pulls afterwards", async () => {
    expect(await collectionAmidLoops(stack, client, `${host}/s3/loop`, 10, tagged("b"))).toEqual({
        collection: 0,
        pushes: { ok: 10, failed: [] },
        pulls: { any: true, failed: [] },
        lostAfterwards: [],
        straddled: true,
    });
});

test("a restart of the storage server during a loop of pulls: the pulls retry while it is away and all succeed", () => {
    const tries: number[] = [];
    for (let i = 0; i < 6; i++) {
        if (i === 2) {
            // Down for 3 s, then back: started in the background, as the pulls go on.
            ok("docker", ["stop", "--time", "1", minio]);
            spawn("sh", ["-c", `sleep 3 && docker start ${minio}`], { stdio: "ignore", detached: false });
        }
        tries.push(pullWithRetries("b", 30));
    }
    // The pull during the outage needed more than one try; every other pull, one.
    expect(tries[2]).toBeGreaterThan(1);
    expect(tries.filter((_, i) => i !== 2)).toEqual([1, 1, 1, 1, 1]);
});
