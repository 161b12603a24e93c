import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { defaultRestartPolicy, RestartPolicy, validateRestartPolicy } from "./containerSettings";
import { defaults, proxyDefaults } from "./defaults";
import { checkNow, typeToken } from "./inputs";
import { registryDataPath, registryPort, registryRole, RegistryTokenAuth } from "./roles/registry";
import { roleContainer } from "./runtimes/container";
import { RegistryStorage, StorageKind, validateStorage } from "./storage";
import { InvalidArgumentError, validateLoopbackAddress, validatePort } from "./validation";

export { registryDataPath, registryPort, RegistryTokenAuth, tokenCertificatePath } from "./roles/registry";

/** Arguments of {@link RegistryServer}. */
export interface RegistryServerArgs {
    /** The registry image, by ID or reference. */
    readonly image: pulumi.Input<string>;
    /** The private network the proxy reaches the registry on. */
    readonly networkName: pulumi.Input<string>;
    /** The named volume mounted at `/data`, which outlives the container; filesystem storage only, where it is required. */
    readonly volumeName?: pulumi.Input<string>;
    /**
     * Where images are kept: on `volumeName`, or in an S3 bucket.
     * @default { kind: "filesystem" }
     */
    readonly storage?: RegistryStorage;
    /**
     * The registry's name on the private network; the proxy's upstream is `ALIAS:5000`.
     * @default "registry"
     */
    readonly networkAlias?: string;
    /**
     * The container's name on the Docker host.
     * @default the component's name
     */
    readonly containerName?: string;
    /**
     * Publishes the registry itself on this host port, with no authentication in front of it.
     * Off unless set; meant for local tooling and benchmarks only.
     * @default undefined (not published)
     */
    readonly directAccessPort?: number;
    /**
     * The host address of `directAccessPort`; only loopback addresses are accepted.
     * @default "127.0.0.1"
     */
    readonly directAccessAddress?: string;
    /**
     * Turns on the registry's delete API (`DELETE` of manifests and blobs).
     * @default false
     */
    readonly deleteEnabled?: boolean;
    /**
     * Turns on the registry's debug server with its Prometheus metrics at
     * `ALIAS:5001/metrics`, on the private network only (nginx's metrics port publishes them).
     * @default false
     */
    readonly metrics?: boolean;
    /**
     * Makes the registry require tokens from a token service (its `auth.token` settings) instead
     * of trusting every request that reaches it.
     * @default undefined (no authentication at the registry: the proxy in front checks)
     */
    readonly tokenAuth?: RegistryTokenAuth;
    /**
     * The `authenticated-registry.instance` label value, which groups the resources of one registry.
     * @default the component's name
     */
    readonly instance?: string;
    /**
     * When Docker restarts the container.
     * @default "unless-stopped"
     */
    readonly restart?: RestartPolicy;
}

/**
 * Checks {@link RegistryServerArgs} without creating anything; returns the published ports
 * (none unless `directAccessPort` is set, and then only on loopback).
 */
export function checkRegistryServerArgs(args: Pick<RegistryServerArgs, "directAccessPort" | "directAccessAddress" | "restart">): {
    ports: docker.types.input.ContainerPort[];
    restart: RestartPolicy;
} {
    const restart = validateRestartPolicy("restart", args.restart ?? defaultRestartPolicy);
    if (args.directAccessPort === undefined) {
        if (args.directAccessAddress !== undefined) {
            validateLoopbackAddress("directAccessAddress", args.directAccessAddress);
        }
        return { ports: [], restart };
    }
    const port = {
        internal: registryPort,
        external: validatePort("directAccessPort", args.directAccessPort),
        ip: validateLoopbackAddress("directAccessAddress", args.directAccessAddress ?? defaults.directAccessAddress),
        protocol: "tcp",
    };
    return { ports: [port], restart };
}

/**
 * The distribution registry container: data on a named volume at `/data`, reachable by the
 * proxy as `registry:5000` on a private network, and published nowhere unless asked.
 */
export class RegistryServer extends pulumi.ComponentResource {
    /** The container's name on the Docker host. */
    public readonly containerName: pulumi.Output<string>;
    /** The container's ID; it changes whenever the container is replaced. */
    public readonly containerId: pulumi.Output<string>;
    /** `host:port` at which the proxy reaches the registry. */
    public readonly upstream: string;
    /** `host:port` of the registry's metrics on the private network, when `metrics` is on. */
    public readonly metricsUpstream: string | undefined;

    constructor(name: string, args: RegistryServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("RegistryServer"), name, {}, opts);
        const { ports, restart } = checkNow(this, () => checkRegistryServerArgs(args));
        const alias = args.networkAlias ?? "registry";
        const token = args.tokenAuth;
        const storage = checkNow(this, () => {
            const checked = validateStorage("storage", args.storage);
            if (checked.kind === StorageKind.Filesystem && args.volumeName === undefined) {
                throw new InvalidArgumentError("volumeName", "is required with filesystem storage: the volume that holds the images");
            }
            if (checked.kind === StorageKind.S3 && args.volumeName !== undefined) {
                throw new InvalidArgumentError("volumeName", "is not used with s3 storage; remove it");
            }
            return checked;
        });

        // Every replica and every restart must share one secret, or uploads in flight fail
        // with "blob upload unknown"; it is drawn once and kept in state.
        const httpSecret = new random.RandomPassword(`${name}-http-secret`, { length: 48, special: false }, { parent: this });

        const spec = registryRole({
            image: args.image,
            storage,
            httpSecret: httpSecret.result,
            deleteEnabled: args.deleteEnabled === true,
            metrics: args.metrics === true,
            tokenAuth: token,
        });
        const container = roleContainer(
            `${name}-container`,
            spec,
            {
                containerName: args.containerName ?? name,
                instance: args.instance ?? name,
                volumes: storage.kind === StorageKind.S3 ? [] : [{ volumeName: args.volumeName, containerPath: registryDataPath }],
                networks: [
                    { name: args.networkName, aliases: [alias] },
                    ...(storage.kind === StorageKind.S3 && storage.network !== undefined ? [{ name: storage.network }] : []),
                ],
                ports,
                restart,
            },
            this,
        );

        this.containerName = container.name;
        this.containerId = container.id;
        this.upstream = `${alias}:${registryPort}`;
        this.metricsUpstream = args.metrics === true ? `${alias}:${proxyDefaults.registryMetricsPort}` : undefined;
        this.registerOutputs({ containerName: this.containerName, containerId: this.containerId, upstream: this.upstream });
    }
}
