/**
 * The container runtime: every role a container on one Docker host, on a private bridge network
 * where each is reached by its role's name, the images on a named volume. The proxy takes new
 * files in place (`reloadingRoleContainer`); the others are replaced when theirs change.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { proxyDefaults, roles } from "../../defaults";
import { PlannedRole, RegistryPlan } from "../../plan/registryPlan";
import { proxyListenPort } from "../../roles/proxy";
import { registryDataPath, registryPort } from "../../roles/registry";
import { StorageKind } from "../../storage";
import { typeToken } from "../../inputs";
import { componentLabels, dataVolume } from "../docker";
import { RegistryRuntime, RoleProcess, RuntimeContext, RuntimeDeployment, RuntimeFoundation, RuntimeKind } from "../runtime";
import { containerInspection } from "./inspection";
import { ContainerPlacement, reloadingRoleContainer, roleContainer } from "./roleContainer";
import { CheckedContainerSettings, checkContainerSettings, containerSettingsKeys } from "./settings";

/**
 * The component each role's resources were under before 0.2, by the word the role is named by;
 * its URN is aliased so that an upgrade moves them in state.
 */
const previousRoleComponents: Readonly<Record<string, string>> = {
    nginx: typeToken("NginxAuthProxy"),
    registry: typeToken("RegistryServer"),
    token: typeToken("TokenService"),
    guard: typeToken("RegistryGuard"),
};

/** The container runtime bound to one registry, with checked settings. */
function containerDeployment({ name, parent, shared }: RuntimeContext, settings: CheckedContainerSettings): RuntimeDeployment {
    const previousParent = (word: string) => pulumi.createUrn(`${name}-${word}`, previousRoleComponents[word], parent);
    return {
        // Each role is known on the bridge by its role label: `registry`, `token-service`, `guard`.
        addressing: { hostOf: (role) => role, metrics: settings.metrics !== undefined },

        previousLocations: () => ({
            httpSecret: [{ name: `${name}-registry-http-secret`, parent: previousParent("registry") }],
            signingKey: [{ parent: previousParent("token") }],
            signingCertificate: [{ parent: previousParent("token") }],
        }),

        foundation(): RuntimeFoundation {
            const network = new docker.Network(
                `${name}-network`,
                { name: `${name}-network`, driver: "bridge", labels: componentLabels(name) },
                { parent, deleteBeforeReplace: true },
            );
            const volume = shared.dataVolume === undefined ? undefined : dataVolume(name, shared.dataVolume, parent);
            return { networkName: network.name, volumeName: volume?.name };
        },

        runRole(role: PlannedRole, plan: RegistryPlan, foundation: RuntimeFoundation, dependsOn: pulumi.Resource[]): RoleProcess {
            const { storage } = plan.checked;
            const resourceName = `${name}-${role.word}`;
            // Images already on the host are used as they are; keepLocally leaves them there on destroy.
            const image = new docker.RemoteImage(`${resourceName}-image`, { name: role.spec.image, keepLocally: true }, { parent });
            const ports: docker.types.input.ContainerPort[] = [];
            if (role.entry) {
                ports.push({ internal: proxyListenPort, external: plan.checked.port, ip: settings.bindAddress, protocol: "tcp" });
                if (settings.metrics !== undefined) {
                    const { port, address } = settings.metrics;
                    ports.push({ internal: proxyDefaults.metricsListenPort, external: port, ip: address, protocol: "tcp" });
                }
            }
            // The registry's own port only: a mirror's registry is reached through nginx alone.
            if (role.spec.role === roles.registry && settings.directAccess !== undefined) {
                const { port, address } = settings.directAccess;
                ports.push({ internal: registryPort, external: port, ip: address, protocol: "tcp" });
            }
            const placement: ContainerPlacement = {
                containerName: resourceName,
                instance: name,
                networks: [
                    // Clients reach the proxy through its port; the other roles are reached by their role's name.
                    role.entry ? { name: foundation.networkName } : { name: foundation.networkName, aliases: [role.spec.role] },
                    ...(role.storage && storage.kind === StorageKind.S3 && storage.network !== undefined
                        ? [{ name: storage.network }]
                        : []),
                ],
                // As 0.1 made them: the registry's container has its ports and volumes set, empty or
                // not, and the guard's and token service's have neither, so their state reads unchanged.
                ...(role.entry || role.storage ? { ports } : {}),
                ...(role.storage
                    ? {
                          volumes:
                              foundation.volumeName === undefined
                                  ? []
                                  : [{ volumeName: foundation.volumeName, containerPath: registryDataPath }],
                      }
                    : {}),
                restart: settings.restart,
                previousParent: previousParent(role.word),
            };
            const spec = { ...role.spec, image: image.imageId };
            if (spec.reload !== undefined) {
                const { container } = reloadingRoleContainer(resourceName, spec, placement, parent, dependsOn);
                return { name: container.name, resource: container };
            }
            const container = roleContainer(`${resourceName}-container`, spec, placement, parent, dependsOn);
            return { name: container.name, resource: container };
        },

        outputs: (processes) => ({
            proxyContainerName: processes[roles.proxy],
            registryContainerName: processes[roles.registry],
            // In token mode the token service is the guard.
            guardContainerName: processes[roles.tokenService] ?? processes[roles.guard],
        }),
    };
}

/** Containers on one Docker host. */
export const containerRuntime: RegistryRuntime = {
    kind: RuntimeKind.Container,
    description: "containers on one Docker host",
    settingsKeys: containerSettingsKeys,
    // 0.1's stack config had these at the top level.
    movedConfigKeys: containerSettingsKeys,
    inspection: containerInspection,
    checkSettings: (field, settings) => void checkContainerSettings(field, settings),
    prepare: (context) => containerDeployment(context, checkContainerSettings(context.field, context.settings)),
};
