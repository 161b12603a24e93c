import { labelKeys } from "../../defaults";
import { dockerLabel, dockerVolumeType, field, listEntries } from "../dockerInspection";
import type { InspectedResource, RuntimeInspection } from "../inspection";

const serviceType = "docker:index/service:Service";
const secretType = "docker:index/secret:Secret";
const configType = "docker:index/serviceConfig:ServiceConfig";

const isService = (resource: InspectedResource) => resource.type === serviceType;
const isFile = (resource: InspectedResource) => resource.type === secretType || resource.type === configType;

/**
 * On a swarm a role is a service that names its image; each of its files is a Swarm secret (a
 * secret file) or config (the rest), base64 in `data`, its path in the `authenticated-registry.file`
 * label.
 */
export const swarmInspection: RuntimeInspection = {
    processTypes: [serviceType],
    fileTypes: [secretType, configType],
    volumeTypes: [dockerVolumeType],
    imageTypes: [serviceType],
    supportTypes: [],

    label: (resource, key) => dockerLabel(resource.props.labels, key),

    role: (resource) => (isService(resource) || isFile(resource) ? dockerLabel(resource.props.labels, labelKeys.role) : undefined),

    publishedPorts(resource) {
        if (!isService(resource)) return [];
        return listEntries(field(resource.props.endpointSpec, "ports")).map((port, i) => ({
            path: `endpointSpec.ports[${i}]`,
            port: field(port, "targetPort"),
            // Ingress, the default, publishes on every node through the routing mesh.
            where: field(port, "publishMode") === "host" ? "every node that runs one of its tasks" : "every node of the swarm",
            loopbackOnly: false,
        }));
    },

    hostNetworkSettings: () => [],

    // A Swarm service cannot run privileged, and the services of this package add no capability.
    privileges: () => [],

    carriedFiles(resource) {
        if (isService(resource)) {
            return {
                carries: "none",
                elsewhere: `a service's files are Swarm secrets and configs (label ${labelKeys.file}), each checked on its own`,
                keepsFileLabels: true,
            };
        }
        const path = isFile(resource) ? dockerLabel(resource.props.labels, labelKeys.file) : undefined;
        if (path === undefined) return { carries: "some", files: [] };
        const content = () => {
            const data = resource.props.data;
            return typeof data === "string" ? Buffer.from(data, "base64").toString("utf8") : data;
        };
        return { carries: "some", files: [{ path, content }] };
    },

    storedSecrets(resource) {
        if (resource.type !== secretType) return [];
        return [{ property: "data", holds: dockerLabel(resource.props.labels, labelKeys.file) ?? "a file of its role" }];
    },

    images: (resource) =>
        isService(resource)
            ? [{ path: "taskSpec.containerSpec.image", reference: field(field(resource.props.taskSpec, "containerSpec"), "image") }]
            : [],
};
