/**
 * The Kubernetes runtime's settings: the namespace, how many pods of each role, how the proxy is
 * exposed, the data volume's class and size, and each role's resources.
 */
import { CheckedStorage, StorageKind } from "../../storage";
import { checkKnownKeys, describe, InvalidArgumentError, isDnsName, keysOf, validateOneOf } from "../../validation";
import { validateReplicas } from "../swarm/settings";

/** How the proxy's Service is reached, Kubernetes' Service types. */
export const KubernetesServiceType = {
    /** Inside the cluster only; for an Ingress or a Gateway that passes TLS through. */
    ClusterIP: "ClusterIP",
    /** On a port of every node (`nodePort`). */
    NodePort: "NodePort",
    /** An external load balancer the cluster provides, on `port`. */
    LoadBalancer: "LoadBalancer",
} as const;
/** One of {@link KubernetesServiceType}'s values. */
export type KubernetesServiceType = (typeof KubernetesServiceType)[keyof typeof KubernetesServiceType];

/** How many pods each role runs. */
export interface KubernetesReplicas {
    /**
     * nginx pods.
     * @default 2
     */
    readonly proxy?: number;
    /**
     * Registry pods. More than one needs object storage: a filesystem volume is one node's.
     * @default 2 with object storage, 1 with filesystem storage
     */
    readonly registry?: number;
    /**
     * Token service pods, in token mode.
     * @default 2
     */
    readonly tokenService?: number;
}

/** CPU and memory of one container, in Kubernetes' quantities (`250m`, `1`, `128Mi`, `1Gi`). */
export interface ResourceQuantities {
    /** CPU, in cores or millicores. */
    readonly cpu?: string;
    /** Memory, in bytes with a binary or decimal suffix. */
    readonly memory?: string;
}

/** What a role's containers ask the scheduler for, and what they may use at most. */
export interface RoleResources {
    /** What the scheduler reserves for each pod. */
    readonly requests?: ResourceQuantities;
    /** What each pod may use at most: past the memory limit it is restarted, past the CPU limit throttled. */
    readonly limits?: ResourceQuantities;
}

/** Resources per role; each field given replaces that role's default whole. */
export interface KubernetesResources {
    /**
     * nginx.
     * @default { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } }
     */
    readonly proxy?: RoleResources;
    /**
     * The registry.
     * @default { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "1Gi" } }
     */
    readonly registry?: RoleResources;
    /**
     * The token service in token mode, the guard in basic mode: both check bcrypt hashes.
     * @default { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } }
     */
    readonly tokenService?: RoleResources;
}

/** Settings of the `kubernetes` runtime: the registry as Deployments in one namespace of a cluster. */
export interface KubernetesRuntime {
    /**
     * The namespace, which must exist. Unset, the component makes one named after itself.
     * @default undefined (a namespace of the component's own, named as the component)
     */
    readonly namespace?: string;
    /**
     * Pods per role.
     * @default { proxy: 2, registry: 2 (1 with filesystem storage), tokenService: 2 }
     */
    readonly replicas?: KubernetesReplicas;
    /**
     * The type of the proxy's Service: `ClusterIP`, `NodePort` or `LoadBalancer`. Clients reach
     * it on `port` (its Service port), or with `NodePort` on `nodePort` of every node.
     * @default "ClusterIP"
     */
    readonly serviceType?: KubernetesServiceType;
    /**
     * The node port with `serviceType: NodePort`, in the cluster's node port range. Clients name
     * the registry `domain:port`, so it is `port` unless the two differ on purpose.
     * @default `port`
     */
    readonly nodePort?: number;
    /**
     * The StorageClass of the data volume's claim, with filesystem storage.
     * @default undefined (the cluster's default class)
     */
    readonly storageClass?: string;
    /**
     * The size the data volume's claim asks for, with filesystem storage.
     * @default "10Gi"
     */
    readonly storageSize?: string;
    /**
     * CPU and memory per role.
     * @default each role's defaults (see {@link KubernetesResources})
     */
    readonly resources?: KubernetesResources;
    /**
     * The cluster's DNS domain, which the proxy's upstream names end in.
     * @default "cluster.local"
     */
    readonly clusterDomain?: string;
    /**
     * The cluster's DNS service, which nginx asks for its upstreams' addresses on every request.
     * @default "kube-dns.kube-system.svc.cluster.local"
     */
    readonly dnsService?: string;
}

