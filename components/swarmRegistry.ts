import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AuthMode, tokenRouteFor } from "./auth";
import { checkNow, typeToken } from "./inputs";
import { GuardRoute, renderNginxConfig, TokenRoute } from "./nginxConfig";
import { guardSettings } from "./guard";
import { checkRegistryArgs, RegistryArgs, registryHost } from "./registryArgs";
import { edgeRole } from "./roles/edge";
import { proxyListenPort, proxyRole } from "./roles/proxy";
import { registryDataPath, registryPort, registryRole, registryTokenAuth, RegistryTokenAuth } from "./roles/registry";
import { guardRole, tokenServiceRole } from "./roles/tokenService";
import { roleService } from "./runtimes/swarm";
import { StorageKind } from "./storage";
import {
    checkStoragePlacement,
    PublishMode,
    SwarmReplicas,
    validateConstraints,
    validatePublishMode,
    validateSwarmReplicas,
} from "./swarmSettings";
import { registryFoundation } from "./registryFoundation";
import { defaultTokenIssuer, tokenServiceProgram, tokenServiceSettings, tokenSigningMaterial } from "./tokenServer";
import { tokenServicePort } from "./tokenService/files";
import { validateImageReference } from "./validation";
import { defaults } from "./defaults";

/** Tasks of each role unless `replicas` says otherwise: one can fail or roll while the other serves. */
export const defaultSwarmReplicas = 2;

/** Arguments of {@link SwarmRegistry}: the shared ones, and how its services run on the swarm. */
export interface SwarmRegistryArgs extends RegistryArgs {
    /**
     * Tasks per role.
     * @default { proxy: 2, registry: 2, tokenService: 2 }
     */
    readonly replicas?: SwarmReplicas;
    /**
     * Placement constraints of every service, e.g. `node.labels.registry==true`. With
     * filesystem storage they must pin the tasks to one node (`node.hostname==NAME`).
     * @default [] (any node)
     */
    readonly constraints?: string[];
    /**
     * How the HTTPS port is published: `ingress` (the routing mesh, which needs IPVS on the
     * nodes) or `host` (each node's own port, held by a TCP edge in front of the proxy's tasks).
     * @default "ingress"
     */
    readonly publishMode?: PublishMode;
    /**
     * The image of the edge in host mode: nginx with its stream module. Kept apart from
     * `nginxImage`, so that a new proxy image rolls without touching the edge, which holds the
     * node's port and so is replaced stop-first (a moment without the port on that node).
     * @default "nginx:1.28.0" (the package's pinned nginx)
     */
    readonly edgeImage?: string;
}

/** The arguments with defaults, checked without creating anything. */
export function checkSwarmRegistryArgs(args: SwarmRegistryArgs) {
    const shared = checkRegistryArgs(args);
    const constraints = validateConstraints("constraints", args.constraints);
    checkStoragePlacement(shared.storage, constraints);
    return {
        ...shared,
        replicas: validateSwarmReplicas("replicas", args.replicas, defaultSwarmReplicas),
        constraints,
        publishMode: validatePublishMode("publishMode", args.publishMode ?? PublishMode.Ingress),
        edgeImage: validateImageReference("edgeImage", args.edgeImage ?? defaults.nginxImage),
    };
}

/**
 * The authenticated registry as Docker Swarm services: the same roles as `AuthenticatedRegistry`
 * (nginx config, TLS material, credentials and grants unchanged), run as replicated services on
 * an overlay network. Files are Swarm secrets and configs named by content, so every change of a
 * password, certificate or image rolls the services one task at a time, start-first.
 */
