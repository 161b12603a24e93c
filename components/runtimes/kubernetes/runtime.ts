/**
 * The Kubernetes runtime: every role a Deployment in one namespace, behind a Service that the
 * other roles reach by its cluster DNS name. Files are Secrets and ConfigMaps named by content,
 * so a change of a password, certificate or image rolls the role's pods, one new pod ready
 * before an old one stops. Only the proxy's pods reach the registry and the token service.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { roles } from "../../defaults";
import { healthPath, livenessPath } from "../../nginxConfig";
import { PlannedRole, processWord, processWords, RegistryPlan } from "../../plan/registryPlan";
import { registryDataPath } from "../../roles/registry";
import { CheckedMirror, mirrorRole } from "../../mirrors";
import type { CheckedRegistryArgs } from "../../registryArgs";
import { StorageKind } from "../../storage";
import { tokenHealthPath } from "../../tokenService/files";
import { InvalidArgumentError, describe } from "../../validation";
import { RegistryRuntime, RoleProcess, RuntimeContext, RuntimeDeployment, RuntimeFoundation, RuntimeKind } from "../runtime";
import { kubernetesInspection } from "./inspection";
import {
    CheckedKubernetesSettings,
    checkKubernetesSettings,
    KubernetesServiceType,
    kubernetesSettingsKeys,
    RoleResources,
} from "./settings";
import { HttpHealth, objectLabels, PodSecurity, roleWorkload } from "./workload";

/** Roles' users: nginx's and the others' unprivileged IDs in the official images. */
const users = { nginx: 101, other: 1000 } as const;

/**
 * How each role runs unprivileged on a read-only root file system: the directories it writes
 * (nginx its pid file, caches, temporary files and logs), and whether it listens below 1024.
 */
const podSecurity: Readonly<Record<string, PodSecurity>> = {
    [roles.proxy]: {
        user: users.nginx,
        writablePaths: ["/run", "/var/cache/nginx", "/var/lib/nginx", "/var/log/nginx", "/tmp"],
        lowPort: true,
    },
    [roles.registry]: { user: users.other, writablePaths: ["/tmp"], lowPort: false },
    [roles.tokenService]: { user: users.other, writablePaths: ["/tmp"], lowPort: false },
    [roles.guard]: { user: users.other, writablePaths: ["/tmp"], lowPort: false },
};

/** Where the kubelet probes each role: nginx's readiness follows the registry behind it, its liveness is its own. */
const roleHealth: Readonly<Record<string, HttpHealth>> = {
    [roles.proxy]: { scheme: "HTTPS", readinessPath: healthPath, livenessPath },
    [roles.registry]: { scheme: "HTTP", readinessPath: "/", livenessPath: "/" },
    [roles.tokenService]: { scheme: "HTTP", readinessPath: tokenHealthPath, livenessPath: tokenHealthPath },
    [roles.guard]: { scheme: "HTTP", readinessPath: tokenHealthPath, livenessPath: tokenHealthPath },
};

/** A Service's name: an RFC 1035 label (a letter first), at most 63 characters. */
const serviceNamePattern = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Every role's Deployment and Service name (`NAME-registry`, `NAME-mirror-hub`) is a Service name. */
function checkWorkloadNames(name: string, field: string, ownNamespace: boolean, mirrors: readonly CheckedMirror[]): void {
    const longest = `${name}-${processWords[roles.registry]}`;
    if (!serviceNamePattern.test(longest)) {
        throw new InvalidArgumentError(
            field,
            `the component's name ${describe(name)} makes Kubernetes names such as ${describe(longest)}, which are not Service names; ` +
                "name the component with lower-case letters, digits and hyphens, a letter first, at most 54 characters",
        );
    }
    mirrors.forEach((mirror, i) => {
        const workload = `${name}-${processWord(mirrorRole(mirror.name))}`;
        if (!serviceNamePattern.test(workload)) {
            throw new InvalidArgumentError(
                `mirrors[${i}].name`,
                `makes the Kubernetes name ${describe(workload)}, over 63 characters; shorten the mirror's name or the component's`,
            );
        }
    });
    if (ownNamespace && name.length > 63)
        throw new InvalidArgumentError(`${field}.namespace`, "is unset and the component's name is too long for one; set it");
}

