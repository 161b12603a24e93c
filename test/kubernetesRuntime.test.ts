/** The Kubernetes runtime under mocks: the plan's roles as Deployments, Services and content-named files. */
import * as pulumi from "@pulumi/pulumi";
import { validateUserAccess } from "../components/access";
import { renderNginxConfig } from "../components/nginxConfig";
import { checkKubernetesSettings } from "../components/runtimes/kubernetes/settings";
import { StorageKind } from "../components/storage";
import {
    checkBcryptCost,
    checkCredentialsSecret,
    checkDataVolumeRetained,
    checkDeleteEverywhere,
    checkImagePinned,
    checkNginxTlsProtocols,
    checkNoPrivilegedProcess,
    checkRegistryPortsLoopback,
    checkTokenServiceUnpublished,
    ResourceView,
} from "../policy/rules";
import { installMocks, isSecretInput, parentChain, plain, registered, Registration, valueOf } from "./mocks";

beforeAll(installMocks);

type Components = typeof import("../components");
let components: Components;
let found: Registration[];
let registry: InstanceType<Components["AuthenticatedRegistry"]>;
/** Resource options as each resource was created with, captured by a transformation. */
const options = new Map<string, pulumi.ResourceOptions>();
const capture: pulumi.ResourceTransformation = (args) => {
    options.set(args.name, args.opts);
    return undefined;
};

