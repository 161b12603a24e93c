import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { componentLabels, RestartPolicy } from "./containerSettings";
import { defaults } from "./defaults";
import { anyDeleteGranted, RegistryUser, UserAccess } from "./access";
import { AuthMode, defaultBcryptCostFor, RegistryAuth, validateAuth } from "./auth";
import { TokenRoute } from "./nginxConfig";
import { tokenPath } from "./tokenService/files";
import { TokenService } from "./tokenServer";
import { checkHtpasswdArgs, HtpasswdCredentials } from "./htpasswdCredentials";
import { checkNow, typeToken } from "./inputs";
import { checkNginxAuthProxyArgs, NginxAuthProxy } from "./nginxAuthProxy";
import { checkRegistryServerArgs, RegistryServer } from "./registryServer";
import { checkTlsMaterialArgs, TlsMaterial, TlsMaterialArgs } from "./tlsMaterial";
import { RegistryStorage, StorageKind, validateStorage } from "./storage";
import { InvalidArgumentError, validateBoolean, validateImageReference } from "./validation";

/** Arguments of {@link AuthenticatedRegistry}. */
export interface AuthenticatedRegistryArgs {
    /** The host name clients use, e.g. `registry.example.com` or `localhost`. */
    readonly domain: string;
    /**
     * The HTTPS port published on the host.
     * @default 5043
     */
    readonly port?: number;
    /**
     * The host address the HTTPS port is published on.
     * @default "0.0.0.0"
     */
    readonly bindAddress?: string;
    /**
     * The users who may log in, at least one, and what each may do: a user without `access`
     * may pull and push every repository and list the catalog.
     */
    readonly users: RegistryUser[];
    /**
     * The bcrypt cost of the password hashes, 4 to 31.
     * @default 8 in basic mode, where nginx checks a hash on every request; 12 in token mode, where it is checked once per token
     */
    readonly bcryptCost?: number;
    /**
     * How clients authenticate: `basic` (nginx checks the password on every request) or
     * `token` (a token service checks it once and issues short-lived tokens the registry
     * verifies). Grants apply alike in both; switching keeps every image.
     * @default { mode: "basic" }
     */
    readonly auth?: RegistryAuth;
    /**
     * TLS material: generated (default) or supplied. The domain is taken from `domain`.
     * @default { mode: "generated" }
     */
    readonly tls?: Omit<TlsMaterialArgs, "domain">;
    /**
     * The nginx image reference; pin a tag or digest.
     * @default "nginx:1.28.0"
     */
    readonly nginxImage?: string;
    /**
     * The registry image reference; pin a tag or digest.
     * @default "registry:3.0.0" (registry 2 stays selectable: "registry:2.8.3")
     */
    readonly registryImage?: string;
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
     * Where images are kept: a Docker volume on this host, or an S3 bucket (AWS, or an
     * S3-compatible server such as MinIO). `dataVolumeName` and `deleteDataOnDestroy` apply to
     * filesystem storage only. Switching kinds does not move images: the volume is kept.
     * @default { kind: "filesystem" }
     */
    readonly storage?: RegistryStorage;
    /**
     * The name of the Docker volume holding the images; name an existing volume to adopt its data.
     * @default "<name>-data"
     */
    readonly dataVolumeName?: string;
    /**
     * Delete the data volume, and every pushed image in it, on `pulumi destroy` or replacement.
     * @default false (the volume is kept and a later `up` serves its images again)
     */
    readonly deleteDataOnDestroy?: boolean;
    /**
     * Turns on the registry's delete API (`DELETE` of manifests and blobs), which garbage
     * collection needs; who may use it is still up to each user's grants. A grant of `delete`
     * turns it on by itself; `false` with such a grant is refused.
     * @default false, or true when a user has a grant of delete
     */
    readonly deleteEnabled?: boolean;
    /**
     * When Docker restarts the containers.
     * @default "unless-stopped"
     */
    readonly restart?: RestartPolicy;
}

