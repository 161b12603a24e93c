import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { componentLabels, containerOptions, healthCheck, logSettings, RestartPolicy } from "../containerSettings";
import { RoleSpec } from "../roles/spec";

/** Where and how one role's container runs on a single Docker host. */
export interface ContainerPlacement {
    /** The container's name on the Docker host. */
    readonly containerName: pulumi.Input<string>;
    /** The `authenticated-registry.instance` label value. */
    readonly instance: string;
    /** The networks it joins, with its aliases there. */
    readonly networks: docker.types.input.ContainerNetworksAdvanced[];
    /** Host ports; left out of the container's inputs when undefined. */
    readonly ports?: docker.types.input.ContainerPort[];
    /** Named volumes; left out of the container's inputs when undefined. */
    readonly volumes?: docker.types.input.ContainerVolume[];
    readonly restart: RestartPolicy;
}

/**
 * One role as a `docker.Container`: files as uploads (secret ones stored as secrets), the
 * role's probe as Docker's health check, which `pulumi up` waits on. Inputs a role leaves
 * empty are left out rather than set empty, so containers made before roles existed keep
 * their state unchanged.
 */
export function roleContainer(name: string, spec: RoleSpec, placement: ContainerPlacement, parent: pulumi.Resource): docker.Container {
    return new docker.Container(
        name,
        {
            name: placement.containerName,
            image: spec.image,
            ...(spec.command === undefined ? {} : { command: spec.command }),
            ...(spec.env.length === 0 ? {} : { envs: spec.env }),
            ...(spec.files.length === 0
                ? {}
                : { uploads: spec.files.map((file) => ({ file: file.path, content: file.content, permissions: file.mode })) }),
            ...(placement.volumes === undefined ? {} : { volumes: placement.volumes }),
            networksAdvanced: placement.networks,
            ...(placement.ports === undefined ? {} : { ports: placement.ports }),
            restart: placement.restart,
            healthcheck: healthCheck(spec.healthCommand),
            wait: true,
            waitTimeout: 60,
            labels: [...componentLabels(placement.instance, spec.role), ...spec.labels],
            ...logSettings,
        },
        containerOptions(parent),
    );
}
