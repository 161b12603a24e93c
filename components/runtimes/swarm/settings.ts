/** The swarm runtime's settings: how many tasks, where they run, how the port is published. */
import { defaults } from "../../defaults";
import { CheckedStorage, StorageKind } from "../../storage";
import { checkKnownKeys, describe, InvalidArgumentError, keysOf, validateImageReference, validateOneOf } from "../../validation";

/** How the HTTPS port reaches the proxy's tasks. */
export const PublishMode = {
    /**
     * Swarm's routing mesh: every node answers on the port and IPVS balances over the proxy's
     * tasks. Needs IPVS in the nodes' kernels.
     */
    Ingress: "ingress",
    /**
     * Each node publishes the port itself, held by a TCP edge (one task per node) that passes
     * TLS through to the proxy's tasks. Works without IPVS.
     */
    Host: "host",
} as const;
/** One of {@link PublishMode}'s values. */
export type PublishMode = (typeof PublishMode)[keyof typeof PublishMode];

/** How many tasks each role runs. */
export interface SwarmReplicas {
    /**
     * nginx tasks.
     * @default 2
     */
    readonly proxy?: number;
    /**
     * Registry tasks.
     * @default 2
     */
    readonly registry?: number;
    /**
     * Token service tasks, in token mode.
     * @default 2
     */
    readonly tokenService?: number;
}

const replicaKeys = keysOf<SwarmReplicas>()(["proxy", "registry", "tokenService"]);

/** The most tasks of one role this package will ask Swarm for. */
export const maxReplicas = 32;

/** A task count from 1 to {@link maxReplicas}. */
export function validateReplicas(field: string, value: unknown): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > maxReplicas) {
        throw new InvalidArgumentError(field, `${describe(value)} is not a task count; expected an integer from 1 to ${maxReplicas}`);
    }
    return value;
}

/** Checks {@link SwarmReplicas}, filling in the defaults. */
export function validateSwarmReplicas(field: string, value: unknown, defaultReplicas: number): Required<SwarmReplicas> {
    const given = checkKnownKeys(field, value ?? {}, replicaKeys, "a role", "a map, {proxy?, registry?, tokenService?}");
    const count = (key: string) => validateReplicas(`${field}.${key}`, given[key] ?? defaultReplicas);
    return { proxy: count("proxy"), registry: count("registry"), tokenService: count("tokenService") };
}

/** `node.hostname==NAME`, `node.labels.zone != a`: Swarm's placement constraint grammar. */
const constraintPattern = /^[A-Za-z][A-Za-z0-9_.-]*\s*(==|!=)\s*[^\s=!]+$/;
/** A constraint that pins tasks to one node. */
const oneNodePattern = /^node\.(hostname|id)\s*==\s*\S+$/;

/** Placement constraints, each `ATTRIBUTE==VALUE` or `ATTRIBUTE!=VALUE`. */
export function validateConstraints(field: string, value: unknown): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
        throw new InvalidArgumentError(field, `${describe(value)} is not a list; expected constraints such as ["node.role==manager"]`);
    }
    return value.map((constraint, index) => {
        if (typeof constraint !== "string" || !constraintPattern.test(constraint.trim())) {
            throw new InvalidArgumentError(
                `${field}[${index}]`,
                `${describe(constraint)} is not a placement constraint; expected ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, such as node.role==manager`,
            );
        }
        return constraint.trim();
    });
}

/** `ingress` or `host`. */
export function validatePublishMode(field: string, value: unknown): PublishMode {
    return validateOneOf(field, value, PublishMode, "a publish mode");
}

/**
 * Filesystem storage is a local volume, which every node has its own of: replicas on two nodes
 * would each see other images. It is accepted only when the constraints pin every task to one
 * node; anything wider needs object storage.
 */
export function checkStoragePlacement(field: string, storage: CheckedStorage, constraints: readonly string[]): void {
    if (storage.kind === StorageKind.Filesystem && !constraints.some((constraint) => oneNodePattern.test(constraint))) {
        throw new InvalidArgumentError(
            field,
            "must pin every task to one node (node.hostname==NAME or node.id==ID) with filesystem storage, whose volume is local to a node; " +
                "or use storage kind s3, which every node sees",
        );
    }
}

/** Tasks of each role unless `replicas` says otherwise: one can fail or roll while the other serves. */
export const defaultSwarmReplicas = 2;

/** Settings of the `swarm` runtime: the registry as replicated Docker Swarm services. */
export interface SwarmRuntime {
    /**
     * Tasks per role.
     * @default { proxy: 2, registry: 2, tokenService: 2 }
     */
    readonly replicas?: SwarmReplicas;
    /**
     * Placement constraints of every service, e.g. `node.labels.registry==true`. With
     * filesystem storage they must pin the tasks to one node (`node.hostname==NAME`).
     * @default [] (any node)
     */
    readonly constraints?: string[];
    /**
     * How the HTTPS port is published: `ingress` (the routing mesh, which needs IPVS on the
     * nodes) or `host` (each node's own port, held by a TCP edge in front of the proxy's tasks).
     * @default "ingress"
     */
    readonly publishMode?: PublishMode;
    /**
     * The image of the edge in host mode: nginx with its stream module. Kept apart from
     * `nginxImage`, so that a new proxy image rolls without touching the edge, which holds the
     * node's port and so is replaced stop-first (a moment without the port on that node).
     * @default "nginx:1.28.0" (the package's pinned nginx)
     */
    readonly edgeImage?: string;
}

/** @deprecated Renamed {@link SwarmRuntime} in 0.3, which every Pulumi language's schema names without a doubled `Args`. */
export type SwarmRuntimeArgs = SwarmRuntime;

/** Every key of {@link SwarmRuntime}. */
export const swarmSettingsKeys = keysOf<SwarmRuntime>()(["replicas", "constraints", "publishMode", "edgeImage"]);

/** {@link SwarmRuntime} checked, with defaults. */
export interface CheckedSwarmSettings {
    readonly replicas: Required<SwarmReplicas>;
    readonly constraints: string[];
    readonly publishMode: PublishMode;
    readonly edgeImage: string;
}

/** Checks the swarm runtime's settings (named `field`), filling in the defaults. */
export function checkSwarmSettings(field: string, value: unknown): CheckedSwarmSettings {
    const given = checkKnownKeys(
        field,
        value ?? {},
        swarmSettingsKeys,
        "a swarm setting",
        "{replicas?, constraints?, publishMode?, edgeImage?}",
    );
    return {
        replicas: validateSwarmReplicas(`${field}.replicas`, given.replicas, defaultSwarmReplicas),
        constraints: validateConstraints(`${field}.constraints`, given.constraints),
        publishMode: validatePublishMode(`${field}.publishMode`, given.publishMode ?? PublishMode.Ingress),
        edgeImage: validateImageReference(`${field}.edgeImage`, given.edgeImage ?? defaults.nginxImage),
    };
}
