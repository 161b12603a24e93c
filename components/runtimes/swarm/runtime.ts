/**
 * The swarm runtime: every role a replicated Docker Swarm service on an attachable overlay
 * network, found by DNS round robin under its service's name. Files are Swarm secrets and
 * configs named by content, so every change of a password, certificate or image rolls the
 * services one task at a time, start-first.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { roles } from "../../defaults";
import { typeToken } from "../../inputs";
import { PlannedRole, processWord, RegistryPlan } from "../../plan/registryPlan";
import { edgeRole } from "../../roles/edge";
import { proxyListenPort } from "../../roles/proxy";
import { registryDataPath } from "../../roles/registry";
import type { CheckedRegistryArgs } from "../../registryArgs";
import { StorageKind } from "../../storage";
import { componentLabels, dataVolume } from "../docker";
import { RegistryRuntime, RoleProcess, RuntimeContext, RuntimeDeployment, RuntimeFoundation, RuntimeKind } from "../runtime";
import { swarmInspection } from "./inspection";
import { roleService, ServicePlacement } from "./roleService";
import { checkStoragePlacement, CheckedSwarmSettings, checkSwarmSettings, PublishMode, swarmSettingsKeys } from "./settings";

/** The swarm runtime bound to one registry, with checked settings. */
function swarmDeployment({ name, parent, shared }: RuntimeContext, settings: CheckedSwarmSettings): RuntimeDeployment {
    const serviceName = (role: string) => `${name}-${processWord(role)}`;
    const tasks: Readonly<Record<string, number>> = {
        [roles.proxy]: settings.replicas.proxy,
        [roles.registry]: settings.replicas.registry,
        [roles.tokenService]: settings.replicas.tokenService,
        // One task, so that its counts of failed logins and its hold on writes are whole.
        [roles.guard]: 1,
    };
    // The overlay network by ID for the services (a name would read as a change on every
    // preview), made by foundation() before any role runs.
    let networks: pulumi.Input<string>[] = [];
    const placement = (role: string, replicas: number | "global"): ServicePlacement => ({
        serviceName: serviceName(role),
        instance: name,
        networks,
        replicas,
        constraints: settings.constraints,
        // nginx asks DNS for every task and retries the next on failure; no IPVS needed.
        endpointMode: "dnsrr",
    });

    return {
        addressing: { hostOf: serviceName, metrics: false },
        // 0.1's SwarmRegistry kept them under the same names; the component's alias moves them.
        previousLocations: () => ({}),

        foundation(): RuntimeFoundation {
            // Attachable, so one-off containers (a backup, garbage collection) can reach the services.
            const network = new docker.Network(
                `${name}-network`,
                { name: `${name}-network`, driver: "overlay", attachable: true, labels: componentLabels(name) },
                { parent, deleteBeforeReplace: true },
            );
            // The object store's network, by name in the arguments, by ID for the services.
            const storage = shared.storage;
            const storageNetwork =
                storage.kind === StorageKind.S3 && storage.network !== undefined
                    ? docker.getNetworkOutput({ name: storage.network }, { parent }).id
                    : undefined;
            networks = [network.id, ...(storageNetwork === undefined ? [] : [storageNetwork])];
            // With filesystem storage the volume is local to the node the constraints pin every task to.
            const volume = shared.dataVolume === undefined ? undefined : dataVolume(name, shared.dataVolume, parent);
            return { networkName: network.name, volumeName: volume?.name };
        },

        runRole(role: PlannedRole, plan: RegistryPlan, foundation: RuntimeFoundation, dependsOn: pulumi.Resource[]): RoleProcess {
            const resourceName = `${name}-${role.word}`;
            const opts = dependsOn.length === 0 ? undefined : { dependsOn };
            const where = placement(role.spec.role, tasks[role.kind]);
            if (!role.entry) {
                const mounts =
                    role.storage && foundation.volumeName !== undefined
                        ? [{ type: "volume", source: foundation.volumeName, target: registryDataPath }]
                        : undefined;
                const service = roleService(
                    resourceName,
                    role.spec,
                    { ...where, ...(mounts === undefined ? {} : { mounts }) },
                    parent,
                    opts,
                );
                return { name: service.name, resource: service };
            }
            const published = { targetPort: proxyListenPort, publishedPort: plan.checked.port, protocol: "tcp" };
            if (settings.publishMode === PublishMode.Ingress) {
                // The routing mesh balances over a virtual IP, which dnsrr would not have.
                const service = roleService(
                    resourceName,
                    role.spec,
                    { ...where, endpointMode: "vip", ports: [{ ...published, publishMode: "ingress" }] },
                    parent,
                    opts,
                );
                return { name: service.name, resource: service };
            }
            // Host mode: each node's port is held by a TCP edge, which passes TLS through to the proxy's tasks.
            const proxy = roleService(resourceName, role.spec, where, parent, opts);
            const edge = roleService(
                `${name}-${processWord(roles.edge)}`,
                edgeRole({
                    image: settings.edgeImage,
                    proxyTasks: `tasks.${serviceName(role.spec.role)}`,
                    proxyPort: proxyListenPort,
                    listenPort: proxyListenPort,
                }),
                { ...placement(roles.edge, "global"), ports: [{ ...published, publishMode: "host" }] },
                parent,
                { dependsOn: [proxy] },
            );
            return { name: proxy.name, resource: proxy, companions: { [roles.edge]: edge.name } };
        },

        outputs: (processes) => ({
            proxyServiceName: processes[roles.proxy],
            registryServiceName: processes[roles.registry],
            // In token mode the token service is the guard.
            guardServiceName: processes[roles.tokenService] ?? processes[roles.guard],
            ...(processes[roles.tokenService] === undefined ? {} : { tokenServiceName: processes[roles.tokenService] }),
            ...(processes[roles.edge] === undefined ? {} : { edgeServiceName: processes[roles.edge] }),
        }),
    };
}

/** The swarm settings checked, and with `shared` placed where its storage allows. */
function checkedSwarmSettings(field: string, value: unknown, shared?: CheckedRegistryArgs): CheckedSwarmSettings {
    const settings = checkSwarmSettings(field, value);
    if (shared !== undefined) checkStoragePlacement(`${field}.constraints`, shared.storage, settings.constraints);
    return settings;
}

/** Replicated Docker Swarm services. */
export const swarmRuntime: RegistryRuntime = {
    kind: RuntimeKind.Swarm,
    description: "replicated Docker Swarm services",
    settingsKeys: swarmSettingsKeys,
    previousComponentType: typeToken("SwarmRegistry"),
    inspection: swarmInspection,
    checkSettings: (field, settings, shared) => void checkedSwarmSettings(field, settings, shared),
    prepare: (context) => swarmDeployment(context, checkedSwarmSettings(context.field, context.settings, context.shared)),
};
