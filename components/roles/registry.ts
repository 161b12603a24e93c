import * as pulumi from "@pulumi/pulumi";
import { CheckedMirror, mirrorCacheDirectory, mirrorProxyEnvironment, mirrorRole } from "../mirrors";
import { CheckedNotificationEndpoint, notificationEnvironment } from "../notifications";
import { proxyDefaults, roles } from "../defaults";
import { metricsPath } from "../nginxConfig";
import { CheckedStorage, s3Environment, StorageKind } from "../storage";
import { tokenIssuer, tokenPath } from "../tokenService/files";
import { RoleSpec } from "./spec";

/** Where the registry keeps its data inside the container, as in the seed. */
export const registryDataPath = "/data";
/** The port the registry listens on inside the container. */
export const registryPort = 5000;
/** Where the registry finds the token signing certificate. */
export const tokenCertificatePath = "/etc/distribution-auth/token-signing.crt";

/** The registry's `auth.token` settings. */
export interface RegistryTokenAuth {
    /** Where clients get tokens: `https://HOST:PORT/token`, the URL the registry's 401 challenge names. */
    readonly realm: string;
    /** The service name tokens must carry as `aud`, and clients ask for. */
    readonly service: string;
    /** The issuer tokens must carry as `iss`. */
    readonly issuer: string;
    /** The certificate (PEM) of the key tokens are signed with. */
    readonly signingCertificatePem: pulumi.Input<string>;
}

/**
 * The registry's token settings for clients that know it as `host` (`HOST:PORT`): tokens for
 * that service, from the token service behind nginx's `/token` on the same address.
 */
export function registryTokenAuth(host: string, signingCertificatePem: pulumi.Input<string>): RegistryTokenAuth {
    return { realm: `https://${host}${tokenPath}`, service: host, issuer: tokenIssuer, signingCertificatePem };
}

/** What {@link registryRole} needs: checked settings, no Docker resources. */
export interface RegistryRoleArgs {
    readonly image: pulumi.Input<string>;
    readonly storage: CheckedStorage;
    /** `REGISTRY_HTTP_SECRET`: one value shared by every instance and restart. */
    readonly httpSecret: pulumi.Input<string>;
    readonly deleteEnabled: boolean;
    readonly metrics: boolean;
    readonly tokenAuth?: RegistryTokenAuth;
    /**
     * Webhook endpoints the registry sends its events to.
     * @default [] (none)
     */
    readonly notifications?: readonly CheckedNotificationEndpoint[];
    /**
     * Run as this mirror's pull-through cache instead: its own role, its cache under its own
     * prefix of the storage; it takes no token, delete, webhook or metrics settings.
     * @default undefined (the registry clients push to)
     */
    readonly mirror?: CheckedMirror;
}

/** Where the registry keeps content: the storage's root, or a mirror's prefix under it. */
function storageEnvironment(storage: CheckedStorage, mirror: CheckedMirror | undefined): pulumi.Input<string>[] {
    const under = mirror === undefined ? undefined : mirrorCacheDirectory(mirror.name);
    if (storage.kind === StorageKind.S3) {
        const root = storage.rootDirectory?.replace(/\/$/, "");
        return s3Environment(
            under === undefined ? storage : { ...storage, rootDirectory: root === undefined ? `/${under}` : `${root}/${under}` },
        );
    }
    return [`REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=${under === undefined ? registryDataPath : `${registryDataPath}/${under}`}`];
}

/** A mirror's registry: {@link registryRole} in proxy mode, under its own role label. */
export function mirrorRegistryRole(mirror: CheckedMirror, args: Pick<RegistryRoleArgs, "image" | "storage" | "httpSecret">): RoleSpec {
    return registryRole({ ...args, deleteEnabled: false, metrics: false, mirror });
}

/** The distribution registry, configured through its environment; version 2.8 and 3 alike. */
export function registryRole(args: RegistryRoleArgs): RoleSpec {
    const token = args.tokenAuth;
    return {
        role: args.mirror === undefined ? roles.registry : mirrorRole(args.mirror.name),
        image: args.image,
        env: [
            ...storageEnvironment(args.storage, args.mirror),
            pulumi.secret(pulumi.interpolate`REGISTRY_HTTP_SECRET=${args.httpSecret}`),
            // The images' config caches blob descriptors in memory; after a garbage
            // collection (scripts/gc.sh, run beside the serving process) that cache still
            // names deleted blobs, so a re-push skips them and the image cannot be pulled.
            // No cache: the registry logs "unknown cache type", and looks blobs up in storage.
            "REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR=",
            // Registry 3 exports OpenTelemetry traces to localhost:4318 by default and logs
            // an error every few seconds when nothing listens there; 2.8 ignores this.
            "OTEL_TRACES_EXPORTER=none",
            // Only when asked, so that a stack without delete grants keeps its container.
            ...(args.deleteEnabled ? ["REGISTRY_STORAGE_DELETE_ENABLED=true"] : []),
            ...(args.metrics
                ? [
                      `REGISTRY_HTTP_DEBUG_ADDR=:${proxyDefaults.registryMetricsPort}`,
                      "REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED=true",
                      // The path nginx's metrics server forwards as it is.
                      `REGISTRY_HTTP_DEBUG_PROMETHEUS_PATH=${metricsPath}`,
                  ]
                : []),
            ...notificationEnvironment(args.notifications ?? []),
            ...(args.mirror === undefined ? [] : mirrorProxyEnvironment(args.mirror)),
            ...(token === undefined
                ? []
                : [
                      "REGISTRY_AUTH=token",
                      `REGISTRY_AUTH_TOKEN_REALM=${token.realm}`,
                      `REGISTRY_AUTH_TOKEN_SERVICE=${token.service}`,
                      `REGISTRY_AUTH_TOKEN_ISSUER=${token.issuer}`,
                      `REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE=${tokenCertificatePath}`,
                  ]),
        ],
        files:
            token === undefined ? [] : [{ path: tokenCertificatePath, content: token.signingCertificatePem, secret: false, mode: "0644" }],
        // The images' start: registry 3 keeps its config in /etc/distribution, 2.8 in /etc/docker/registry.
        start: [
            "/bin/sh",
            "-c",
            'for config in /etc/distribution/config.yml /etc/docker/registry/config.yml; do [ -f "$config" ] && exec /entrypoint.sh "$config"; done; exit 1',
        ],
        healthCommand: ["wget", "-q", "--spider", `http://127.0.0.1:${registryPort}/`],
        listenPort: registryPort,
        labels: [],
    };
}