const top = "authenticated-registry:index:AuthenticatedRegistry";
const images = {
    nginxImage: "authenticated-registry/nginx:1.22-bookworm",
    registryImage: "authenticated-registry/registry:3.1-bookworm",
    guardImage: "authenticated-registry/node:22-bookworm",
};
const byName = (name: string, among: Registration[] = found): Registration => {
    const hit = among.find((r) => r.name === name);
    if (hit === undefined) throw new Error(`no resource named ${name}; have ${among.map((r) => r.name).join(", ")}`);
    return hit;
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded inputs
const podSpec = (deployment: Registration): any => plain(deployment.inputs).spec.template.spec;

beforeAll(async () => {
    components = await import("../components");
    registry = new components.AuthenticatedRegistry(
        "kr",
        {
            domain: "registry.example.com",
            port: 30543,
            users: [
                { username: "alice" },
                { username: "ci", password: "ci-password", access: [{ repositories: ["ci/**"], actions: ["pull", "push"] }] },
            ],
            runtime: "kubernetes",
            kubernetes: { serviceType: "NodePort", storageClass: "local", storageSize: "20Gi" },
            ...images,
        },
        { transformations: [capture] },
    );
    await valueOf(registry.url);
    found = (await registered()).filter((r) => r.name === "kr" || r.name.startsWith("kr-"));
});

test("creates exactly the expected resources: a namespace, the data claim, and per role a Deployment, its Service, files, budget and policy", () => {
    const own = found.filter((r) => parentChain(r) === top).map((r) => [r.type, r.name]);
    const role = (word: string, files: ("secret" | "config")[]) => [
        ["kubernetes:apps/v1:Deployment", `kr-${word}`],
        ["kubernetes:core/v1:Service", `kr-${word}-service`],
        ["kubernetes:policy/v1:PodDisruptionBudget", `kr-${word}-disruption`],
        ["kubernetes:networking.k8s.io/v1:NetworkPolicy", `kr-${word}-network-policy`],
        ...files.map((kind) => [kind === "secret" ? "kubernetes:core/v1:Secret" : "kubernetes:core/v1:ConfigMap", `kr-${word}-${kind}`]),
    ];
    expect(own.sort()).toEqual(
        [
            ["authenticated-registry:index:TlsMaterial", "kr-tls"],
            ["authenticated-registry:index:HtpasswdCredentials", "kr-credentials"],
            ["random:index/randomPassword:RandomPassword", "kr-http-secret"],
            ["kubernetes:core/v1:Namespace", "kr-namespace"],
            ["kubernetes:core/v1:PersistentVolumeClaim", "kr-data"],
            ...role("guard", ["config"]),
            ...role("registry", ["secret"]),
            ...role("nginx", ["secret", "config"]),
        ].sort(),
    );
});

test("the namespace is named after the component, and every object is in it, labelled with its instance and role", () => {
    expect(plain(byName("kr-namespace").inputs).metadata.name).toBe("kr");
    for (const r of found.filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:core/v1:Namespace")) {
        expect([r.name, plain(r.inputs).metadata.namespace]).toEqual([r.name, "kr"]);
        expect(plain(r.inputs).metadata.labels["authenticated-registry.instance"]).toBe("kr");
    }
    expect(plain(byName("kr-nginx").inputs).metadata.labels).toEqual({
        "authenticated-registry.instance": "kr",
        "authenticated-registry.role": "proxy",
        "app.kubernetes.io/name": "authenticated-registry",
        "app.kubernetes.io/instance": "kr",
        "app.kubernetes.io/component": "proxy",
        "app.kubernetes.io/managed-by": "pulumi",
    });
});

test("the data claim asks for the class and size given, is kept on destroy, and is mounted by the registry's one pod", () => {
    const claim = plain(byName("kr-data").inputs);
    expect(claim.metadata.name).toBe("kr-data");
    expect(claim.spec).toEqual({ accessModes: ["ReadWriteOnce"], storageClassName: "local", resources: { requests: { storage: "20Gi" } } });
    expect(options.get("kr-data")?.retainOnDelete).toBe(true);
    const registryDeployment = plain(byName("kr-registry").inputs);
    expect(registryDeployment.spec.replicas).toBe(1);
    expect(podSpec(byName("kr-registry")).volumes).toContainEqual({ name: "data", persistentVolumeClaim: { claimName: "kr-data" } });
    expect(podSpec(byName("kr-registry")).containers[0].volumeMounts).toContainEqual({ name: "data", mountPath: "/data" });
});

test("each role rolls one new pod in before an old one stops, two proxies, one guard", () => {
    const replicas = (name: string) => plain(byName(name).inputs).spec.replicas;
    expect([replicas("kr-nginx"), replicas("kr-registry"), replicas("kr-guard")]).toEqual([2, 1, 1]);
    for (const name of ["kr-nginx", "kr-registry", "kr-guard"]) {
        expect(plain(byName(name).inputs).spec.strategy).toEqual({
            type: "RollingUpdate",
            rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
        });
        expect(plain(byName(`${name}-disruption`).inputs).spec.maxUnavailable).toBe(1);
    }
});

test("pods run unprivileged: non-root, read-only root, no escalation, every capability dropped, no API token", () => {
    for (const name of ["kr-nginx", "kr-registry", "kr-guard"]) {
        const spec = podSpec(byName(name));
        expect(spec.automountServiceAccountToken).toBe(false);
        expect(spec.securityContext.runAsNonRoot).toBe(true);
        expect(spec.securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
        expect(spec.containers[0].securityContext).toEqual({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            privileged: false,
            capabilities: { drop: ["ALL"] },
        });
    }
    const nginx = podSpec(byName("kr-nginx"));
    expect(nginx.securityContext).toMatchObject({ runAsUser: 101, runAsGroup: 101, fsGroup: 101 });
    // nginx listens on 443 as an unprivileged user.
    expect(nginx.securityContext.sysctls).toEqual([{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }]);
    expect(podSpec(byName("kr-registry")).securityContext.sysctls).toBeUndefined();
});

test("probes: nginx ready while the registry answers (/healthz), alive on its own (/livez); the others on their own ports", () => {
    const container = (name: string) => podSpec(byName(name)).containers[0];
    expect(container("kr-nginx").readinessProbe.httpGet).toEqual({ path: "/healthz", port: "serve", scheme: "HTTPS" });
    expect(container("kr-nginx").livenessProbe.httpGet).toEqual({ path: "/livez", port: "serve", scheme: "HTTPS" });
    expect(container("kr-registry").readinessProbe.httpGet).toEqual({ path: "/", port: "serve", scheme: "HTTP" });
    expect(container("kr-guard").readinessProbe.httpGet).toEqual({ path: "/healthz", port: "serve", scheme: "HTTP" });
    // nginx finishes its requests on SIGQUIT after the Service has let it go.
    expect(container("kr-nginx").lifecycle.preStop.exec.command).toEqual([
        "/bin/sh",
        "-c",
        "sleep 3 && kill -s QUIT 1 && while kill -0 1 2>/dev/null; do sleep 1; done",
    ]);
    expect(container("kr-registry").lifecycle.preStop.exec.command).toEqual(["/bin/sh", "-c", "sleep 3"]);
    expect(container("kr-nginx").resources).toEqual({ requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } });
});

test("nginx reaches the registry and the guard by their full Service names through the cluster's DNS", async () => {
    const users = validateUserAccess("users", [
        { username: "alice" },
        { username: "ci", access: [{ repositories: ["ci/**"], actions: ["pull", "push"] }] },
    ]);
    const config = renderNginxConfig({
        serverName: "registry.example.com",
        realm: "registry.example.com",
        upstream: "kr-registry.kr.svc.cluster.local:5000",
        listenPort: 443,
        resolver: "kube-dns.kube-system.svc.cluster.local",
        users,
        guard: { upstream: "kr-guard.kr.svc.cluster.local:5001", loginThrottle: true, writeHoldSeconds: 120 },
    });
    expect(plain(byName("kr-nginx-config").inputs).data["registry.conf"]).toBe(config);
});

test("files: secret ones in an immutable Secret, the rest in a ConfigMap, both named by content and mounted where the role reads them", async () => {
    const secret = byName("kr-nginx-secret").inputs;
    const config = byName("kr-nginx-config").inputs;
    expect(isSecretInput(secret.stringData)).toBe(true);
    expect(Object.keys(plain(secret.stringData)).sort()).toEqual(["domain.key", "registry.password"]);
    expect(plain(secret.stringData)["registry.password"]).toBe(await valueOf(registry.htpasswd));
    expect(Object.keys(config.data).sort()).toEqual(["default.conf", "domain.crt", "registry.conf"]);
    expect([secret.immutable, config.immutable]).toEqual([true, true]);
    expect(plain(secret).metadata.name).toMatch(/^kr-nginx-secret-[0-9a-f]{12}$/);
    expect(config.metadata.name).toMatch(/^kr-nginx-config-[0-9a-f]{12}$/);
    // The names are not secret, so the Deployment that names them stays readable in a preview.
    expect(isSecretInput(secret.metadata.name)).toBe(false);
    expect(JSON.parse(plain(secret).metadata.annotations["authenticated-registry.files"])).toEqual({
        "registry.password": "/etc/nginx/conf.d/registry.password",
        "domain.key": "/etc/nginx/conf.d/domain.key",
    });
    expect((options.get("kr-nginx-secret") as pulumi.CustomResourceOptions | undefined)?.additionalSecretOutputs).toEqual([
        "data",
        "stringData",
    ]);
    const spec = podSpec(byName("kr-nginx"));
    expect(spec.volumes.slice(0, 2)).toEqual([
        {
            name: "secret-files",
            secret: {
                secretName: plain(secret).metadata.name,
                items: [
                    { key: "registry.password", path: "registry.password", mode: 0o644 },
                    { key: "domain.key", path: "domain.key", mode: 0o600 },
                ],
            },
        },
        {
            name: "files",
            configMap: {
                name: config.metadata.name,
                items: [
                    { key: "registry.conf", path: "registry.conf", mode: 0o644 },
                    { key: "default.conf", path: "default.conf", mode: 0o644 },
                    { key: "domain.crt", path: "domain.crt", mode: 0o644 },
                ],
            },
        },
    ]);
    expect(spec.containers[0].volumeMounts).toContainEqual({
        name: "secret-files",
        mountPath: "/etc/nginx/conf.d/domain.key",
        subPath: "domain.key",
        readOnly: true,
    });
    expect(
        spec.containers[0].volumeMounts
            .filter((m: { name: string }) => m.name.startsWith("writable-"))
            .map((m: { mountPath: string }) => m.mountPath),
    ).toEqual(["/run", "/var/cache/nginx", "/var/lib/nginx", "/var/log/nginx", "/tmp"]);
});

test("the registry's HTTP secret is in its Secret, referenced by name: no pod spec or annotation holds a secret", () => {
    const env = podSpec(byName("kr-registry")).containers[0].env;
    const secretName = plain(byName("kr-registry-secret").inputs).metadata.name;
    expect(env).toContainEqual({
        name: "REGISTRY_HTTP_SECRET",
        valueFrom: { secretKeyRef: { name: secretName, key: "REGISTRY_HTTP_SECRET" } },
    });
    expect(env).toContainEqual({ name: "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", value: "/data" });
    expect(plain(byName("kr-registry-secret").inputs).stringData.REGISTRY_HTTP_SECRET).toMatch(/^[A-Za-z0-9]{40,48}$/);
    for (const r of found.filter((r) => r.type !== "kubernetes:core/v1:Secret")) {
        expect([r.name, JSON.stringify(r.inputs)]).not.toEqual([
            r.name,
            expect.stringMatching(/ci-password|\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}/),
        ]);
    }
    for (const name of ["kr-nginx", "kr-registry", "kr-guard"]) expect(isSecretInput(byName(name).inputs.spec)).toBe(false);
});