export class SwarmRegistry extends pulumi.ComponentResource {
    /** `https://HOST:PORT`, the registry's address. */
    public readonly url: pulumi.Output<string>;
    /** `HOST:PORT` as it appears in image references and `docker login`. */
    public readonly host: pulumi.Output<string>;
    /** The published HTTPS port. */
    public readonly port: pulumi.Output<number>;
    /** The CA certificate clients must trust. */
    public readonly caCertificatePem: pulumi.Output<string>;
    /** The htpasswd file content (secret). */
    public readonly htpasswd: pulumi.Output<string>;
    /** Each user's password by user name (secret). */
    public readonly passwords: pulumi.Output<Record<string, string>>;
    /** The overlay network's name; attachable, for tools such as backups. */
    public readonly networkName: pulumi.Output<string>;
    /** The data volume's name; undefined with s3 storage. */
    public readonly volumeName: pulumi.Output<string | undefined>;
    /** The nginx service's name. */
    public readonly proxyServiceName: pulumi.Output<string>;
    /** The registry service's name. */
    public readonly registryServiceName: pulumi.Output<string>;
    /** The token service's service name; token mode only. */
    public readonly tokenServiceName: pulumi.Output<string> | undefined;
    /** The guard's service name: basic mode's guard, or in token mode the token service. */
    public readonly guardServiceName: pulumi.Output<string>;
    /** The edge service's name; host publish mode only. */
    public readonly edgeServiceName: pulumi.Output<string> | undefined;
    /** `basic` or `token`. */
    public readonly authMode: AuthMode;

    constructor(name: string, args: SwarmRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("SwarmRegistry"), name, {}, opts);
        const checked = checkNow(this, () => checkSwarmRegistryArgs(args));
        const { users, auth, storage, replicas, constraints } = checked;
        const host = registryHost(args.domain, checked.port);
        // Attachable, so one-off containers (a backup, garbage collection) can reach the services;
        // with filesystem storage, the volume is local to the node the constraints pin every task to.
        const { tls, credentials, network, volume } = registryFoundation(
            name,
            args,
            checked,
            { driver: "overlay", attachable: true },
            this,
        );
        const serviceName = (role: string) => `${name}-${role}`;
        // The object store's network, by name in the arguments, by ID for the services.
        const storageNetwork =
            storage.kind === StorageKind.S3 && storage.network !== undefined
                ? docker.getNetworkOutput({ name: storage.network }, { parent: this }).id
                : undefined;
        const placement = (role: string, count: number) => ({
            serviceName: serviceName(role),
            instance: name,
            networks: [network.id, ...(storageNetwork === undefined ? [] : [storageNetwork])],
            replicas: count,
            constraints,
            // nginx asks DNS for every task and retries the next on failure; no IPVS needed.
            endpointMode: "dnsrr" as const,
        });

        // One secret for every registry task, or an upload begun on one task fails on another.
        const httpSecret = new random.RandomPassword(`${name}-http-secret`, { length: 48, special: false }, { parent: this });

        const guard = guardSettings(checked.loginThrottle, checked.writeHoldSeconds);
        let tokenRoute: TokenRoute | undefined;
        let tokenService: docker.Service | undefined;
        let tokenAuth: RegistryTokenAuth | undefined;
        if (auth.mode === AuthMode.Token) {
            const issuer = defaultTokenIssuer;
            const { key, certificate } = tokenSigningMaterial(`${name}-token`, { issuer }, this);
            tokenService = roleService(
                `${name}-token`,
                tokenServiceRole({
                    image: auth.tokenServiceImage,
                    program: tokenServiceProgram(),
                    settings: tokenServiceSettings({
                        issuer,
                        service: host,
                        lifetimeSeconds: auth.tokenLifetimeSeconds,
                        users,
                        passwordHashes: credentials.passwordHashes,
                        guard,
                    }),
                    privateKeyPem: key.privateKeyPemPkcs8,
                    certificatePem: certificate.certPem,
                }),
                placement("token", replicas.tokenService),
                this,
            );
            tokenRoute = tokenRouteFor(auth, `${serviceName("token")}:${tokenServicePort}`);
            tokenAuth = registryTokenAuth(host, issuer, certificate.certPem);
        }

