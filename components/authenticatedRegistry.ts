import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { RestartPolicy } from "./containerSettings";
import { AuthMode, tokenRouteFor } from "./auth";
import { GuardRoute, TokenRoute } from "./nginxConfig";
import { RegistryGuard } from "./registryGuard";
import { TokenService } from "./tokenServer";
import { checkNow, typeToken } from "./inputs";
import { checkNginxAuthProxyArgs, NginxAuthProxy } from "./nginxAuthProxy";
import { checkRegistryServerArgs, RegistryServer } from "./registryServer";
import { registryTokenAuth } from "./roles/registry";
import { checkRegistryArgs, RegistryArgs, registryHost } from "./registryArgs";

// Defined beside the arguments both runtimes share; still importable from here.
export { checkDeleteEnabled } from "./registryArgs";
import { registryFoundation } from "./registryFoundation";

/** Arguments of {@link AuthenticatedRegistry}: the shared ones, and where its containers listen. */
export interface AuthenticatedRegistryArgs extends RegistryArgs {
    /**
     * The host address the HTTPS port is published on.
     * @default "0.0.0.0"
     */
    readonly bindAddress?: string;
    /**
     * Also publish the registry without authentication on this loopback port.
     * @default undefined (not published)
     */
    readonly directAccessPort?: number;
    /**
     * The loopback address of `directAccessPort`.
     * @default "127.0.0.1"
     */
    readonly directAccessAddress?: string;
    /**
     * Publish metrics on this loopback port: the registry's Prometheus metrics at `/metrics`
     * and nginx's connection and request counters at `/nginx_status`. Never on the HTTPS port.
     * @default undefined (no metrics)
     */
    readonly metricsPort?: number;
    /**
     * The loopback address of `metricsPort`.
     * @default "127.0.0.1"
     */
    readonly metricsAddress?: string;
    /**
     * When Docker restarts the containers.
     * @default "unless-stopped"
     */
    readonly restart?: RestartPolicy;
}

/**
 * A private Docker registry only authenticated users can reach: the distribution registry on a
 * private network and a retained data volume, behind nginx terminating TLS and checking bcrypt
 * basic auth, as in the registry documentation's compose recipe, with its known defects fixed.
 */
export class AuthenticatedRegistry extends pulumi.ComponentResource {
    /** `https://HOST:PORT`, the registry's address. */
    public readonly url: pulumi.Output<string>;
    /** `HOST:PORT` as it appears in image references and `docker login`. */
    public readonly host: pulumi.Output<string>;
    /** The published HTTPS port. */
    public readonly port: pulumi.Output<number>;
    /** The CA certificate clients must trust (`/etc/docker/certs.d/HOST:PORT/ca.crt`). */
    public readonly caCertificatePem: pulumi.Output<string>;
    /** The htpasswd file content (secret). */
    public readonly htpasswd: pulumi.Output<string>;
    /** Each user's password by user name (secret). */
    public readonly passwords: pulumi.Output<Record<string, string>>;
    /** The private network's name. */
    public readonly networkName: pulumi.Output<string>;
    /** The data volume's name; undefined with s3 storage. */
    public readonly volumeName: pulumi.Output<string | undefined>;
    /** The nginx container's name. */
    public readonly proxyContainerName: pulumi.Output<string>;
    /** The registry container's name. */
    public readonly registryContainerName: pulumi.Output<string>;
    /** `basic` or `token`. */
    public readonly authMode: AuthMode;
    /** The token service container's name; token mode only. */
    public readonly tokenServiceContainerName: pulumi.Output<string> | undefined;
    /** The guard's container's name: basic mode's guard, or in token mode the token service. */
    public readonly guardContainerName: pulumi.Output<string>;

    constructor(name: string, args: AuthenticatedRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("AuthenticatedRegistry"), name, {}, opts);
        // Every argument is checked before the first child exists, so a refusal creates nothing.
        const checked = checkNow(this, () => {
            const checked = checkRegistryArgs(args);
            checkRegistryServerArgs(args);
            // Where the proxy listens; the users' grants were checked with the shared arguments.
            checkNginxAuthProxyArgs({ ...args, users: undefined });
            return checked;
        });
        const { users, deleteEnabled, auth, storage } = checked;
        const host = registryHost(args.domain, checked.port);
        const { tls, credentials, network, volume } = registryFoundation(name, args, checked, { driver: "bridge" }, this);
        // Images already on the host are used as they are; keepLocally leaves them there on destroy.
        const nginxImage = new docker.RemoteImage(`${name}-nginx-image`, { name: checked.nginxImage, keepLocally: true }, { parent: this });
        const registryImage = new docker.RemoteImage(
            `${name}-registry-image`,
            { name: checked.registryImage, keepLocally: true },
            { parent: this },
        );