test("Services: the proxy on the node port, the others inside the cluster; only the proxy's pods reach the registry and the guard", () => {
    expect(plain(byName("kr-nginx-service").inputs).spec).toEqual({
        type: "NodePort",
        selector: { "authenticated-registry.instance": "kr", "authenticated-registry.role": "proxy" },
        ports: [{ name: "serve", port: 30543, targetPort: "serve", protocol: "TCP", nodePort: 30543 }],
    });
    expect(plain(byName("kr-registry-service").inputs).spec.type).toBe("ClusterIP");
    expect(plain(byName("kr-registry-service").inputs).spec.ports).toEqual([
        { name: "serve", port: 5000, targetPort: "serve", protocol: "TCP" },
    ]);
    const fromProxy = [
        { podSelector: { matchLabels: { "authenticated-registry.instance": "kr", "authenticated-registry.role": "proxy" } } },
    ];
    expect(plain(byName("kr-registry-network-policy").inputs).spec).toEqual({
        podSelector: { matchLabels: { "authenticated-registry.instance": "kr", "authenticated-registry.role": "registry" } },
        policyTypes: ["Ingress"],
        ingress: [{ ports: [{ port: 5000, protocol: "TCP" }], from: fromProxy }],
    });
    expect(plain(byName("kr-guard-network-policy").inputs).spec.ingress).toEqual([
        { ports: [{ port: 5001, protocol: "TCP" }], from: fromProxy },
    ]);
    expect(plain(byName("kr-nginx-network-policy").inputs).spec.ingress).toEqual([{ ports: [{ port: 443, protocol: "TCP" }] }]);
});

