/**
 * The kubernetes runtime on a real single-node cluster of this machine (scripts/kube-node.sh,
 * built from Go modules and Debian packages): the stack program with `runtime: kubernetes`, two
 * pods of nginx and of the registry on object storage (MinIO, in the cluster), behind a NodePort
 * Service on the node's address. A pull loop, bounded in count and time, runs in the background
 * while a password, the certificate and the nginx image are rotated and a registry pod is
 * killed; not one pull may fail. The tests run in order and share one stack.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { curl, DockerClient, DockerTrust, exec, ok, s3Request, Stack, standInImages, waitUntil, withoutFailedPulls } from "../e2e/harness";

const kubeNode = path.join(__dirname, "..", "..", "scripts", "kube-node.sh");
const nodePort = 30643;
const puller = "puller";
const rotated = "rotated";
const rotatedImage = "authenticated-registry/nginx:1.22-bookworm-rotated";
const storageNamespace = "authreg-test-storage";
const accessKey = "registry-access";
const secretKey = "registry-secret-key-of-some-length";
const bucket = "images";

const stack = new Stack();
const docker = new DockerClient();
const caFile = path.join(stack.workDir, "ca.crt");
let nodeIp: string;
let host: string;
let pulledRef: string;
let trust: DockerTrust | undefined;
let clusterWasDown = false;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed `stack output --json`, read at any depth
let outputs: Record<string, any>;

/** kubectl against the test cluster. */
function kubectl(args: string[], input?: string): string {
    return ok("kubectl", args, { input });
}

/** The namespace's ready pods of a Deployment, by name. */
function readyPods(deployment: string): string[] {
    const selector = kubectl([
        "--namespace",
        outputs.kubernetesNamespace,
        "get",
        "deployment",
        deployment,
        "-o",
        "go-template={{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}},{{end}}",
    ]).replace(/,$/, "");
    const pods = kubectl([
        "--namespace",
        outputs.kubernetesNamespace,
        "get",
        "pods",
        "--selector",
        selector,
        "-o",
        'go-template={{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}} {{range .status.conditions}}{{if eq .type "Ready"}}{{.status}}{{end}}{{end}}{{"\\n"}}{{end}}{{end}}',
    ]);
    return pods
        .trim()
        .split("\n")
        .filter((line) => line.endsWith(" True"))
        .map((line) => line.split(" ")[0]);
}

/** MinIO in a namespace of its own: the object store every registry pod shares. */
function startObjectStore(): void {
    kubectl(
        ["apply", "-f", "-"],
        JSON.stringify({
            apiVersion: "v1",
            kind: "List",
            items: [
                { apiVersion: "v1", kind: "Namespace", metadata: { name: storageNamespace } },
                {
                    apiVersion: "apps/v1",
                    kind: "Deployment",
                    metadata: { name: "minio", namespace: storageNamespace },
                    spec: {
                        replicas: 1,
                        selector: { matchLabels: { app: "minio" } },
                        template: {
                            metadata: { labels: { app: "minio" } },
                            spec: {
                                containers: [
                                    {
                                        name: "minio",
                                        image: standInImages.minio,
                                        imagePullPolicy: "IfNotPresent",
                                        env: [
                                            { name: "MINIO_ROOT_USER", value: accessKey },
                                            { name: "MINIO_ROOT_PASSWORD", value: secretKey },
                                        ],
                                        ports: [{ containerPort: 9000 }],
                                        readinessProbe: { httpGet: { path: "/minio/health/ready", port: 9000 }, periodSeconds: 1 },
                                    },
                                ],
                            },
                        },
                    },
                },
                {
                    apiVersion: "v1",
                    kind: "Service",
                    metadata: { name: "minio", namespace: storageNamespace },
                    spec: { selector: { app: "minio" }, ports: [{ port: 9000, targetPort: 9000 }] },
                },
            ],
        }),
    );
    kubectl(["--namespace", storageNamespace, "rollout", "status", "deployment/minio", "--timeout=120s"]);
    const clusterIp = kubectl(["--namespace", storageNamespace, "get", "service", "minio", "-o", "jsonpath={.spec.clusterIP}"]).trim();
    const s3 = (method: string, urlPath: string) => s3Request(`http://${clusterIp}:9000`, accessKey, secretKey, method, urlPath);
    waitUntil("the bucket made", 30_000, () => {
        const made = s3("PUT", `/${bucket}`).status;
        return { done: made === 200 || made === 409, seen: made };
    });
}

