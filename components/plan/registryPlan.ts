/**
 * The registry as a runtime-neutral plan: which roles run, with which files and environment, the
 * secrets they share and the routes between them, computed once from the checked arguments. It
 * makes the material every runtime needs alike (TLS, credentials, the registry's HTTP secret,
 * the token signing key) and no process: a runtime (`runtimes/`) runs the roles.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AuthMode, tokenRouteFor } from "../auth";
import { proxyDefaults, roleKind, roles } from "../defaults";
import { guardSettings } from "../guard";
import { HtpasswdCredentials } from "../htpasswdCredentials";
import { GuardRoute, renderNginxConfig, TokenRoute } from "../nginxConfig";
import { CheckedRegistryArgs, RegistryArgs, registryHost } from "../registryArgs";
import { proxyListenPort, proxyRole } from "../roles/proxy";
import { mirrorRole } from "../mirrors";
import { mirrorRegistryRole, registryPort, registryRole, registryTokenAuth, RegistryTokenAuth } from "../roles/registry";
import { RoleSpec } from "../roles/spec";
import { guardRole, tokenServiceRole } from "../roles/tokenService";
import { TlsMaterial } from "../tlsMaterial";
import { tokenServicePort } from "../tokenService/files";
import { tokenServiceProgram, tokenServiceSettings, tokenSigningMaterial } from "./tokenIssuer";

/**
 * The word each role's resources and processes are named by (`NAME-nginx`, `NAME-token`), as
 * stacks have had them since the first release: renaming them would replace running processes.
 */
export const processWords: Readonly<Record<string, string>> = {
    [roles.proxy]: "nginx",
    [roles.registry]: "registry",
    [roles.tokenService]: "token",
    [roles.guard]: "guard",
    [roles.edge]: "edge",
};

/** The word a role's resources and processes are named by: {@link processWords}, or a mirror's own role label. */
export function processWord(role: string): string {
    return processWords[role] ?? role;
}

/** The plan's resources that are not processes, which a runtime may have kept elsewhere before. */
export type SharedResource = "httpSecret" | "signingKey" | "signingCertificate";

/** How the roles reach one another in a runtime, and what it serves. */
export interface PlanAddressing {
    /** The host name by which the other roles reach `role` (a role label) on the runtime's network. */
    hostOf(role: string): string;
    /** Whether the proxy serves the registry's and its own metrics on its metrics port. */
    readonly metrics: boolean;
    /**
     * The DNS server nginx asks for the other roles' addresses.
     * @default "127.0.0.11" (Docker's embedded DNS, `proxyDefaults.resolver`)
     */
    readonly resolver?: string;
}

/** One role of the plan. */
export interface PlannedRole {
    /** What runs, independent of the runtime. */
    readonly spec: RoleSpec;
    /** The word its resources and processes are named by ({@link processWord}). */
    readonly word: string;
    /**
     * The role whose runtime settings it takes (replicas, resources, probes, security):
     * {@link roleKind} of its label.
     */
    readonly kind: string;
    /** The roles (labels) it sends requests to; they run first. */
    readonly dependsOn: readonly string[];
    /** Whether it keeps the images: it mounts the data volume, or reaches the object store. */
    readonly storage: boolean;
    /** Whether clients reach it: it takes the published HTTPS port. */
    readonly entry: boolean;
}

/** The registry, planned. */
export interface RegistryPlan {
    /** The component's name, which prefixes every resource's. */
    readonly name: string;
    /** `HOST:PORT` as clients write it. */
    readonly host: string;
    readonly checked: CheckedRegistryArgs;
    readonly tls: TlsMaterial;
    readonly credentials: HtpasswdCredentials;
    /** The roles, each after the roles it depends on. */
    readonly roles: readonly PlannedRole[];
}

/**
 * Plans the registry named `name` for a runtime's `addressing`, making the shared material
 * under `parent`; `previous` carries shared resources from where a runtime kept them before.
 */