/**
 * Whether the registry's delete API is on: as asked, else when some of the (checked) users may
 * delete; never off under a delete grant.
 */
export function checkDeleteEnabled(deleteEnabled: unknown, users: readonly Required<UserAccess>[]): boolean {
    const granted = anyDeleteGranted(users);
    const asked = deleteEnabled === undefined ? undefined : validateBoolean("deleteEnabled", deleteEnabled);
    if (asked === false && granted) {
        throw new InvalidArgumentError("deleteEnabled", "is false, but a user has a grant of delete; remove the grant or the setting");
    }
    return asked ?? granted;
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

    constructor(name: string, args: AuthenticatedRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("AuthenticatedRegistry"), name, {}, opts);
        // Every argument is checked before the first child exists, so a refusal creates nothing.
        const [nginxImageRef, registryImageRef, users, deleteEnabled, auth, publishedPort, storage] = checkNow(this, () => {
            const auth = validateAuth("auth", args.auth);
            const storage = validateStorage("storage", args.storage);
            if (storage.kind === StorageKind.S3) {
                for (const field of ["dataVolumeName", "deleteDataOnDestroy"] as const) {
                    if (args[field] !== undefined) {
                        throw new InvalidArgumentError(
                            field,
                            "applies to filesystem storage only; remove it, or use storage kind filesystem",
                        );
                    }
                }
            }
            checkTlsMaterialArgs({ ...args.tls, domain: args.domain }, "tls.");
            checkHtpasswdArgs({ users: args.users, bcryptCost: args.bcryptCost ?? defaultBcryptCostFor(auth.mode) });
            checkRegistryServerArgs(args);
            // The proxy's check validates the users' grants; they are checked once, here.
            const proxyArgs = checkNginxAuthProxyArgs(args);
            const users = proxyArgs.users ?? [];
            return [
                validateImageReference("nginxImage", args.nginxImage ?? defaults.nginxImage),
                validateImageReference("registryImage", args.registryImage ?? defaults.registryImage),
                users,
                checkDeleteEnabled(args.deleteEnabled, users),
                auth,
                proxyArgs.port,
                storage,
            ] as const;
        });
        const host = publishedPort === 443 ? args.domain : `${args.domain}:${publishedPort}`;
        const tls = new TlsMaterial(`${name}-tls`, { ...args.tls, domain: args.domain }, { parent: this });
        const credentials = new HtpasswdCredentials(
            `${name}-credentials`,
            { users: args.users, bcryptCost: args.bcryptCost ?? defaultBcryptCostFor(auth.mode) },
            { parent: this },
        );

        const network = new docker.Network(
            `${name}-network`,
            { name: `${name}-network`, driver: "bridge", labels: componentLabels(name) },
            { parent: this, deleteBeforeReplace: true },
        );
        // Only filesystem storage has a volume. A switch to s3 leaves it on the host (retained), with its images.
        const volume =
            storage.kind === StorageKind.Filesystem
                ? new docker.Volume(
                      `${name}-data`,
                      { name: args.dataVolumeName ?? `${name}-data`, labels: componentLabels(name) },
                      { parent: this, retainOnDelete: !(args.deleteDataOnDestroy ?? false), deleteBeforeReplace: true },
                  )
                : undefined;
        // Images already on the host are used as they are; keepLocally leaves them there on destroy.
        const nginxImage = new docker.RemoteImage(`${name}-nginx-image`, { name: nginxImageRef, keepLocally: true }, { parent: this });
        const registryImage = new docker.RemoteImage(
            `${name}-registry-image`,
            { name: registryImageRef, keepLocally: true },
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
                },
                { parent: this },
            );
            const route = { upstream: service.upstream, requestsPerMinute: auth.tokenRequestsPerMinute, burst: auth.tokenRequestBurst };
            token = { service, route };
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
                    token === undefined
                        ? undefined
                        : {
                              realm: `https://${host}${tokenPath}`,
                              service: host,
                              issuer: token.service.issuer,
                              signingCertificatePem: token.service.signingCertificatePem,
                          },
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
        this.registerOutputs({
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