        const registry = roleService(
            `${name}-registry`,
            registryRole({
                image: checked.registryImage,
                storage,
                httpSecret: httpSecret.result,
                deleteEnabled: checked.deleteEnabled,
                metrics: false,
                tokenAuth,
            }),
            {
                ...placement("registry", replicas.registry),
                ...(volume === undefined ? {} : { mounts: [{ type: "volume", source: volume.name, target: registryDataPath }] }),
            },
            this,
        );

        // Basic mode's guard: one task, so that its counts of failed logins and its hold on writes
        // are whole; in token mode each token service task guards the requests it is given.
        const guardService =
            tokenService ??
            roleService(
                `${name}-guard`,
                guardRole({ image: checked.guardImage, program: tokenServiceProgram(), settings: JSON.stringify(guard, null, 2) }),
                placement("guard", 1),
                this,
            );
        const guardRoute: GuardRoute = {
            upstream: `${serviceName(tokenService === undefined ? "guard" : "token")}:${tokenServicePort}`,
            // Token mode's token service checks the passwords and counts the failures itself.
            loginThrottle: tokenService === undefined && guard.loginThrottle !== undefined,
            writeHoldSeconds: guard.writeHoldSeconds,
        };

        const published = { targetPort: proxyListenPort, publishedPort: checked.port, protocol: "tcp" };
        const config = renderNginxConfig({
            serverName: args.domain,
            realm: args.domain,
            upstream: `${serviceName("registry")}:${registryPort}`,
            listenPort: proxyListenPort,
            users,
            token: tokenRoute,
            guard: guardRoute,
        });
        const proxy = roleService(
            `${name}-nginx`,
            proxyRole({
                image: checked.nginxImage,
                config,
                htpasswd: tokenRoute === undefined ? credentials.htpasswd : undefined,
                certificatePem: tls.certificatePem,
                privateKeyPem: tls.privateKeyPem,
                users,
            }),
            checked.publishMode === PublishMode.Ingress
                ? // The routing mesh balances over a virtual IP, which dnsrr would not have.
                  { ...placement("nginx", replicas.proxy), endpointMode: "vip", ports: [{ ...published, publishMode: "ingress" }] }
                : placement("nginx", replicas.proxy),
            this,
            { dependsOn: [registry, guardService] },
        );
        const edge =
            checked.publishMode === PublishMode.Host
                ? roleService(
                      `${name}-edge`,
                      edgeRole({
                          image: checked.edgeImage,
                          proxyTasks: `tasks.${serviceName("nginx")}`,
                          proxyPort: proxyListenPort,
                          listenPort: proxyListenPort,
                      }),
                      { ...placement("edge", 1), replicas: "global", ports: [{ ...published, publishMode: "host" }] },
                      this,
                      { dependsOn: [proxy] },
                  )
                : undefined;

        this.url = pulumi.output(`https://${host}`);
        this.host = pulumi.output(host);
        this.port = pulumi.output(checked.port);
        this.caCertificatePem = tls.caCertificatePem;
        this.htpasswd = credentials.htpasswd;
        this.passwords = credentials.passwords;
        this.networkName = network.name;
        this.volumeName = volume === undefined ? pulumi.output(undefined) : volume.name;
        this.proxyServiceName = proxy.name;
        this.registryServiceName = registry.name;
        this.tokenServiceName = tokenService?.name;
        this.edgeServiceName = edge?.name;
        this.guardServiceName = guardService.name;
        this.authMode = auth.mode;
        this.registerOutputs({
            url: this.url,
            host: this.host,
            port: this.port,
            caCertificatePem: this.caCertificatePem,
            htpasswd: this.htpasswd,
            passwords: this.passwords,
            networkName: this.networkName,
            volumeName: this.volumeName,
            proxyServiceName: this.proxyServiceName,
            registryServiceName: this.registryServiceName,
            tokenServiceName: this.tokenServiceName,
            edgeServiceName: this.edgeServiceName,
            guardServiceName: this.guardServiceName,
            authMode: this.authMode,
        });
    }
}
