/**
 * The swarm runtime on a swarm of three nodes: Docker engines in containers on this host
 * (scripts/swarm-cluster.sh, brought up in beforeAll and removed in afterAll), the manager at
 * 172.31.250.11, two workers at .12 and .13. MinIO runs as a service on the manager, on an
 * attachable overlay network; the stack program (`runtime: swarm`, object storage, so no pin)
 * spreads three registry tasks and two nginx tasks over the nodes, with the edge on every node
 * (host mode: these kernels have no IPVS), and the guard's single task. A pull loop, bounded in
 * count and time, runs while the worker that holds the guard's task (moved off the manager first
 * if Swarm put it there) is drained; not one pull may fail, and every task must be running again
 * on the other nodes. Then a pull through a worker's own address.
 *
 *   npm run test:cluster        (on Node.js 22: PATH=$(scripts/node-lts.sh 22):$PATH npm run test:cluster)
 *
 * Needs root (the trust entries in /etc/docker/certs.d), the stand-in images on this host
 * (scripts/images.sh) and 172.31.250.0/24 free. Slow (minutes): not part of CI's main run.
 * AUTHREG_KEEP_CLUSTER=1 leaves the cluster up afterwards (scripts/swarm-cluster.sh down removes it).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
    DockerClient,
    DockerTrust,
    exec,
    offlinePulumiEnv,
    ok,
    s3Request,
    Stack,
    standInImages,
    waitUntil,
    withoutFailedPulls,
} from "../e2e/harness";

// The docker client commands of this test go to this host's engine; the cluster's, by --host.
if (process.env.DOCKER_HOST?.startsWith("tcp://172.31.250.")) delete process.env.DOCKER_HOST;

const nodeAddresses = ["172.31.250.11", "172.31.250.12", "172.31.250.13"];
const managerAddress = nodeAddresses[0];
const managerEndpoint = `tcp://${managerAddress}:2375`;
const port = 5443;
const minioPort = 29000;
const hostOf = (address: string) => `${address}:${port}`;
const host = hostOf(managerAddress);
const puller = "puller";

const stack = new Stack();
const docker = new DockerClient();
const suffix = crypto.randomBytes(3).toString("hex");
const overlay = `authreg-cluster-s3-${suffix}`;
const minio = `authreg-cluster-minio-${suffix}`;
const accessKey = "registry";
const secretKey = crypto.randomBytes(18).toString("hex");
const bucket = "registry-images";
const caFile = path.join(stack.workDir, "ca.crt");
const trusts = nodeAddresses.map((address) => new DockerTrust(hostOf(address)));
const repository = "cluster/payload:1";
const pulledRef = `${host}/${repository}`;
const instance = `registry-${stack.name}`;
let imageId = "";
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed `stack output --json`, read at any depth
let outputs: Record<string, any>;

/** A docker command against the swarm's manager. */
function cluster(args: string[]): string {
    return ok("docker", ["--host", managerEndpoint, ...args]);
}

interface Task {
    readonly id: string;
    readonly node: string;
    readonly desired: string;
    readonly current: string;
}

/** Every task of a service Swarm still lists, with its node and states. */
function tasks(service: string): Task[] {
    return cluster(["service", "ps", service, "--no-trunc", "--format", "{{.ID}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}"])
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => {
            const [id, node, desired, current] = line.split("\t");
            return { id, node, desired, current };
        });
}

/** The tasks that should run and do (a task with a health check runs once it is healthy). */
function runningTasks(service: string): Task[] {
    return tasks(service).filter((task) => task.desired === "Running" && task.current.startsWith("Running"));
}

/** The manager's node name. */
function managerNode(): string {
    return cluster(["node", "ls", "--filter", "role=manager", "--format", "{{.Hostname}}"]).trim();
}

/** The stack's containers on one node, asked of that node's own engine. */
function containersOn(node: string): string[] {
    const address = cluster(["node", "inspect", "--format", "{{.Status.Addr}}", node]).trim();
    return ok("docker", [
        "--host",
        `tcp://${address}:2375`,
        "ps",
        "--quiet",
        "--filter",
        `label=authenticated-registry.instance=${instance}`,
    ])
        .trim()
        .split("\n")
        .filter(Boolean);
}

/** A request to MinIO from this host. */
function s3(method: string, urlPath: string): { status: number; body: string } {
    return s3Request(`http://${managerAddress}:${minioPort}`, accessKey, secretKey, method, urlPath);
}