/** Every key of {@link KubernetesRuntime}. */
export const kubernetesSettingsKeys = keysOf<KubernetesRuntime>()([
    "namespace",
    "replicas",
    "serviceType",
    "nodePort",
    "storageClass",
    "storageSize",
    "resources",
    "clusterDomain",
    "dnsService",
]);
const replicaKeys = keysOf<KubernetesReplicas>()(["proxy", "registry", "tokenService"]);
const resourceKeys = keysOf<KubernetesResources>()(["proxy", "registry", "tokenService"]);
const roleResourceKeys = keysOf<RoleResources>()(["requests", "limits"]);
const quantityKeys = keysOf<ResourceQuantities>()(["cpu", "memory"]);

/** The defaults of the Kubernetes runtime, defined once. */
export const kubernetesDefaults = {
    replicas: 2,
    /** A filesystem volume is attached to one node at a time: one registry pod writes it. */
    filesystemRegistryReplicas: 1,
    serviceType: KubernetesServiceType.ClusterIP,
    storageSize: "10Gi",
    clusterDomain: "cluster.local",
    dnsService: "kube-dns.kube-system.svc.cluster.local",
    resources: {
        proxy: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
        registry: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "1Gi" } },
        tokenService: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
    },
} as const;

/** The node port range Kubernetes allocates from unless its API server is told otherwise. */
export const nodePortRange = { min: 30000, max: 32767 } as const;

/** {@link KubernetesRuntime} checked, with defaults. */
export interface CheckedKubernetesSettings {
    /** The namespace given, or undefined to make one named after the component. */
    readonly namespace: string | undefined;
    readonly replicas: Required<KubernetesReplicas>;
    readonly serviceType: KubernetesServiceType;
    /** The node port with `NodePort`; undefined otherwise. */
    readonly nodePort: number | undefined;
    readonly storageClass: string | undefined;
    readonly storageSize: string;
    readonly resources: Required<{ [role in keyof KubernetesResources]: RoleResources }>;
    readonly clusterDomain: string;
    readonly dnsService: string;
}

/** An RFC 1123 label, what Kubernetes names namespaces and Services by. */
const dnsLabelPattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A CPU quantity: cores (`1`, `0.5`) or millicores (`250m`). */
const cpuPattern = /^(?:[0-9]+(?:\.[0-9]+)?|[0-9]+m)$/;
/** A memory quantity: bytes, with a binary (`Mi`, `Gi`) or decimal (`M`, `G`) suffix. */
const memoryPattern = /^[0-9]+(?:\.[0-9]+)?(?:[KMGTPE]i?|k)?$/;

/** A Kubernetes name of one DNS label: a namespace, a Service. */
export function validateDnsLabel(field: string, value: unknown, what: string): string {
    if (typeof value !== "string" || !dnsLabelPattern.test(value)) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not ${what}; expected 1 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit`,
        );
    }
    return value;
}

function validateQuantity(field: string, value: unknown, pattern: RegExp, expected: string): string {
    if (typeof value !== "string" || !pattern.test(value)) {
        throw new InvalidArgumentError(field, `${describe(value)} is not a quantity; expected ${expected}`);
    }
    return value;
}

function validateQuantities(field: string, value: unknown): ResourceQuantities {
    const given = checkKnownKeys(field, value, quantityKeys, "a resource", "{cpu?, memory?}");
    return {
        ...(given.cpu === undefined
            ? {}
            : { cpu: validateQuantity(`${field}.cpu`, given.cpu, cpuPattern, "cores (1, 0.5) or millicores (250m)") }),
        ...(given.memory === undefined
            ? {}
            : { memory: validateQuantity(`${field}.memory`, given.memory, memoryPattern, "bytes with a suffix such as 128Mi or 1Gi") }),
    };
}

function validateRoleResources(field: string, value: unknown, fallback: RoleResources): RoleResources {
    if (value === undefined) return fallback;
    const given = checkKnownKeys(field, value, roleResourceKeys, "a resource setting", "{requests?, limits?}");
    return {
        ...(given.requests === undefined ? {} : { requests: validateQuantities(`${field}.requests`, given.requests) }),
        ...(given.limits === undefined ? {} : { limits: validateQuantities(`${field}.limits`, given.limits) }),
    };
}

function validateNodePort(field: string, value: unknown): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < nodePortRange.min || value > nodePortRange.max) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not a node port; expected an integer from ${nodePortRange.min} to ${nodePortRange.max}, the range Kubernetes allocates node ports from`,
        );
    }
    return value;
}

function validateDomainSetting(field: string, value: unknown, what: string): string {
    if (typeof value !== "string" || !isDnsName(value)) {
        throw new InvalidArgumentError(field, `${describe(value)} is not ${what}; expected a DNS name such as cluster.local`);
    }
    return value;
}