test("nginx starts after the registry and the guard; the grants are an annotation of its Deployment", () => {
    const dependsOn = (options.get("kr-nginx")?.dependsOn ?? []) as pulumi.Resource[];
    expect(dependsOn).toHaveLength(2);
    const annotation = plain(byName("kr-nginx").inputs).metadata.annotations["authenticated-registry.access"];
    expect(JSON.parse(annotation).map((u: { username: string }) => u.username)).toEqual(["alice", "ci"]);
});

test("the policy pack judges every object and passes them all, having read the proxy's config, hashes and grants", () => {
    const view = (r: Registration): ResourceView => {
        const opts = options.get(r.name) as pulumi.CustomResourceOptions | undefined;
        return {
            type: r.type,
            props: plain(r.inputs),
            opts: { additionalSecretOutputs: opts?.additionalSecretOutputs, retainOnDelete: opts?.retainOnDelete },
        };
    };
    const rules = {
        checkRegistryPortsLoopback,
        checkTokenServiceUnpublished,
        checkNoPrivilegedProcess,
        checkNginxTlsProtocols,
        checkImagePinned,
        checkCredentialsSecret,
        checkDataVolumeRetained,
        bcrypt: (r: ResourceView) => checkBcryptCost(r, 8),
        deleteEverywhere: (r: ResourceView) => checkDeleteEverywhere(r, false),
    };
    const judged: string[] = [];
    for (const r of found.filter((r) => r.type.startsWith("kubernetes:"))) {
        for (const [rule, check] of Object.entries(rules)) {
            const result = check(view(r));
            if ("violations" in result) {
                expect({ rule, name: r.name, violations: result.violations }).toEqual({ rule, name: r.name, violations: [] });
                judged.push(`${rule} ${r.name}`);
            }
        }
    }
    expect(judged).toEqual(
        expect.arrayContaining([
            "checkRegistryPortsLoopback kr-registry",
            "checkRegistryPortsLoopback kr-registry-service",
            "checkNoPrivilegedProcess kr-nginx",
            "checkNginxTlsProtocols kr-nginx-config",
            "checkImagePinned kr-registry",
            "checkCredentialsSecret kr-nginx-secret",
            "checkCredentialsSecret kr-registry-secret",
            "checkDataVolumeRetained kr-data",
            "bcrypt kr-nginx-secret",
            "deleteEverywhere kr-nginx",
        ]),
    );
});