function stackConfig(): string {
    return [
        "config:",
        "  authenticated-registry:runtime: kubernetes",
        `  authenticated-registry:domain: ${nodeIp}`,
        `  authenticated-registry:port: ${nodePort}`,
        "  authenticated-registry:users:",
        `    - username: ${puller}`,
        `    - username: ${rotated}`,
        "  authenticated-registry:tls:",
        "    mode: generated",
        `    ipAddresses: [${nodeIp}]`,
        `  authenticated-registry:nginxImage: ${standInImages.nginx}`,
        `  authenticated-registry:registryImage: ${standInImages.registry}`,
        `  authenticated-registry:guardImage: ${standInImages.node}`,
        "  authenticated-registry:storage:",
        "    kind: s3",
        `    bucket: ${bucket}`,
        `    endpoint: http://minio.${storageNamespace}.svc.cluster.local:9000`,
        `    accessKey: ${accessKey}`,
        "  authenticated-registry:kubernetes:",
        "    replicas: {proxy: 2, registry: 2}",
        "    serviceType: NodePort",
        "",
    ].join("\n");
}

beforeAll(() => {
    expect(ok("pulumi", ["version"]).trim()).toBe("v3.248.0");
    // The provider plugin, built on demand (scripts/toolchain.sh).
    ok("bash", [path.join(__dirname, "..", "..", "scripts", "toolchain.sh"), "kubernetes-provider"]);
    clusterWasDown = exec("bash", [kubeNode, "status"]).status !== 0;
    // A second nginx image, of another ID, to roll the proxy onto; imported into the node with the stand-ins.
    const context = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-rotated-"));
    fs.writeFileSync(path.join(context, "Dockerfile"), `FROM ${standInImages.nginx}\nLABEL authenticated-registry.test=rotated\n`);
    ok("docker", ["build", "--quiet", "--tag", rotatedImage, context], { env: { DOCKER_BUILDKIT: "0" } });
    fs.rmSync(context, { recursive: true, force: true });
    // With kube-router, so that the NetworkPolicies are enforced.
    process.env.KUBECONFIG = ok("bash", [kubeNode, "up", "--network-policy", "--images", rotatedImage]).trim();
    nodeIp = process.env.AUTHREG_KUBE_NODE_IP ?? "10.99.0.1";
    host = `${nodeIp}:${nodePort}`;
    pulledRef = `${host}/team/payload:1`;
    trust = new DockerTrust(host);
    startObjectStore();
    stack.init(stackConfig());
    stack.setConfig("storage.secretKey", secretKey, true);
});

afterAll(() => {
    stack.run(["destroy", "--yes", "--config-file", stack.configFile]);
    stack.removeAll();
    exec("kubectl", ["delete", "namespace", storageNamespace, "--wait=true", "--timeout=60s"]);
    exec("docker", ["rmi", rotatedImage]);
    trust?.remove();
    if (clusterWasDown) exec("bash", [kubeNode, "down"]);
});

