import { createHash } from "crypto";
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { componentLabels, logSettings } from "../containerSettings";
import { RoleSpec } from "../roles/spec";

/** How Swarm finds a service's tasks: a virtual IP balanced by IPVS, or DNS round robin. */
export type EndpointMode = "vip" | "dnsrr";

/** Where and how one role's service runs on a swarm. */
export interface ServicePlacement {
    /** The service's name in the swarm; also its DNS name on the overlay network. */
    readonly serviceName: string;
    /** The `authenticated-registry.instance` label value. */
    readonly instance: string;
    /** The overlay networks its tasks join, by name or ID. */
    readonly networks: pulumi.Input<string>[];
    /** How many tasks, or `global` for one on every node the constraints allow. */
    readonly replicas: number | "global";
    /** Placement constraints, e.g. `node.role==manager`. */
    readonly constraints: string[];
    readonly endpointMode: EndpointMode;
    /** Ports published on the nodes. */
    readonly ports?: docker.types.input.ServiceEndpointSpecPort[];
    /** Volumes mounted into each task. */
    readonly mounts?: docker.types.input.ServiceTaskSpecContainerSpecMount[];
}

/** How many characters of a file's SHA-256 name its Swarm object. */
const contentHashLength = 12;

/**
 * The Swarm object name of a file: the service, the file's name and a hash of its content.
 * Swarm secrets and configs cannot change, so new content is a new object: its resource is
 * replaced (the new one made first), the service rolls onto it, and the old one, no longer
 * referenced, is removed. The hash is of high-entropy material (keys, bcrypt hashes), and
 * only a prefix is used.
 */
export function swarmObjectName(serviceName: string, filePath: string, content: string): string {
    const digest = createHash("sha256").update(content).digest("hex").slice(0, contentHashLength);
    return `${serviceName}-${path.basename(filePath).replace(/[^A-Za-z0-9_.-]/g, "-")}-${digest}`;
}

/** `NAME=value` entries as Swarm's environment map; secret entries make the map secret. */
function environmentMap(entries: pulumi.Input<string>[]): pulumi.Input<Record<string, string>> {
    return pulumi
        .all(entries)
        .apply((resolved) =>
            Object.fromEntries(resolved.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)])),
        );
}

/**
 * The update and rollback policy: one task at a time, the new task started (and healthy)
 * before the old one stops, so a change never leaves a role without a serving task; a task
 * that fails its health check within the monitor period rolls the service back.
 */
export const rollingUpdate = {
    parallelism: 1,
    order: "start-first",
    failureAction: "rollback",
    monitor: "5s",
    delay: "1s",
} as const;

/**
 * One role as a `docker.Service`: files as Swarm secrets (secret ones) and configs (the rest),
 * named by content; the role's probe as the tasks' health check, which start-first waits on.
 * `pulumi up` waits until the service has converged.
 */
export function roleService(name: string, spec: RoleSpec, placement: ServicePlacement, parent: pulumi.Resource): docker.Service {
    const labels = [...componentLabels(placement.instance, spec.role), ...spec.labels];
    const files = spec.files.map((file) => {
        const objectName = pulumi.output(file.content).apply((content) => swarmObjectName(placement.serviceName, file.path, content));
        const data = pulumi.output(file.content).apply((content) => Buffer.from(content).toString("base64"));
        const resourceName = `${name}-${path.basename(file.path).replace(/[^A-Za-z0-9-]/g, "-")}`;
        if (file.secret) {
            const secret = new docker.Secret(
                resourceName,
                { name: objectName, data: pulumi.secret(data), labels },
                { parent, additionalSecretOutputs: ["data"] },
            );
            return { kind: "secret" as const, file, id: secret.id, name: secret.name };
        }
        const config = new docker.ServiceConfig(resourceName, { name: objectName, data, labels }, { parent });
        return { kind: "config" as const, file, id: config.id, name: config.name };
    });
    const mode = (file: { mode: string }) => parseInt(file.mode, 8);

    return new docker.Service(
        name,
        {
            name: placement.serviceName,
            labels,
            mode: placement.replicas === "global" ? { global: true } : { replicated: { replicas: placement.replicas } },
            taskSpec: {
                containerSpec: {
                    image: spec.image,
                    ...(spec.command === undefined ? {} : { commands: spec.command }),
                    ...(spec.env.length === 0 ? {} : { env: environmentMap(spec.env) }),
                    secrets: files
                        .filter((file) => file.kind === "secret")
                        .map((file) => ({ secretId: file.id, secretName: file.name, fileName: file.file.path, fileMode: mode(file.file) })),
                    configs: files
                        .filter((file) => file.kind === "config")
                        .map((file) => ({ configId: file.id, configName: file.name, fileName: file.file.path, fileMode: mode(file.file) })),
                    ...(placement.mounts === undefined ? {} : { mounts: placement.mounts }),
                    healthcheck: { tests: ["CMD", ...spec.healthCommand], interval: "1s", timeout: "5s", retries: 3, startPeriod: "10s" },
                    ...(spec.stopSignal === undefined ? {} : { stopSignal: spec.stopSignal }),
                    // Long enough for a blob download in flight to finish on SIGQUIT.
                    stopGracePeriod: "30s",
                    labels,
                },
                networksAdvanceds: placement.networks.map((network) => ({ name: network })),
                placement: { constraints: placement.constraints },
                restartPolicy: { condition: "any", delay: "1s" },
                logDriver: { name: logSettings.logDriver, options: logSettings.logOpts },
            },
            endpointSpec: { mode: placement.endpointMode, ...(placement.ports === undefined ? {} : { ports: placement.ports }) },
            updateConfig: rollingUpdate,
            rollbackConfig: rollingUpdate,
            convergeConfig: { delay: "1s", timeout: "3m" },
        },
        { parent },
    );
}
