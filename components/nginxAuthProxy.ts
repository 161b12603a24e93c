import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { defaultRestartPolicy, RestartPolicy, validateRestartPolicy } from "./containerSettings";
import { UserAccess, validateUserAccess } from "./access";
import { defaults, proxyDefaults } from "./defaults";
import { checkNow, typeToken } from "./inputs";
import { GuardRoute, renderNginxConfig, TokenRoute } from "./nginxConfig";
import { proxyListenPort, proxyRole } from "./roles/proxy";
import { reloadingRoleContainer } from "./runtimes/container";
import { InvalidArgumentError, validateDomain, validateIpAddress, validateLoopbackAddress, validatePort } from "./validation";

export { proxyListenPort, proxyReload } from "./roles/proxy";

/** Arguments of {@link NginxAuthProxy}. */
export interface NginxAuthProxyArgs {
    /** The nginx image, by ID or reference. It must verify bcrypt (nginx 1.9 cannot). */
    readonly image: pulumi.Input<string>;
    /** The private network on which the registry is reachable. */
    readonly networkName: pulumi.Input<string>;
    /** The host name clients use; becomes `server_name` and the auth realm. */
    readonly domain: string;
    /** The server certificate in PEM, leaf first. */
    readonly certificatePem: pulumi.Input<string>;
    /** The certificate's private key in PEM (secret). */
    readonly privateKeyPem: pulumi.Input<string>;
    /** The bcrypt htpasswd file content (secret); basic mode only, where it is required. */
    readonly htpasswd?: pulumi.Input<string>;
    /**
     * Token mode: `/token` goes to this token service and `/v2/` passes bearer tokens on to the
     * registry, which checks them; nginx checks no password.
     * @default undefined (basic mode)
     */
    readonly token?: TokenRoute;
    /** The registry as nginx reaches it, `host:port`. */
    readonly upstream: string;
    /**
     * The guard nginx asks before writes (held during garbage collection) and, in basic mode,
     * around password checks (`RegistryGuard`, or the token service in token mode).
     * @default undefined (writes go straight on; failed logins are not limited)
     */
    readonly guard?: GuardRoute;
    /**
     * Ignored. nginx now looks the upstream up by name on every request, so it follows the
     * registry to a new address without being recreated.
     * @deprecated Not needed since the proxy resolves the registry per request; remove it.
     */
    readonly upstreamContainerId?: pulumi.Input<string>;
    /**
     * What each user may do; requests no grant allows are refused with 403.
     * @default every user in the htpasswd file may pull and push everywhere and list the catalog
     */
    readonly users?: UserAccess[];
    /**
     * The `authenticated-registry.instance` label value, which groups the resources of one registry.
     * @default the component's name
     */
    readonly instance?: string;
    /**
     * The HTTPS port published on the host; the seed uses 5043.
     * @default 5043
     */
    readonly port?: number;
    /**
     * The host address the port is published on.
     * @default "0.0.0.0" (every IPv4 interface)
     */
    readonly bindAddress?: string;
    /**
     * Publish the metrics server (the registry's Prometheus metrics at `/metrics`, nginx's
     * counters at `/nginx_status`) on this host port, on loopback only. The registry must have
     * its metrics on (`RegistryServer`'s `metrics`); `registryMetrics` names where.
     * @default undefined (no metrics server)
     */
    readonly metricsPort?: number;
    /**
     * The loopback address of `metricsPort`.
     * @default "127.0.0.1"
     */
    readonly metricsAddress?: string;
    /**
     * The registry's metrics as nginx reaches them, `host:port`; required with `metricsPort`.
     * @default undefined
     */
    readonly registryMetrics?: string;
    /**
     * The container's name on the Docker host.
     * @default the component's name
     */
    readonly containerName?: string;
    /**
     * When Docker restarts the container.
     * @default "unless-stopped"
     */
    readonly restart?: RestartPolicy;
}

/** The metrics port's binding, on loopback only; undefined without `metricsPort`. */
function checkMetricsPort(args: Pick<NginxAuthProxyArgs, "metricsPort" | "metricsAddress">): docker.types.input.ContainerPort | undefined {
    if (args.metricsPort === undefined) {
        if (args.metricsAddress !== undefined) validateLoopbackAddress("metricsAddress", args.metricsAddress);
        return undefined;
    }
    return {
        internal: proxyDefaults.metricsListenPort,
        external: validatePort("metricsPort", args.metricsPort),
        ip: validateLoopbackAddress("metricsAddress", args.metricsAddress ?? defaults.metricsAddress),
        protocol: "tcp",
    };
}