test("outputs name the namespace and the Deployments", async () => {
    expect(await valueOf(registry.url)).toBe("https://registry.example.com:30543");
    expect(registry.runtime).toBe("kubernetes");
    const outputs = await Promise.all(Object.entries(registry.runtimeOutputs).map(async ([key, value]) => [key, await valueOf(value)]));
    expect(Object.fromEntries(outputs)).toEqual({
        kubernetesNamespace: "kr",
        proxyDeploymentName: "kr-nginx",
        registryDeploymentName: "kr-registry",
        guardDeploymentName: "kr-guard",
    });
});

describe("token mode on object storage in a given namespace", () => {
    let other: Registration[];
    beforeAll(async () => {
        const tokenRegistry = new components.AuthenticatedRegistry(
            "kt",
            {
                domain: "registry.example.com",
                users: [{ username: "ci" }],
                auth: { mode: "token" },
                runtime: "kubernetes",
                kubernetes: { namespace: "images", replicas: { proxy: 3, registry: 4, tokenService: 2 }, serviceType: "LoadBalancer" },
                storage: {
                    kind: "s3",
                    bucket: "images",
                    endpoint: "http://minio.storage:9000",
                    accessKey: "a",
                    secretKey: pulumi.secret("s3-secret"),
                },
                ...images,
            },
            { transformations: [capture] },
        );
        await valueOf(tokenRegistry.url);
        other = (await registered()).filter((r) => r.name.startsWith("kt-"));
    });
    const get = (name: string) => plain(byName(name, other).inputs);

    test("no namespace and no claim are made; replicas as asked; the token service is a role of its own", () => {
        expect(other.filter((r) => r.type === "kubernetes:apps/v1:Deployment").map((r) => [r.name, get(r.name).spec.replicas])).toEqual([
            ["kt-token", 2],
            ["kt-registry", 4],
            ["kt-nginx", 3],
        ]);
        expect(other.map((r) => r.type)).not.toContain("kubernetes:core/v1:Namespace");
        expect(other.map((r) => r.type)).not.toContain("kubernetes:core/v1:PersistentVolumeClaim");
        expect(get("kt-registry").metadata.namespace).toBe("images");
        expect(get("kt-nginx-service").spec.type).toBe("LoadBalancer");
        expect(get("kt-nginx-service").spec.ports).toEqual([{ name: "serve", port: 5043, targetPort: "serve", protocol: "TCP" }]);
    });

    test("the object store's keys are in the registry's Secret; nginx has no password file", () => {
        const secret = get("kt-registry-secret").stringData;
        expect(secret.REGISTRY_STORAGE_S3_SECRETKEY).toBe("s3-secret");
        expect(secret.REGISTRY_STORAGE_S3_ACCESSKEY).toBe("a");
        const env = get("kt-registry").spec.template.spec.containers[0].env;
        expect(env).toContainEqual({ name: "REGISTRY_AUTH", value: "token" });
        expect(env).toContainEqual({ name: "REGISTRY_AUTH_TOKEN_REALM", value: "https://registry.example.com:5043/token" });
        expect(JSON.stringify(env)).not.toContain("s3-secret");
        expect(Object.keys(get("kt-nginx-secret").stringData)).toEqual(["domain.key"]);
        expect(Object.keys(get("kt-token-secret").stringData).sort()).toEqual(["settings.json", "signing.key"]);
    });
});

