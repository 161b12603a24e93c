/**
 * One role of the plan as Kubernetes objects: a Deployment that rolls one pod at a time with
 * none unavailable, its files in a Secret (secret files and environment) and a ConfigMap (the
 * rest) named by content, a Service, a PodDisruptionBudget and a NetworkPolicy.
 */
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { labelKeys } from "../../defaults";
import { RoleFile, RoleSpec } from "../../roles/spec";
import { splitEntry, swarmObjectName } from "../swarm/roleService";
import { filePathsAnnotation } from "./inspection";
import { RoleResources } from "./settings";

/** The labels by which a role's pods are selected: its instance and role. */
export function selectorLabels(instance: string, role: string): Record<string, string> {
    return { [labelKeys.instance]: instance, [labelKeys.role]: role };
}

/**
 * Every object's labels: its instance, its role (a role's objects only; the namespace and the
 * data claim, which the roles share, have none), and Kubernetes' recommended ones.
 */
export function objectLabels(instance: string, role?: string): Record<string, string> {
    return {
        [labelKeys.instance]: instance,
        ...(role === undefined ? {} : { [labelKeys.role]: role, "app.kubernetes.io/component": role }),
        "app.kubernetes.io/name": "authenticated-registry",
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/managed-by": "pulumi",
    };
}

/** How a role's process runs as an unprivileged user on a read-only root file system. */
export interface PodSecurity {
    /** The user and group it runs as, and the group its files and volumes belong to. */
    readonly user: number;
    /** Directories it writes to, each an empty directory of the pod's own. */
    readonly writablePaths: readonly string[];
    /**
     * Whether it listens on a port below 1024 (nginx's 443), which the pod's
     * `net.ipv4.ip_unprivileged_port_start` then opens to unprivileged users.
     */
    readonly lowPort: boolean;
}

/** Where and how one role's Deployment runs. */
export interface WorkloadPlacement {
    /** The Deployment's and its Service's name. */
    readonly workloadName: string;
    readonly namespace: pulumi.Input<string>;
    /** The `authenticated-registry.instance` label value. */
    readonly instance: string;
    readonly replicas: number;
    readonly resources: RoleResources;
    readonly security: PodSecurity;
    /** The Service: its type, its port (the container's unless given) and a node port. */
    readonly service: { type: string; port: number; nodePort?: number };
    /** Roles whose pods may connect to this one; undefined lets anyone connect (the proxy). */
    readonly reachableFrom: readonly string[] | undefined;
    readonly health: HttpHealth;
    /** The claim mounted where the role keeps data, if any. */
    readonly dataClaim?: { claimName: pulumi.Input<string>; mountPath: string };
}

/** The role's objects, for dependencies and outputs. */
export interface RoleWorkload {
    readonly deployment: k8s.apps.v1.Deployment;
    readonly service: k8s.core.v1.Service;
}

/** A file's key in its Secret or ConfigMap: its name, which is unique within a role. */
function fileKey(file: RoleFile): string {
    return path.basename(file.path).replace(/[^A-Za-z0-9._-]/g, "-");
}

/** Where the role reads each file of a Secret or ConfigMap, for the policy pack. */
function filePaths(files: readonly RoleFile[]): Record<string, string> {
    return { [filePathsAnnotation]: JSON.stringify(Object.fromEntries(files.map((file) => [fileKey(file), file.path]))) };
}

/** The seconds a pod keeps serving after it is told to stop, while the Service's endpoints let it go. */
export const endpointDrainSeconds = 3;

/**
 * Before a pod stops: wait until the Service no longer sends it new connections, then stop the
 * process gracefully (`stopSignal`, nginx's SIGQUIT, finishes the requests it has) and wait for it.
 */
function preStopCommand(spec: RoleSpec): string[] {
    const stop =
        spec.stopSignal === undefined
            ? ""
            : ` && kill -s ${spec.stopSignal.replace(/^SIG/, "")} 1 && while kill -0 1 2>/dev/null; do sleep 1; done`;
    return ["/bin/sh", "-c", `sleep ${endpointDrainSeconds}${stop}`];
}

/**
 * Where the kubelet asks a role's process whether it serves (readiness: the Service sends it
 * requests) and whether it lives (liveness: else it is restarted). HTTP GETs to its own port,
 * rather than the container runtimes' health commands: no process is started for a probe.
 */
export interface HttpHealth {
    readonly scheme: "HTTP" | "HTTPS";
    readonly readinessPath: string;
    readonly livenessPath: string;
}

