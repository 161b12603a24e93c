import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { componentLabels } from "./containerSettings";
import { HtpasswdCredentials } from "./htpasswdCredentials";
import { CheckedRegistryArgs, RegistryArgs } from "./registryArgs";
import { StorageKind } from "./storage";
import { TlsMaterial } from "./tlsMaterial";

/** What both runtimes make before their processes, with the same names under the same parent. */
export interface RegistryFoundation {
    readonly tls: TlsMaterial;
    readonly credentials: HtpasswdCredentials;
    readonly network: docker.Network;
    /** The data volume; filesystem storage only. */
    readonly volume: docker.Volume | undefined;
}

/**
 * The TLS material, the credentials, the network the processes share (`driver`: a bridge on one
 * host, an attachable overlay on a swarm) and, with filesystem storage, the data volume, which
 * is kept on destroy unless `deleteDataOnDestroy`. A switch to s3 leaves the volume on the host,
 * with its images.
 */
export function registryFoundation(
    name: string,
    args: RegistryArgs,
    checked: CheckedRegistryArgs,
    network: Pick<docker.NetworkArgs, "driver" | "attachable">,
    parent: pulumi.Resource,
): RegistryFoundation {
    return {
        tls: new TlsMaterial(`${name}-tls`, { ...args.tls, domain: args.domain }, { parent }),
        credentials: new HtpasswdCredentials(`${name}-credentials`, { users: args.users, bcryptCost: checked.bcryptCost }, { parent }),
        network: new docker.Network(
            `${name}-network`,
            { name: `${name}-network`, ...network, labels: componentLabels(name) },
            { parent, deleteBeforeReplace: true },
        ),
        volume:
            checked.storage.kind === StorageKind.Filesystem
                ? new docker.Volume(
                      `${name}-data`,
                      { name: args.dataVolumeName ?? `${name}-data`, labels: componentLabels(name) },
                      { parent, retainOnDelete: !(args.deleteDataOnDestroy ?? false), deleteBeforeReplace: true },
                  )
                : undefined,
    };
}
