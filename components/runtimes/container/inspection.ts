import { labelKeys } from "../../defaults";
import { isLoopback } from "../../validation";
import { dockerLabel, dockerVolumeType, field, listEntries } from "../dockerInspection";
import type { CarriedFile, InspectedResource, RuntimeInspection } from "../inspection";

const containerType = "docker:index/container:Container";
const remoteImageType = "docker:index/remoteImage:RemoteImage";

/**
 * The role label of the one-shot container, and of the volume, that carry the files of a role
 * that takes new files in place (`proxy-files`): they are the role's, carried apart.
 */
export function filesCarrierRole(role: string): string {
    return `${role}-files`;
}
const filesCarrierSuffix = filesCarrierRole("");

const isContainer = (resource: InspectedResource) => resource.type === containerType;

/** A container's uploads by file; reading `file` only, so unknown contents are not touched. */
function uploads(props: Record<string, unknown>): CarriedFile[] {
    return listEntries(props.uploads)
        .filter((upload) => typeof field(upload, "file") === "string")
        .map((upload) => ({ path: field(upload, "file") as string, content: () => field(upload, "content") }));
}

/** Whether a container mounts a volume at `directory`. */
function mountsVolumeAt(props: Record<string, unknown>, directory: string): boolean {
    return listEntries(props.volumes).some((volume) => field(volume, "containerPath") === directory);
}

/**
 * On one host a role is a container, its files uploads of it; a role that takes new files in
 * place reads them from a volume that its files container (`filesCarrierRole`) writes from its
 * uploads. The images are pulled by RemoteImages.
 */
export const containerInspection: RuntimeInspection = {
    processTypes: [containerType],
    fileTypes: [],
    volumeTypes: [dockerVolumeType],
    imageTypes: [remoteImageType],
    supportTypes: [],

    label: (resource, key) => dockerLabel(resource.props.labels, key),

    role(resource) {
        const role = isContainer(resource) ? dockerLabel(resource.props.labels, labelKeys.role) : undefined;
        return role?.endsWith(filesCarrierSuffix) ? role.slice(0, -filesCarrierSuffix.length) : role;
    },

    publishedPorts(resource) {
        if (!isContainer(resource)) return [];
        return listEntries(resource.props.ports).map((port, i) => {
            const ip = field(port, "ip");
            const address = typeof ip === "string" && ip !== "" ? ip : undefined;
            return {
                path: `ports[${i}]`,
                port: field(port, "internal"),
                where: address ?? "0.0.0.0 (no ip given)",
                loopbackOnly: address !== undefined && isLoopback(address),
            };
        });
    },

    hostNetworkSettings(resource) {
        if (!isContainer(resource)) return [];
        const { props } = resource;
        return [
            ...(props.networkMode === "host"
                ? [{ setting: 'networkMode "host"', where: "on every host interface", fix: "use a bridge network" }]
                : []),
            ...(props.publishAllPorts === true ? [{ setting: "publishAllPorts", where: "on 0.0.0.0", fix: "remove it" }] : []),
        ];
    },

    privileges(resource) {
        if (!isContainer(resource)) return [];
        const { props } = resource;
        const added = listEntries(field(props.capabilities, "adds"));
        return [
            ...(props.privileged === true ? [{ setting: "privileged", grants: "every device and capability of the host" }] : []),
            ...(added.length > 0 ? [{ setting: "capabilities.adds", grants: `the capabilities ${added.join(", ")}` }] : []),
        ];
    },

    carriedFiles(resource, directory) {
        if (isContainer(resource) && mountsVolumeAt(resource.props, directory)) {
            const role = dockerLabel(resource.props.labels, labelKeys.role);
            return {
                carries: "none",
                elsewhere:
                    `the ${role} reads its files from the volume at ${directory}; its files container ` +
                    `(label ${labelKeys.role}=${filesCarrierRole(role ?? "")}), which has them as uploads, is checked instead`,
                keepsFileLabels: false,
            };
        }
        return { carries: "all", files: isContainer(resource) ? uploads(resource.props) : [], property: "uploads" };
    },

    storedSecrets(resource, secret) {
        if (!isContainer(resource)) return [];
        return [
            ...(secret.files === undefined ? [] : [{ property: "uploads", holds: secret.files }]),
            ...(secret.environment === undefined ? [] : [{ property: "envs", holds: secret.environment }]),
        ];
    },

    images: (resource) => (resource.type === remoteImageType ? [{ path: "name", reference: resource.props.name }] : []),
};