describe("settings are checked at preview, each refusal naming its field", () => {
    const filesystem = { storage: { kind: StorageKind.Filesystem }, port: 5043 } as const;
    test.each([
        [{ replicas: { registry: 2 } }, "kubernetes.replicas.registry: is 2, but filesystem storage is one volume that one pod writes"],
        [
            { serviceType: "Ingress" },
            'kubernetes.serviceType: "Ingress" is not a Service type; expected one of ClusterIP, NodePort, LoadBalancer',
        ],
        [{ serviceType: "NodePort" }, "kubernetes.nodePort: is unset, so it would be port 5043"],
        [{ serviceType: "NodePort", nodePort: 80 }, "kubernetes.nodePort: 80 is not a node port; expected an integer from 30000 to 32767"],
        [{ nodePort: 30001 }, "kubernetes.nodePort: applies to serviceType NodePort only"],
        [{ namespace: "Team_A" }, 'kubernetes.namespace: "Team_A" is not a namespace'],
        [{ resources: { proxy: { limits: { memory: "lots" } } } }, 'kubernetes.resources.proxy.limits.memory: "lots" is not a quantity'],
        [
            { resources: { proxy: { limits: { gpu: "1" } } } },
            "kubernetes.resources.proxy.limits.gpu: is not a resource; expected one of cpu, memory",
        ],
        [{ replicas: { proxy: 0 } }, "kubernetes.replicas.proxy: 0 is not a task count"],
        [{ ingress: true }, "kubernetes.ingress: is not a kubernetes setting"],
    ])("%j", (settings, message) => {
        expect(() => checkKubernetesSettings("kubernetes", settings, filesystem)).toThrow(message);
    });

    test("the defaults", () => {
        expect(checkKubernetesSettings("kubernetes", undefined, filesystem)).toEqual({
            namespace: undefined,
            replicas: { proxy: 2, registry: 1, tokenService: 2 },
            serviceType: "ClusterIP",
            nodePort: undefined,
            storageClass: undefined,
            storageSize: "10Gi",
            resources: {
                proxy: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
                registry: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "1Gi" } },
                tokenService: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
            },
            clusterDomain: "cluster.local",
            dnsService: "kube-dns.kube-system.svc.cluster.local",
        });
    });

    test("a Docker network for the object store, or a component name that is no Service name, is refused before anything is made", () => {
        expect(() =>
            components.checkAuthenticatedRegistryArgs({
                domain: "registry.example.com",
                users: [{ username: "ci" }],
                runtime: "kubernetes",
                storage: { kind: "s3", bucket: "images", accessKey: "a", secretKey: "b", network: "minio-net" },
            }),
        ).toThrow("storage.network: is a Docker network, which pods cannot join");
        expect(
            () =>
                new components.AuthenticatedRegistry("Team_Registry", {
                    domain: "r.example.com",
                    users: [{ username: "ci" }],
                    runtime: "kubernetes",
                }),
        ).toThrow('kubernetes: the component\'s name "Team_Registry" makes Kubernetes names such as "Team_Registry-registry"');
    });
});