export function planRegistry(
    name: string,
    args: RegistryArgs,
    checked: CheckedRegistryArgs,
    addressing: PlanAddressing,
    previous: Partial<Record<SharedResource, pulumi.Alias[]>>,
    parent: pulumi.Resource,
): RegistryPlan {
    const { users, auth } = checked;
    const host = registryHost(args.domain, checked.port);
    const tls = new TlsMaterial(`${name}-tls`, { ...args.tls, domain: args.domain }, { parent });
    const credentials = new HtpasswdCredentials(`${name}-credentials`, { users: args.users, bcryptCost: checked.bcryptCost }, { parent });
    // One secret for every registry process and restart, or an upload begun on one fails on another.
    const httpSecret = new random.RandomPassword(
        `${name}-http-secret`,
        { length: 48, special: false },
        { parent, aliases: previous.httpSecret },
    );
    const address = (role: string, port: number) => `${addressing.hostOf(role)}:${port}`;
    const guard = guardSettings(checked.loginThrottle, checked.writeHoldSeconds);
    const planned: PlannedRole[] = [];
    const add = (spec: RoleSpec, options: Partial<Pick<PlannedRole, "dependsOn" | "storage" | "entry">> = {}) =>
        planned.push({
            spec,
            word: processWord(spec.role),
            kind: roleKind(spec.role),
            dependsOn: [],
            storage: false,
            entry: false,
            ...options,
        });

    // Token mode: the token service checks passwords once per token and signs what each user may
    // do; the registry verifies the tokens, nginx only routes and limits. It is also the guard.
    let token: { route: TokenRoute; auth: RegistryTokenAuth } | undefined;
    let guardRoute: GuardRoute;
    if (auth.mode === AuthMode.Token) {
        const { key, certificate } = tokenSigningMaterial(`${name}-token`, parent, {
            key: previous.signingKey,
            certificate: previous.signingCertificate,
        });
        add(
            tokenServiceRole({
                image: auth.tokenServiceImage,
                program: tokenServiceProgram(),
                settings: tokenServiceSettings({
                    service: host,
                    lifetimeSeconds: auth.tokenLifetimeSeconds,
                    users,
                    passwordHashes: credentials.passwordHashes,
                    guard,
                }),
                privateKeyPem: key.privateKeyPemPkcs8,
                certificatePem: certificate.certPem,
            }),
        );
        const upstream = address(roles.tokenService, tokenServicePort);
        token = { route: tokenRouteFor(auth, upstream), auth: registryTokenAuth(host, certificate.certPem) };
        // The token service checks the passwords and counts the failures itself.
        guardRoute = { upstream, loginThrottle: false, writeHoldSeconds: guard.writeHoldSeconds };
    } else {
        // Basic mode's guard, which nginx asks around each password check and before each write.
        add(guardRole({ image: checked.guardImage, program: tokenServiceProgram(), settings: JSON.stringify(guard, null, 2) }));
        guardRoute = {
            upstream: address(roles.guard, tokenServicePort),
            loginThrottle: guard.loginThrottle !== undefined,
            writeHoldSeconds: guard.writeHoldSeconds,
        };
    }

    add(
        registryRole({
            image: checked.registryImage,
            storage: checked.storage,
            httpSecret: httpSecret.result,
            deleteEnabled: checked.deleteEnabled,
            notifications: checked.notifications,
            metrics: addressing.metrics,
            tokenAuth: token?.auth,
        }),
        { storage: true },
    );
    // Each mirror is a registry of its own in proxy mode, beside the registry, on the same storage.
    for (const mirror of checked.mirrors) {
        add(mirrorRegistryRole(mirror, { image: checked.registryImage, storage: checked.storage, httpSecret: httpSecret.result }), {
            storage: true,
        });
    }
    const mirrorRoutes = checked.mirrors.map((mirror) => ({ name: mirror.name, upstream: address(mirrorRole(mirror.name), registryPort) }));

    const config = renderNginxConfig({
        serverName: args.domain,
        realm: args.domain,
        upstream: address(roles.registry, registryPort),
        listenPort: proxyListenPort,
        resolver: addressing.resolver,
        users,
        immutableTags: checked.immutableTags,
        auditLog: checked.auditLog,
        mirrors: mirrorRoutes,
        token: token?.route,
        guard: guardRoute,
        metrics: addressing.metrics ? { registryMetrics: address(roles.registry, proxyDefaults.registryMetricsPort) } : undefined,
    });
    add(
        proxyRole({
            image: checked.nginxImage,
            config,
            htpasswd: token === undefined ? credentials.htpasswd : undefined,
            certificatePem: tls.certificatePem,
            privateKeyPem: tls.privateKeyPem,
            users,
        }),
        {
            dependsOn: [
                roles.registry,
                token === undefined ? roles.guard : roles.tokenService,
                ...checked.mirrors.map((m) => mirrorRole(m.name)),
            ],
            entry: true,
        },
    );

    return { name, host, checked, tls, credentials, roles: planned };
}