function httpProbe(health: HttpHealth, probePath: string, periodSeconds: number, failureThreshold: number): k8s.types.input.core.v1.Probe {
    return { httpGet: { path: probePath, port: "serve", scheme: health.scheme }, periodSeconds, timeoutSeconds: 5, failureThreshold };
}

/**
 * One role as a Deployment and its objects. Files and secret environment are a Secret and a
 * ConfigMap, immutable and named by a hash of their content: a change makes new ones, the
 * Deployment rolls onto them, and the old ones are deleted after it has.
 */
export function roleWorkload(
    name: string,
    spec: RoleSpec,
    placement: WorkloadPlacement,
    parent: pulumi.Resource,
    opts?: Pick<pulumi.CustomResourceOptions, "dependsOn">,
): RoleWorkload {
    const { workloadName, namespace, instance } = placement;
    const labels = objectLabels(instance, spec.role);
    const keys = new Set(spec.files.map(fileKey));
    if (keys.size !== spec.files.length) throw new Error(`the ${spec.role} role has two files of one name`);

    const plainEnv = spec.env.filter((entry): entry is string => typeof entry === "string").map(splitEntry);
    const secretEnv = spec.env.filter((entry) => typeof entry !== "string");
    const secretFiles = spec.files.filter((file) => file.secret);
    const plainFiles = spec.files.filter((file) => !file.secret);

    // Secret environment by variable name, secret files by file name.
    const secretData = pulumi
        .all([pulumi.all(secretEnv), pulumi.all(secretFiles.map((file) => file.content))])
        .apply(([entries, contents]) => ({
            ...Object.fromEntries(entries.map(splitEntry)),
            ...Object.fromEntries(secretFiles.map((file, i) => [fileKey(file), contents[i]])),
        }));
    const plainData = pulumi
        .all(plainFiles.map((file) => file.content))
        .apply((contents) => Object.fromEntries(plainFiles.map((file, i) => [fileKey(file), contents[i]])));
    // A name is no secret: a hash prefix of high-entropy content. Unmarked, the Deployment that
    // names it stays readable in previews.
    const contentName = (kind: string, data: pulumi.Output<Record<string, string>>) =>
        pulumi.unsecret(
            data.apply((content) =>
                swarmObjectName(
                    workloadName,
                    kind,
                    JSON.stringify(content),
                    Object.entries(labels).map(([label, value]) => ({ label, value })),
                ),
            ),
        );

    const hasSecret = secretEnv.length > 0 || secretFiles.length > 0;
    const secret = hasSecret
        ? new k8s.core.v1.Secret(
              `${name}-secret`,
              {
                  metadata: { name: contentName("secret", secretData), namespace, labels, annotations: filePaths(secretFiles) },
                  type: "Opaque",
                  immutable: true,
                  stringData: pulumi.secret(secretData),
              },
              // The provider's Secret keeps data and stringData as secret outputs itself.
              { parent },
          )
        : undefined;
    const config =
        plainFiles.length > 0
            ? new k8s.core.v1.ConfigMap(
                  `${name}-config`,
                  {
                      metadata: { name: contentName("config", plainData), namespace, labels, annotations: filePaths(plainFiles) },
                      immutable: true,
                      data: plainData,
                  },
                  { parent },
              )
            : undefined;

    const mode = (file: RoleFile) => parseInt(file.mode, 8);
    const volumes: k8s.types.input.core.v1.Volume[] = [];
    const mounts: k8s.types.input.core.v1.VolumeMount[] = [];
    if (secret !== undefined && secretFiles.length > 0) {
        volumes.push({
            name: "secret-files",
            secret: {
                secretName: secret.metadata.name,
                items: secretFiles.map((file) => ({ key: fileKey(file), path: fileKey(file), mode: mode(file) })),
            },
        });
        // Each file where the role reads it, beside what its image keeps in that directory.
        mounts.push(...secretFiles.map((file) => ({ name: "secret-files", mountPath: file.path, subPath: fileKey(file), readOnly: true })));
    }
    if (config !== undefined) {
        volumes.push({
            name: "files",
            configMap: {
                name: config.metadata.name,
                items: plainFiles.map((file) => ({ key: fileKey(file), path: fileKey(file), mode: mode(file) })),
            },
        });
        mounts.push(...plainFiles.map((file) => ({ name: "files", mountPath: file.path, subPath: fileKey(file), readOnly: true })));
    }
    placement.security.writablePaths.forEach((writable, i) => {
        volumes.push({ name: `writable-${i}`, emptyDir: {} });
        mounts.push({ name: `writable-${i}`, mountPath: writable });
    });
    if (placement.dataClaim !== undefined) {
        volumes.push({ name: "data", persistentVolumeClaim: { claimName: placement.dataClaim.claimName } });
        mounts.push({ name: "data", mountPath: placement.dataClaim.mountPath });
    }

    const env: k8s.types.input.core.v1.EnvVar[] = [
        ...plainEnv.map(([envName, value]) => ({ name: envName, value })),
        ...(secret === undefined
            ? []
            : secretEnv.map((entry) => {
                  // The variable's name is plain even when its value is a secret Output.
                  const envName = pulumi.unsecret(pulumi.output(entry).apply((value) => splitEntry(value)[0]));
                  return { name: envName, valueFrom: { secretKeyRef: { name: secret.metadata.name, key: envName } } };
              })),
    ];
    const user = placement.security.user;
    const annotations = Object.fromEntries(spec.labels.map(({ label, value }) => [label, value]));

    const deployment = new k8s.apps.v1.Deployment(
        name,
        {
            metadata: { name: workloadName, namespace, labels, annotations },
            spec: {
                replicas: placement.replicas,
                selector: { matchLabels: selectorLabels(instance, spec.role) },
                // A new pod serves before an old one stops: a change never leaves the role short.
                strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                template: {
                    metadata: { labels },
                    spec: {
                        // No process here talks to the Kubernetes API.
                        automountServiceAccountToken: false,
                        enableServiceLinks: false,
                        securityContext: {
                            runAsNonRoot: true,
                            runAsUser: user,
                            runAsGroup: user,
                            fsGroup: user,
                            seccompProfile: { type: "RuntimeDefault" },
                            ...(placement.security.lowPort
                                ? { sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }] }
                                : {}),
                        },
                        // Long enough for a blob download in flight to finish.
                        terminationGracePeriodSeconds: 30 + endpointDrainSeconds,
                        containers: [
                            {
                                name: spec.role,
                                image: spec.image,
                                imagePullPolicy: "IfNotPresent",
                                ...(spec.command === undefined ? {} : { args: spec.command }),
                                env,
                                ports: [{ name: "serve", containerPort: spec.listenPort, protocol: "TCP" }],
                                readinessProbe: httpProbe(placement.health, placement.health.readinessPath, 2, 2),
                                livenessProbe: httpProbe(placement.health, placement.health.livenessPath, 10, 3),
                                lifecycle: { preStop: { exec: { command: preStopCommand(spec) } } },
                                resources: {
                                    ...(placement.resources.requests === undefined
                                        ? {}
                                        : { requests: { ...placement.resources.requests } }),
                                    ...(placement.resources.limits === undefined ? {} : { limits: { ...placement.resources.limits } }),
                                },
                                securityContext: {
                                    allowPrivilegeEscalation: false,
                                    readOnlyRootFilesystem: true,
                                    privileged: false,
                                    capabilities: { drop: ["ALL"] },
                                },
                                volumeMounts: mounts,
                            },
                        ],
                        volumes,
                    },
                },
            },
        },
        { parent, ...opts },
    );

    const selector = selectorLabels(instance, spec.role);
    const service = new k8s.core.v1.Service(
        `${name}-service`,
        {
            metadata: { name: workloadName, namespace, labels },
            spec: {
                type: placement.service.type,
                selector,
                ports: [
                    {
                        name: "serve",
                        port: placement.service.port,
                        targetPort: "serve",
                        protocol: "TCP",
                        ...(placement.service.nodePort === undefined ? {} : { nodePort: placement.service.nodePort }),
                    },
                ],
            },
        },
        { parent, dependsOn: [deployment] },
    );

    // Voluntary evictions (a node drain) take one pod at a time; with two or more, one serves.
    new k8s.policy.v1.PodDisruptionBudget(
        `${name}-disruption`,
        { metadata: { name: workloadName, namespace, labels }, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
        { parent },
    );

    // Only the roles that send it requests reach a role; anyone reaches the proxy's port.
    new k8s.networking.v1.NetworkPolicy(
        `${name}-network-policy`,
        {
            metadata: { name: workloadName, namespace, labels },
            spec: {
                podSelector: { matchLabels: selector },
                policyTypes: ["Ingress"],
                ingress: [
                    {
                        ports: [{ port: spec.listenPort, protocol: "TCP" }],
                        ...(placement.reachableFrom === undefined
                            ? {}
                            : {
                                  from: placement.reachableFrom.map((role) => ({
                                      podSelector: { matchLabels: selectorLabels(instance, role) },
                                  })),
                              }),
                    },
                ],
            },
        },
        { parent },
    );

    return { deployment, service };
}