test("up makes two ready pods of nginx and of the registry and one guard; a second preview shows no changes", () => {
    stack.up();
    const again = stack.preview(["--expect-no-changes"]);
    expect({ status: again.status, output: again.status === 0 ? "" : again.stdout + again.stderr }).toEqual({ status: 0, output: "" });
    outputs = stack.outputs();
    expect(outputs.url).toBe(`https://${host}`);
    // A namespace of the component's own, named after it.
    expect(outputs.kubernetesNamespace).toBe(`registry-${stack.name}`);
    const name = `registry-${stack.name}`;
    expect([outputs.proxyDeploymentName, outputs.registryDeploymentName, outputs.guardDeploymentName]).toEqual([
        `${name}-nginx`,
        `${name}-registry`,
        `${name}-guard`,
    ]);
    expect(readyPods(outputs.proxyDeploymentName)).toHaveLength(2);
    expect(readyPods(outputs.registryDeploymentName)).toHaveLength(2);
    expect(readyPods(outputs.guardDeploymentName)).toHaveLength(1);
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    trust!.trust(outputs.caCertificatePem);
});

test("the policy pack judges the stack's Deployments, Services, Secrets and ConfigMaps, and passes them", () => {
    const preview = stack.run(["preview", "--policy-pack", "policy", "--config-file", stack.configFile]);
    const output = preview.stdout + preview.stderr;
    expect({ status: preview.status, output: preview.status === 0 ? "" : output.slice(-3000) }).toEqual({ status: 0, output: "" });
    // The pack ran: its advisory, or its line in the list of packs run.
    expect(output).toMatch(/authenticated-registry@v0\.1\.0 \(local: policy\)|authenticated-registry\|local\|policy/);
    expect(output).not.toContain("[mandatory]");
});

test("push and pull through the NodePort Service, nginx and the registry with the docker client", () => {
    expect(docker.login(host, puller, outputs.passwords[puller]).status).toBe(0);
    const id = docker.buildRandomImage(pulledRef);
    docker.ok(["push", pulledRef]);
    docker.ok(["rmi", "--force", pulledRef]);
    docker.ok(["pull", pulledRef]);
    expect(docker.ok(["image", "inspect", "--format", "{{.Id}}", pulledRef]).trim()).toBe(id);
    // Without credentials, nothing.
    expect(curl(`https://${host}/v2/`, caFile).status).toBe(401);
    expect(new DockerClient().run(["pull", pulledRef]).status).not.toBe(0);
});

test("a password, hash, key or the HTTP secret is only ever in a Secret: never a pod spec, ConfigMap or annotation", () => {
    const namespace = outputs.kubernetesNamespace;
    const everythingButSecrets = kubectl([
        "--namespace",
        namespace,
        "get",
        "deployments,replicasets,pods,configmaps,services",
        "-o",
        "yaml",
    ]);
    const secrets = JSON.parse(kubectl(["--namespace", namespace, "get", "secrets", "-o", "json"]));
    // Every line of every Secret's values (but PEM armour): the passwords' hashes, the TLS key, the HTTP secret, the S3 key.
    const secretLines = secrets.items
        .flatMap((secret: { data?: Record<string, string> }) => Object.values(secret.data ?? {}))
        .flatMap((encoded: string) => Buffer.from(encoded, "base64").toString().split("\n"))
        .filter((line: string) => line.length >= 16 && !line.startsWith("-----"));
    expect(secretLines.join("\n")).toMatch(/\$2[aby]\$\d\d\$/);
    expect(secretLines).toContain(secretKey);
    expect(secretLines.length).toBeGreaterThanOrEqual(6);
    for (const line of [...secretLines, ...(Object.values(outputs.passwords) as string[])]) {
        expect(everythingButSecrets.includes(line) ? line : "").toBe("");
    }
    expect(everythingButSecrets).toContain("secretKeyRef");
});