/** The Kubernetes runtime bound to one registry, with checked settings. */
function kubernetesDeployment({ name, parent, shared }: RuntimeContext, settings: CheckedKubernetesSettings): RuntimeDeployment {
    const namespaceName = settings.namespace ?? name;
    const workloadName = (role: string) => `${name}-${processWord(role)}`;
    let namespace: pulumi.Input<string> = namespaceName;
    const replicas: Readonly<Record<string, number>> = {
        [roles.proxy]: settings.replicas.proxy,
        [roles.registry]: settings.replicas.registry,
        [roles.tokenService]: settings.replicas.tokenService,
        // One pod, so that its counts of failed logins and its hold on writes are whole.
        [roles.guard]: 1,
    };
    const resources: Readonly<Record<string, RoleResources>> = {
        [roles.proxy]: settings.resources.proxy,
        [roles.registry]: settings.resources.registry,
        [roles.tokenService]: settings.resources.tokenService,
        [roles.guard]: settings.resources.tokenService,
    };

    return {
        addressing: {
            // nginx's resolver takes no search domains: every upstream by its full name.
            hostOf: (role) => `${workloadName(role)}.${namespaceName}.svc.${settings.clusterDomain}`,
            metrics: false,
            resolver: settings.dnsService,
        },
        previousLocations: () => ({}),

        foundation(): RuntimeFoundation {
            if (settings.namespace === undefined) {
                const own = new k8s.core.v1.Namespace(
                    `${name}-namespace`,
                    { metadata: { name: namespaceName, labels: objectLabels(name) } },
                    { parent },
                );
                namespace = own.metadata.name;
            }
            const volume = shared.dataVolume;
            if (volume === undefined) return { networkName: pulumi.output(namespace), volumeName: undefined };
            // Kept on destroy unless asked, like the data volume on one host: it holds the images.
            const claim = new k8s.core.v1.PersistentVolumeClaim(
                `${name}-data`,
                {
                    metadata: {
                        name: volume.name ?? `${name}-data`,
                        namespace,
                        labels: objectLabels(name),
                        // It binds when its first pod is scheduled (WaitForFirstConsumer classes):
                        // the registry's Deployment, which waits on it, is what waits for that.
                        annotations: { "pulumi.com/skipAwait": "true" },
                    },
                    spec: {
                        accessModes: ["ReadWriteOnce"],
                        ...(settings.storageClass === undefined ? {} : { storageClassName: settings.storageClass }),
                        resources: { requests: { storage: settings.storageSize } },
                    },
                },
                { parent, retainOnDelete: !volume.deleteOnDestroy },
            );
            return { networkName: pulumi.output(namespace), volumeName: claim.metadata.name };
        },

        runRole(role: PlannedRole, plan: RegistryPlan, foundation: RuntimeFoundation, dependsOn: pulumi.Resource[]): RoleProcess {
            const label = role.spec.role;
            const kind = role.kind;
            const service = role.entry
                ? {
                      type: settings.serviceType,
                      port: plan.checked.port,
                      ...(settings.nodePort === undefined ? {} : { nodePort: settings.nodePort }),
                  }
                : { type: KubernetesServiceType.ClusterIP, port: role.spec.listenPort };
            const workload = roleWorkload(
                `${name}-${role.word}`,
                role.spec,
                {
                    workloadName: workloadName(label),
                    namespace: foundation.networkName,
                    instance: name,
                    replicas: replicas[kind],
                    resources: resources[kind],
                    security: podSecurity[kind],
                    health: roleHealth[kind],
                    service,
                    reachableFrom: role.entry ? undefined : [roles.proxy],
                    ...(role.storage && foundation.volumeName !== undefined
                        ? { dataClaim: { claimName: foundation.volumeName, mountPath: registryDataPath } }
                        : {}),
                },
                parent,
                dependsOn.length === 0 ? undefined : { dependsOn },
            );
            return { name: workload.deployment.metadata.name, resource: workload.deployment };
        },

        outputs: (processes) => ({
            kubernetesNamespace: pulumi.output(namespace),
            proxyDeploymentName: processes[roles.proxy],
            registryDeploymentName: processes[roles.registry],
            // In token mode the token service is the guard.
            guardDeploymentName: processes[roles.tokenService] ?? processes[roles.guard],
            ...(processes[roles.tokenService] === undefined ? {} : { tokenServiceDeploymentName: processes[roles.tokenService] }),
        }),
    };
}

/** The settings checked, against the shared arguments when given. */
function checkedSettings(field: string, value: unknown, shared?: CheckedRegistryArgs): CheckedKubernetesSettings {
    const settings = checkKubernetesSettings(field, value, shared);
    if (shared?.storage.kind === StorageKind.S3 && shared.storage.network !== undefined) {
        throw new InvalidArgumentError(
            "storage.network",
            "is a Docker network, which pods cannot join; remove it and give an endpoint the pods reach",
        );
    }
    return settings;
}

/** Deployments on a Kubernetes cluster. */
export const kubernetesRuntime: RegistryRuntime = {
    kind: RuntimeKind.Kubernetes,
    description: "Deployments on a Kubernetes cluster",
    settingsKeys: kubernetesSettingsKeys,
    inspection: kubernetesInspection,
    checkSettings: (field, settings, shared) => void checkedSettings(field, settings, shared),
    prepare(context) {
        const settings = checkedSettings(context.field, context.settings, context.shared);
        checkWorkloadNames(context.name, context.field, settings.namespace === undefined, context.shared.mirrors);
        return kubernetesDeployment(context, settings);
    },
};