/** Basic mode needs the htpasswd file; token mode has no use for it. */
function checkModeFiles(args: Pick<NginxAuthProxyArgs, "htpasswd" | "token">): void {
    if (args.token === undefined && args.htpasswd === undefined) {
        throw new InvalidArgumentError("htpasswd", "is required in basic mode (without token); pass the htpasswd file content");
    }
    if (args.token !== undefined && args.htpasswd !== undefined) {
        throw new InvalidArgumentError("htpasswd", "is not used in token mode, where the token service checks passwords; remove it");
    }
}

/**
 * Checks {@link NginxAuthProxyArgs} without creating anything; returns them with defaults.
 */
export function checkNginxAuthProxyArgs(
    args: Pick<NginxAuthProxyArgs, "domain" | "port" | "bindAddress" | "restart" | "users" | "metricsPort" | "metricsAddress">,
) {
    return {
        metrics: checkMetricsPort(args),
        users: args.users === undefined ? undefined : validateUserAccess("users", args.users),
        domain: validateDomain("domain", args.domain),
        port: validatePort("port", args.port ?? defaults.port),
        bindAddress: validateIpAddress("bindAddress", args.bindAddress ?? defaults.bindAddress),
        restart: validateRestartPolicy("restart", args.restart ?? defaultRestartPolicy),
    };
}

/**
 * nginx terminating TLS (1.2 and 1.3) and enforcing basic auth from a bcrypt htpasswd file in
 * front of the registry. Its config, htpasswd, certificate and key are in a volume at
 * `/etc/nginx/conf.d`, where the seed mounts them, written by a one-shot container that has them
 * as uploads; nginx reloads them gracefully when they change, so a change of users, passwords,
 * grants or certificate leaves its container running. The key is readable by root only.
 */
export class NginxAuthProxy extends pulumi.ComponentResource {
    /** The container's name on the Docker host. */
    public readonly containerName: pulumi.Output<string>;
    /** The published host port. */
    public readonly port: number;
    /** The host address the port is published on. */
    public readonly bindAddress: string;
    /** The rendered `registry.conf`. */
    public readonly config: string;
    /**
     * True once the files are in place and the running nginx has reloaded them; an error, which
     * fails the deployment, when nginx refused them (it then goes on with what it had loaded).
     */
    public readonly filesApplied: pulumi.Output<boolean>;

    constructor(name: string, args: NginxAuthProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("NginxAuthProxy"), name, {}, opts);
        const { domain, port, bindAddress, restart, users, metrics } = checkNow(this, () => {
            checkModeFiles(args);
            if (args.metricsPort !== undefined && args.registryMetrics === undefined) {
                throw new InvalidArgumentError(
                    "registryMetrics",
                    "is required with metricsPort: where nginx reaches the registry's metrics, host:port",
                );
            }
            return checkNginxAuthProxyArgs(args);
        });
        const config = renderNginxConfig({
            serverName: domain,
            realm: domain,
            upstream: args.upstream,
            listenPort: proxyListenPort,
            users,
            token: args.token,
            guard: args.guard,
            metrics: metrics === undefined ? undefined : { registryMetrics: args.registryMetrics! },
        });

        const spec = proxyRole({
            image: args.image,
            config,
            htpasswd: args.htpasswd,
            certificatePem: args.certificatePem,
            privateKeyPem: args.privateKeyPem,
            users,
        });
        const { container, applied } = reloadingRoleContainer(
            name,
            spec,
            {
                containerName: args.containerName ?? name,
                instance: args.instance ?? name,
                networks: [{ name: args.networkName }],
                ports: [
                    { internal: proxyListenPort, external: port, ip: bindAddress, protocol: "tcp" },
                    ...(metrics === undefined ? [] : [metrics]),
                ],
                restart,
            },
            this,
        );

        this.containerName = container.name;
        this.port = port;
        this.bindAddress = bindAddress;
        this.config = config;
        this.filesApplied = applied;
        this.registerOutputs({ containerName: this.containerName, port, bindAddress, config, filesApplied: this.filesApplied });
    }
}