function stackConfig(): string {
    return [
        "config:",
        `  docker:host: ${managerEndpoint}`,
        "  authenticated-registry:runtime: swarm",
        "  authenticated-registry:domain: localhost",
        `  authenticated-registry:port: ${port}`,
        "  authenticated-registry:users:",
        `    - username: ${puller}`,
        "  authenticated-registry:tls:",
        "    mode: generated",
        `    ipAddresses: [${nodeAddresses.join(", ")}]`,
        `  authenticated-registry:nginxImage: ${standInImages.nginx}`,
        `  authenticated-registry:registryImage: ${standInImages.registry}`,
        // The guard (one task), which limits failed logins and holds writes during a collection.
        `  authenticated-registry:guardImage: ${standInImages.node}`,
        "  authenticated-registry:storage:",
        "    kind: s3",
        `    bucket: ${bucket}`,
        `    endpoint: http://${minio}:9000`,
        `    accessKey: ${accessKey}`,
        `    secretKey: ${secretKey}`,
        `    network: ${overlay}`,
        "  authenticated-registry:swarm:",
        "    replicas: {proxy: 2, registry: 3}",
        "    publishMode: host",
        `    edgeImage: ${standInImages.nginx}`,
        "",
    ].join("\n");
}

beforeAll(() => {
    expect(ok("pulumi", ["version"]).trim()).toBe("v3.248.0");
    const started = Date.now();
    const up = exec("bash", [
        "scripts/swarm-cluster.sh",
        "up",
        "--images",
        [standInImages.nginx, standInImages.registry, standInImages.node, standInImages.minio].join(" "),
    ]);
    if (up.status !== 0) throw new Error(`scripts/swarm-cluster.sh up exited ${up.status}\n${up.stderr}`);
    expect(up.stdout.trim()).toBe(managerEndpoint);
    waitUntil("three ready nodes", 60_000, () => {
        const nodes = cluster(["node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.Availability}}"]).trim().split("\n");
        return { done: nodes.length === 3 && nodes.every((node) => node.endsWith(" Ready Active")), seen: nodes };
    });
    console.log(`cluster up in ${Date.now() - started} ms`);

    // MinIO on the manager, on an overlay the registry's tasks join on every node; its S3 port
    // published on the manager's own address, for the bucket made from here.
    cluster(["network", "create", "--driver", "overlay", "--attachable", overlay]);
    cluster([
        "service",
        "create",
        "--detach",
        "--no-resolve-image",
        "--name",
        minio,
        "--network",
        overlay,
        "--endpoint-mode",
        "dnsrr",
        "--constraint",
        "node.role==manager",
        "--publish",
        `mode=host,target=9000,published=${minioPort}`,
        "--env",
        `MINIO_ROOT_USER=${accessKey}`,
        "--env",
        `MINIO_ROOT_PASSWORD=${secretKey}`,
        standInImages.minio,
    ]);
    waitUntil(
        "the bucket created on MinIO",
        120_000,
        () => {
            const answer = s3("PUT", `/${bucket}`);
            return { done: answer.status === 200 || answer.body.includes("BucketAlreadyOwnedByYou"), seen: answer };
        },
        1000,
    );
    expect(s3("GET", `/${bucket}?list-type=2`).status).toBe(200);

    stack.init(stackConfig());
    const deployStarted = Date.now();
    stack.up();
    console.log(`pulumi up on the cluster in ${Date.now() - deployStarted} ms`);
    outputs = stack.outputs();
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    for (const trust of trusts) trust.trust(outputs.caCertificatePem);
});

afterAll(() => {
    // Bounded: a cluster that stopped answering must not hold the run; `down` removes it all anyway.
    exec("timeout", ["600", "pulumi", "destroy", "--yes", "--config-file", stack.configFile, "--stack", stack.name, "--non-interactive"], {
        env: { ...stack.env, ...offlinePulumiEnv },
    });
    stack.run(["stack", "rm", "--yes", "--force"]);
    if (process.env.AUTHREG_KEEP_CLUSTER !== "1") exec("bash", ["scripts/swarm-cluster.sh", "down"]);
    for (const trust of trusts) trust.remove();
    for (const address of nodeAddresses) exec("docker", ["rmi", "--force", `${hostOf(address)}/${repository}`]);
});