        // Token mode: the token service checks passwords once per token and signs what each user
        // may do; the registry verifies the tokens, nginx only routes and limits.
        let token: { service: TokenService; route: TokenRoute } | undefined;
        if (auth.mode === AuthMode.Token) {
            const tokenImage = new docker.RemoteImage(
                `${name}-token-image`,
                { name: auth.tokenServiceImage, keepLocally: true },
                { parent: this },
            );
            const service = new TokenService(
                `${name}-token`,
                {
                    image: tokenImage.imageId,
                    networkName: network.name,
                    service: host,
                    lifetimeSeconds: auth.tokenLifetimeSeconds,
                    users,
                    passwordHashes: credentials.passwordHashes,
                    restart: args.restart,
                    instance: name,
                    loginThrottle: args.loginThrottle,
                    writeHoldSeconds: args.writeHoldSeconds,
                },
                { parent: this },
            );
            token = { service, route: tokenRouteFor(auth, service.upstream) };
        }
        // The guard limits failed logins and holds writes during garbage collection: the token
        // service in token mode, which checks the passwords; in basic mode a container of its own,
        // which nginx asks around each password check.
        let guard: { route: GuardRoute; containerName: pulumi.Output<string> };
        if (token === undefined) {
            const guardImage = new docker.RemoteImage(
                `${name}-guard-image`,
                { name: checked.guardImage, keepLocally: true },
                { parent: this },
            );
            const basicGuard = new RegistryGuard(
                `${name}-guard`,
                {
                    image: guardImage.imageId,
                    networkName: network.name,
                    loginThrottle: args.loginThrottle,
                    writeHoldSeconds: args.writeHoldSeconds,
                    restart: args.restart,
                    instance: name,
                },
                { parent: this },
            );
            guard = {
                route: {
                    upstream: basicGuard.upstream,
                    loginThrottle: basicGuard.loginThrottle,
                    writeHoldSeconds: basicGuard.writeHoldSeconds,
                },
                containerName: basicGuard.containerName,
            };
        } else {
            guard = {
                route: { upstream: token.service.upstream, loginThrottle: false, writeHoldSeconds: checked.writeHoldSeconds },
                containerName: token.service.containerName,
            };
        }

        const registry = new RegistryServer(
            `${name}-registry`,
            {
                image: registryImage.imageId,
                networkName: network.name,
                volumeName: volume?.name,
                storage,
                directAccessPort: args.directAccessPort,
                directAccessAddress: args.directAccessAddress,
                restart: args.restart,
                instance: name,
                deleteEnabled,
                metrics: args.metricsPort !== undefined,
                tokenAuth:
                    token === undefined ? undefined : registryTokenAuth(host, token.service.issuer, token.service.signingCertificatePem),
            },
            { parent: this },
        );
        const proxy = new NginxAuthProxy(
            `${name}-nginx`,
            {
                image: nginxImage.imageId,
                networkName: network.name,
                domain: args.domain,
                certificatePem: tls.certificatePem,
                privateKeyPem: tls.privateKeyPem,
                htpasswd: token === undefined ? credentials.htpasswd : undefined,
                token: token?.route,
                guard: guard.route,
                upstream: registry.upstream,
                metricsPort: args.metricsPort,
                metricsAddress: args.metricsAddress,
                registryMetrics: registry.metricsUpstream,
                users,
                port: args.port,
                bindAddress: args.bindAddress,
                restart: args.restart,
                instance: name,
            },
            { parent: this },
        );

        this.url = pulumi.output(`https://${host}`);
        this.host = pulumi.output(host);
        this.port = pulumi.output(proxy.port);
        this.caCertificatePem = tls.caCertificatePem;
        this.htpasswd = credentials.htpasswd;
        this.passwords = credentials.passwords;
        this.networkName = network.name;
        this.volumeName = volume === undefined ? pulumi.output(undefined) : volume.name;
        this.proxyContainerName = proxy.containerName;
        this.registryContainerName = registry.containerName;
        this.authMode = auth.mode;
        this.tokenServiceContainerName = token?.service.containerName;
        this.guardContainerName = guard.containerName;
        this.registerOutputs({
            guardContainerName: this.guardContainerName,
            authMode: this.authMode,
            tokenServiceContainerName: this.tokenServiceContainerName,
            url: this.url,
            host: this.host,
            port: this.port,
            caCertificatePem: this.caCertificatePem,
            htpasswd: this.htpasswd,
            passwords: this.passwords,
            networkName: this.networkName,
            volumeName: this.volumeName,
            proxyContainerName: this.proxyContainerName,
            registryContainerName: this.registryContainerName,
        });
    }
}