test("the network policies are rendered: only the proxy's pods may reach the registry and the guard", () => {
    const policies = JSON.parse(kubectl(["--namespace", outputs.kubernetesNamespace, "get", "networkpolicies", "-o", "json"]));
    const byName = Object.fromEntries(
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON
        policies.items.map((p: any) => [p.metadata.name, p.spec.ingress]),
    );
    const fromProxy = [
        {
            podSelector: {
                matchLabels: { "authenticated-registry.instance": `registry-${stack.name}`, "authenticated-registry.role": "proxy" },
            },
        },
    ];
    expect(byName[outputs.registryDeploymentName]).toEqual([{ from: fromProxy, ports: [{ port: 5000, protocol: "TCP" }] }]);
    expect(byName[outputs.guardDeploymentName]).toEqual([{ from: fromProxy, ports: [{ port: 5001, protocol: "TCP" }] }]);
    expect(byName[outputs.proxyDeploymentName]).toEqual([{ ports: [{ port: 443, protocol: "TCP" }] }]);
});

test("the policies are enforced (kube-router): a pod that is not the proxy cannot reach the registry or the guard", () => {
    const namespace = outputs.kubernetesNamespace;
    const intruder = "intruder";
    kubectl([
        "--namespace",
        namespace,
        "run",
        intruder,
        `--image=${standInImages.nginx}`,
        "--image-pull-policy=Never",
        "--restart=Never",
        "--command",
        "--",
        "sleep",
        "600",
    ]);
    try {
        kubectl(["--namespace", namespace, "wait", `pod/${intruder}`, "--for=condition=Ready", "--timeout=60s"]);
        const registryService = `http://${outputs.registryDeploymentName}.${namespace}.svc.cluster.local:5000/`;
        const guardService = `http://${outputs.guardDeploymentName}.${namespace}.svc.cluster.local:5001/healthz`;
        const fetch = (pod: string, url: string) =>
            exec("kubectl", [
                "--namespace",
                namespace,
                "exec",
                pod,
                "--",
                "curl",
                "--silent",
                "--output",
                "/dev/null",
                "--write-out",
                "%{http_code}",
                "--max-time",
                "3",
                url,
            ]);
        const proxyPod = readyPods(outputs.proxyDeploymentName)[0];
        expect(fetch(proxyPod, registryService).stdout).toBe("200");
        expect(fetch(proxyPod, guardService).stdout).toBe("200");
        // curl's 7 or 28: the connection refused or dropped by the policy (kube-router rejects).
        expect([7, 28]).toContain(fetch(intruder, registryService).status);
        expect([7, 28]).toContain(fetch(intruder, guardService).status);
    } finally {
        exec("kubectl", ["--namespace", namespace, "delete", "pod", intruder, "--grace-period=0", "--force"]);
    }
});

test("a password rotated by pulumi up: nginx rolls, no pull fails, the new password works and the old one does not", async () => {
    const oldPassword = outputs.passwords[rotated];
    const started = Date.now();
    await withoutFailedPulls("password rotation", pulledRef, docker, stack.workDir, () => {
        stack.setConfig("users[1].password", "a rotated password of some length", true);
        stack.up();
    });
    console.log(`password rotation: pulumi up and the rollout took ${Date.now() - started} ms`);
    outputs = stack.outputs();
    // Pods that are stopping serve a few seconds more with the old files (preStop), so both are
    // asked until the new password opens and the old one does not, within a bound.
    const probe = new DockerClient();
    const settledAfter = waitUntil("the new password in, the old one out", 15_000, () => {
        const fresh = probe.login(host, rotated, "a rotated password of some length").status;
        const old = probe.login(host, rotated, oldPassword).status;
        return { done: fresh === 0 && old !== 0, seen: { fresh, old } };
    });
    console.log(`password rotation: settled ${settledAfter} ms after pulumi up returned`);
    expect(readyPods(outputs.proxyDeploymentName)).toHaveLength(2);
});

test("the server certificate replaced by pulumi up: nginx rolls onto it, no pull fails", async () => {
    const served = () => ok("openssl", ["s_client", "-connect", host, "-servername", nodeIp], { input: "" });
    const serialOf = (pem: string) => ok("openssl", ["x509", "-noout", "-serial"], { input: pem }).trim();
    const before = serialOf(served());
    await withoutFailedPulls("certificate rotation", pulledRef, docker, stack.workDir, () => {
        stack.setConfig("tls.validityHours", "8000");
        stack.up();
    });
    // Pods that are stopping serve a few seconds more (preStop) while kube-proxy lets them go.
    const servedAfter = waitUntil("the new certificate served", 15_000, () => {
        const serial = serialOf(served());
        return { done: serial !== before, seen: serial };
    });
    console.log(`certificate rotation: the new certificate served ${servedAfter} ms after pulumi up returned`);
});