test("up spreads three registry tasks over the nodes, two nginx tasks, and the edge on every node", () => {
    expect(outputs.url).toBe(`https://localhost:${port}`);
    expect(outputs.volumeName).toBeUndefined();
    const registry = runningTasks(outputs.registryServiceName);
    const nginx = runningTasks(outputs.proxyServiceName);
    const edge = runningTasks(outputs.edgeServiceName);
    console.log(
        `placement: registry on ${registry.map((task) => task.node).join(", ")}; nginx on ${nginx.map((task) => task.node).join(", ")}; ` +
            `edge on ${edge.map((task) => task.node).join(", ")}`,
    );
    expect(registry).toHaveLength(3);
    expect(new Set(registry.map((task) => task.node)).size).toBeGreaterThanOrEqual(2);
    expect(nginx).toHaveLength(2);
    expect(new Set(edge.map((task) => task.node)).size).toBe(3);
});

test("push and pull through the manager's address; the layers land in the bucket", () => {
    expect(docker.login(host, puller, outputs.passwords[puller]).status).toBe(0);
    imageId = docker.buildRandomImage(pulledRef);
    docker.ok(["push", pulledRef]);
    docker.ok(["rmi", "--force", pulledRef]);
    docker.ok(["pull", pulledRef]);
    expect(docker.ok(["image", "inspect", "--format", "{{.Id}}", pulledRef]).trim()).toBe(imageId);
    const listing = s3("GET", `/${bucket}?list-type=2&prefix=${encodeURIComponent("docker/registry/v2/repositories/cluster/payload/")}`);
    expect(listing.body).toContain("docker/registry/v2/repositories/cluster/payload/_manifests/tags/1/current/link");
});

test("the worker of the guard's single task drained during a loop of pulls: its tasks move to the other nodes, and no pull fails", async () => {
    const services = [outputs.registryServiceName, outputs.proxyServiceName];
    const guard = outputs.guardServiceName as string;
    // The guard's task is on a worker, so that the drain takes it away: nginx must refuse a
    // password, or a request with none, with 401 while the guard does not answer, not 502.
    if (runningTasks(guard).some((task) => task.node === managerNode())) {
        cluster(["service", "update", "--detach=false", "--constraint-add", "node.role==worker", guard]);
    }
    const [guardTask] = runningTasks(guard);
    const victim = guardTask.node;
    expect(victim).not.toBe(managerNode());
    const held = services.flatMap((service) => runningTasks(service)).filter((task) => task.node === victim).length;
    console.log(`draining ${victim}: the guard, ${held} registry and nginx tasks, ${containersOn(victim).length} containers of the stack`);

    let rescheduledAfter = 0;
    const wanted = [
        { service: outputs.registryServiceName as string, count: 3 },
        { service: outputs.proxyServiceName as string, count: 2 },
        { service: guard, count: 1 },
        // Global: one task on each node that is still active.
        { service: outputs.edgeServiceName as string, count: 2 },
    ];
    try {
        await withoutFailedPulls(`drain of ${victim}`, pulledRef, docker, stack.workDir, () => {
            cluster(["node", "update", "--availability", "drain", victim]);
            rescheduledAfter = waitUntil(
                `every task off ${victim} and running elsewhere`,
                180_000,
                () => {
                    const left = containersOn(victim);
                    const running = wanted.map(({ service }) => runningTasks(service));
                    const done =
                        left.length === 0 &&
                        running.every((now, i) => now.length === wanted[i].count && now.every((task) => task.node !== victim));
                    return { done, seen: { left, running: running.map((now) => now.map((task) => task.node)) } };
                },
                500,
            );
        });
    } finally {
        cluster(["node", "update", "--availability", "active", victim]);
    }
    console.log(`drain of ${victim}: every task off it and running on the other nodes after ${rescheduledAfter} ms`);
    // The edge comes back on the reactivated node (the replicated tasks stay where they are).
    const edgeBack = waitUntil(`the edge back on ${victim}`, 120_000, () => {
        const now = runningTasks(outputs.edgeServiceName);
        return { done: now.length === 3 && now.some((task) => task.node === victim), seen: now.map((task) => task.node) };
    });
    console.log(`${victim} active again: the edge back on it after ${edgeBack} ms`);
});

test("a pull through each worker's own address: the edge runs on every node", () => {
    for (const address of nodeAddresses.slice(1)) {
        const ref = `${hostOf(address)}/${repository}`;
        expect(docker.login(hostOf(address), puller, outputs.passwords[puller]).status).toBe(0);
        // Every tag removed, so the pull fetches the layer through this node's edge too.
        docker.run(["rmi", "--force", ref, pulledRef]);
        docker.ok(["pull", ref]);
        expect(docker.ok(["image", "inspect", "--format", "{{.Id}}", ref]).trim()).toBe(imageId);
    }
});
