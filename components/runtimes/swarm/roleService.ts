import { createHash } from "crypto";
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { labelKeys } from "../../defaults";
import { RoleFile, RoleSpec } from "../../roles/spec";
import { componentLabels, healthCheck, logSettings } from "../docker";

/** How Swarm finds a service's tasks: a virtual IP balanced by IPVS, or DNS round robin. */
export type EndpointMode = "vip" | "dnsrr";

/** Where and how one role's service runs on a swarm. */
export interface ServicePlacement {
    /** The service's name in the swarm; also its DNS name on the overlay network. */
    readonly serviceName: string;
    /** The `authenticated-registry.instance` label value. */
    readonly instance: string;
    /** The overlay networks its tasks join, by ID (a name would read as a change on every preview). */
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
 * The Swarm object name of a file: the service, the file's name and a hash of its content and
 * labels. Swarm secrets and configs cannot change, so any change is a new object under a new
 * name: its resource is replaced (the new one made first), the service rolls onto it, and the
 * old one, no longer referenced, is removed. The hash is of high-entropy material (keys, bcrypt
 * hashes), and only a prefix is used.
 */
export function swarmObjectName(
    serviceName: string,
    filePath: string,
    content: string,
    labels: readonly { label: string; value: string }[] = [],
): string {
    const digest = createHash("sha256")
        .update(JSON.stringify([content, labels]))
        .digest("hex")
        .slice(0, contentHashLength);
    return `${serviceName}-${path.basename(filePath).replace(/[^A-Za-z0-9_.-]/g, "-")}-${digest}`;
}

/** A `NAME=value` entry as its name and value. */
export function splitEntry(entry: string): [string, string] {
    const at = entry.indexOf("=");
    return [entry.slice(0, at), entry.slice(at + 1)];
}

/** `NAME=value` entries as Swarm's environment map. */
function environmentMap(entries: string[]): Record<string, string> {
    return Object.fromEntries(entries.map(splitEntry));
}

/** `NAME=value` as a shell assignment, the value single-quoted. */
export function shellAssignment(entry: string): string {
    const [name, value] = splitEntry(entry);
    return `${name}='${value.replace(/'/g, `'\\''`)}'`;
}

/** Where a role's secret environment is mounted, as a Swarm secret. */
export const secretEnvironmentPath = "/run/secrets/environment";

/**
 * Secret environment entries go into a Swarm secret the task's shell reads before it starts the
 * image's own command, so the service's definition (and a preview of it) holds no secret and
 * stays readable; plain entries stay in the service's environment.
 */
function splitEnvironment(spec: RoleSpec): { plain: string[]; files: RoleFile[]; commands?: string[] } {
    const plain = spec.env.filter((entry): entry is string => typeof entry === "string");
    const secret = spec.env.filter((entry) => typeof entry !== "string");
    if (secret.length === 0) return { plain, files: spec.files, commands: spec.command };
    if (spec.start === undefined) {
        throw new Error(`the ${spec.role} role has secret environment but no start command to run after reading it`);
    }
    const content = pulumi.secret(pulumi.all(secret).apply((entries) => entries.map((entry) => `${shellAssignment(entry)}\n`).join("")));
    return {
        plain,
        files: [...spec.files, { path: secretEnvironmentPath, content, secret: true, mode: "0400" }],
        commands: ["/bin/sh", "-c", 'set -a && . "$0" && set +a && exec "$@"', secretEnvironmentPath, ...spec.start],
    };
}

/**
 * The update and rollback policy: one task at a time, in the order {@link updateOrder} gives
 * (start-first: the new task started, and healthy, before the old one stops, so a change never
 * leaves a role without a serving task); a task that fails its health check within the monitor
 * period rolls the service back.
 */
export const rollingUpdate = {
    parallelism: 1,
    failureAction: "rollback",
    monitor: "5s",
    delay: "1s",
} as const;

/** A rollback goes the same way, and pauses if it fails too, for someone to look. */
export const rollingRollback = { ...rollingUpdate, failureAction: "pause" } as const;

/**
 * A task that publishes a port in host mode holds that port on its node, so its successor cannot
 * start beside it there: such services update stop-first, everything else start-first.
 */
export function updateOrder(ports: readonly docker.types.input.ServiceEndpointSpecPort[] | undefined): "start-first" | "stop-first" {
    return (ports ?? []).some((port) => port.publishMode === "host") ? "stop-first" : "start-first";
}

/**
 * One role as a `docker.Service`: files as Swarm secrets (secret ones) and configs (the rest),
 * named by content; the role's probe as the tasks' health check, which start-first waits on.
 * `pulumi up` waits until a replicated service has converged.
 */
export function roleService(
    name: string,
    spec: RoleSpec,
    placement: ServicePlacement,
    parent: pulumi.Resource,
    opts?: Pick<pulumi.CustomResourceOptions, "dependsOn">,
): docker.Service {
    const labels = [...componentLabels(placement.instance, spec.role), ...spec.labels];
    const environment = splitEnvironment(spec);
    const files = environment.files.map((file) => {
        // Where the file belongs, and nothing that changes with other settings (such as grants).
        const objectLabels = [...componentLabels(placement.instance, spec.role), { label: labelKeys.file, value: file.path }];
        // A name is no secret: a hash prefix of high-entropy content; unmarked, the service that
        // names it stays readable in previews.
        const objectName = pulumi.unsecret(
            pulumi.output(file.content).apply((content) => swarmObjectName(placement.serviceName, file.path, content, objectLabels)),
        );
        const data = pulumi.output(file.content).apply((content) => Buffer.from(content).toString("base64"));
        const resourceName = `${name}-${path.basename(file.path).replace(/[^A-Za-z0-9-]/g, "-")}`;
        if (file.secret) {
            const secret = new docker.Secret(
                resourceName,
                { name: objectName, data: pulumi.secret(data), labels: objectLabels },
                { parent, additionalSecretOutputs: ["data"], deleteBeforeReplace: false },
            );
            return { kind: "secret" as const, file, id: secret.id, name: secret.name };
        }
        const config = new docker.ServiceConfig(
            resourceName,
            { name: objectName, data, labels: objectLabels },
            { parent, deleteBeforeReplace: false },
        );
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
                    ...(environment.commands === undefined ? {} : { commands: environment.commands }),
                    // Empty rather than left out: the provider reads an absent map back as empty, a change on every preview.
                    env: environmentMap(environment.plain),
                    sysctl: {},
                    secrets: files
                        .filter((file) => file.kind === "secret")
                        .map((file) => ({ secretId: file.id, secretName: file.name, fileName: file.file.path, fileMode: mode(file.file) })),
                    configs: files
                        .filter((file) => file.kind === "config")
                        .map((file) => ({ configId: file.id, configName: file.name, fileName: file.file.path, fileMode: mode(file.file) })),
                    ...(placement.mounts === undefined ? {} : { mounts: placement.mounts }),
                    healthcheck: healthCheck(spec.healthCommand),
                    ...(spec.stopSignal === undefined ? {} : { stopSignal: spec.stopSignal }),
                    // Long enough for a blob download in flight to finish on SIGQUIT.
                    stopGracePeriod: "30s",
                    labels,
                },
                networksAdvanceds: placement.networks.map((network) => ({ id: network })),
                placement: { constraints: placement.constraints },
                restartPolicy: { condition: "any", delay: "1s", window: "0s" },
                logDriver: { name: logSettings.logDriver, options: logSettings.logOpts },
            },
            endpointSpec: { mode: placement.endpointMode, ...(placement.ports === undefined ? {} : { ports: placement.ports }) },
            updateConfig: { ...rollingUpdate, order: updateOrder(placement.ports) },
            rollbackConfig: { ...rollingRollback, order: updateOrder(placement.ports) },
            // Replicated services only: the provider cannot tell when a global one has converged.
            ...(placement.replicas === "global" ? {} : { convergeConfig: { delay: "1s", timeout: "3m" } }),
        },
        { parent, ...opts },
    );
}