test("a new nginx image rolled by pulumi up, one pod at a time: no pull fails", async () => {
    await withoutFailedPulls("nginx image rotation", pulledRef, docker, stack.workDir, () => {
        stack.setConfig("nginxImage", rotatedImage);
        stack.up();
    });
    const images = kubectl([
        "--namespace",
        outputs.kubernetesNamespace,
        "get",
        "deployment",
        outputs.proxyDeploymentName,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    expect(images).toBe(rotatedImage);
    expect(readyPods(outputs.proxyDeploymentName)).toHaveLength(2);
});

test("a registry pod killed: no pull fails, and Kubernetes replaces it", async () => {
    const before = readyPods(outputs.registryDeploymentName);
    let replacedAfter = 0;
    await withoutFailedPulls("registry pod killed", pulledRef, docker, stack.workDir, () => {
        kubectl(["--namespace", outputs.kubernetesNamespace, "delete", "pod", before[0], "--grace-period=0", "--force", "--wait=false"]);
        replacedAfter = waitUntil("a new registry pod ready", 60_000, () => {
            const now = readyPods(outputs.registryDeploymentName);
            return { done: now.length === 2 && !now.includes(before[0]), seen: now };
        });
    });
    console.log(`registry pod killed: replaced after ${replacedAfter} ms`);
});

test("scaled from 2 to 3 registry pods and back by pulumi up, the pushed image kept", () => {
    stack.setConfig("kubernetes.replicas.registry", "3");
    stack.up();
    expect(readyPods(outputs.registryDeploymentName)).toHaveLength(3);
    stack.setConfig("kubernetes.replicas.registry", "2");
    stack.up();
    waitUntil("two registry pods", 60_000, () => {
        const now = readyPods(outputs.registryDeploymentName);
        return { done: now.length === 2, seen: now };
    });
    docker.ok(["rmi", "--force", pulledRef]);
    docker.ok(["pull", pulledRef]);
});

test("garbage collection holds writes at the guard's pod and collects in a Job from the registry's pod template", () => {
    const run = exec("bash", ["scripts/gc.sh", "--quiet-seconds", "1", stack.name], { env: stack.env });
    const output = run.stdout + run.stderr;
    expect({ status: run.status, output: run.status === 0 ? "" : output }).toEqual({ status: 0, output: "" });
    expect(output).toContain("every write waits");
    expect(output).toContain("writes go on");
    expect(output).toMatch(/blobs marked|blobs eligible for deletion/);
    docker.ok(["rmi", "--force", pulledRef]);
    docker.ok(["pull", pulledRef]);
});

test("switched to token mode by pulumi up: two token service pods, the image kept, no token for a wrong password", () => {
    stack.setConfig("auth.mode", "token");
    stack.setConfig("auth.tokenServiceImage", standInImages.node);
    stack.up();
    outputs = stack.outputs();
    expect(outputs.tokenServiceDeploymentName).toBe(`registry-${stack.name}-token`);
    expect(readyPods(outputs.tokenServiceDeploymentName)).toHaveLength(2);
    const client = new DockerClient();
    expect(client.login(host, puller, outputs.passwords[puller]).status).toBe(0);
    client.ok(["pull", pulledRef]);
    const wrongPassword = ["--user", `${puller}:not the password`];
    expect(curl(`https://${host}/token?service=${host}&scope=repository:team/payload:pull`, caFile, wrongPassword).status).toBe(401);
    expect(curl(`https://${host}/v2/`, caFile).status).toBe(401);
});
