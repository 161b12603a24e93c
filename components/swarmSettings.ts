import { RegistryStorage, StorageKind } from "./storage";
import { describe, InvalidArgumentError, validateOneOf } from "./validation";

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
    if (value === undefined) value = {};
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new InvalidArgumentError(field, `${describe(value)} is not a map; expected {proxy?, registry?, tokenService?}`);
    }
    const given = value as Record<string, unknown>;
    const known = ["proxy", "registry", "tokenService"];
    const unknown = Object.keys(given).find((key) => !known.includes(key));
    if (unknown !== undefined) {
        throw new InvalidArgumentError(`${field}.${unknown}`, `is not a role; expected one of ${known.join(", ")}`);
    }
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
export function checkStoragePlacement(storage: RegistryStorage, constraints: readonly string[]): void {
    if (storage.kind === StorageKind.Filesystem && !constraints.some((constraint) => oneNodePattern.test(constraint))) {
        throw new InvalidArgumentError(
            "constraints",
            "must pin every task to one node (node.hostname==NAME or node.id==ID) with filesystem storage, whose volume is local to a node; " +
                "or use storage kind s3, which every node sees",
        );
    }
}