/**
 * Checks the Kubernetes runtime's settings (named `field`), filling in the defaults. `storage`
 * and `port` are the shared arguments': with filesystem storage one registry pod at most, and
 * a node port defaults to `port`.
 */
export function checkKubernetesSettings(
    field: string,
    value: unknown,
    shared?: { storage: CheckedStorage; port: number },
): CheckedKubernetesSettings {
    const given = checkKnownKeys(
        field,
        value ?? {},
        kubernetesSettingsKeys,
        "a kubernetes setting",
        `{${kubernetesSettingsKeys.map((key) => `${key}?`).join(", ")}}`,
    );
    const filesystem = shared?.storage.kind === StorageKind.Filesystem;
    const replicasGiven = checkKnownKeys(
        `${field}.replicas`,
        given.replicas ?? {},
        replicaKeys,
        "a role",
        "a map, {proxy?, registry?, tokenService?}",
    );
    const count = (key: keyof KubernetesReplicas, fallback: number) =>
        validateReplicas(`${field}.replicas.${key}`, replicasGiven[key] ?? fallback);
    const replicas = {
        proxy: count("proxy", kubernetesDefaults.replicas),
        registry: count("registry", filesystem ? kubernetesDefaults.filesystemRegistryReplicas : kubernetesDefaults.replicas),
        tokenService: count("tokenService", kubernetesDefaults.replicas),
    };
    if (filesystem && replicas.registry > 1) {
        throw new InvalidArgumentError(
            `${field}.replicas.registry`,
            `is ${replicas.registry}, but filesystem storage is one volume that one pod writes; set it to 1, or use storage kind s3, which every pod sees`,
        );
    }
    const serviceType = validateOneOf(
        `${field}.serviceType`,
        given.serviceType ?? kubernetesDefaults.serviceType,
        KubernetesServiceType,
        "a Service type",
    );
    if (given.nodePort !== undefined && serviceType !== KubernetesServiceType.NodePort) {
        throw new InvalidArgumentError(`${field}.nodePort`, `applies to serviceType NodePort only; set serviceType: NodePort or remove it`);
    }
    let nodePort: number | undefined;
    if (serviceType === KubernetesServiceType.NodePort) {
        const port = shared?.port;
        if (given.nodePort === undefined && port !== undefined && (port < nodePortRange.min || port > nodePortRange.max)) {
            throw new InvalidArgumentError(
                `${field}.nodePort`,
                `is unset, so it would be port ${port}, which is not in the node port range ${nodePortRange.min}-${nodePortRange.max}; ` +
                    "set it, or set port to a node port (clients name the registry domain:port)",
            );
        }
        nodePort = given.nodePort === undefined ? port : validateNodePort(`${field}.nodePort`, given.nodePort);
    }
    const onFilesystemOnly = (key: "storageClass" | "storageSize") => {
        if (given[key] !== undefined && shared !== undefined && !filesystem) {
            throw new InvalidArgumentError(
                `${field}.${key}`,
                "applies to filesystem storage only; remove it, or use storage kind filesystem",
            );
        }
    };
    onFilesystemOnly("storageClass");
    onFilesystemOnly("storageSize");
    const resourcesGiven = checkKnownKeys(
        `${field}.resources`,
        given.resources ?? {},
        resourceKeys,
        "a role",
        "a map, {proxy?, registry?, tokenService?}",
    );
    const resources = (key: keyof KubernetesResources) =>
        validateRoleResources(`${field}.resources.${key}`, resourcesGiven[key], kubernetesDefaults.resources[key]);
    return {
        namespace: given.namespace === undefined ? undefined : validateDnsLabel(`${field}.namespace`, given.namespace, "a namespace"),
        replicas,
        serviceType,
        nodePort,
        storageClass:
            given.storageClass === undefined
                ? undefined
                : validateDomainSetting(`${field}.storageClass`, given.storageClass, "a StorageClass name"),
        storageSize: validateQuantity(
            `${field}.storageSize`,
            given.storageSize ?? kubernetesDefaults.storageSize,
            memoryPattern,
            "bytes with a suffix such as 10Gi",
        ),
        resources: { proxy: resources("proxy"), registry: resources("registry"), tokenService: resources("tokenService") },
        clusterDomain: validateDomainSetting(
            `${field}.clusterDomain`,
            given.clusterDomain ?? kubernetesDefaults.clusterDomain,
            "a cluster domain",
        ),
        dnsService: validateDomainSetting(`${field}.dnsService`, given.dnsService ?? kubernetesDefaults.dnsService, "a DNS service name"),
    };
}
