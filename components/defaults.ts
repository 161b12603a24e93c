/**
 * Every default of the package, defined once. The components, the stack's config schema, the
 * policy pack and the documentation tests import them from here; nothing restates a value.
 * This module imports nothing, so the policy pack can read it without loading a provider SDK.
 */

/**
 * Official images, pinned. The seed's `nginx:1.9` cannot verify bcrypt and is a decade old;
 * registry 3 is the line distribution maintains and the first with the OCI 1.1 referrers API.
 */
export const defaultImages = {
    nginx: "nginx:1.28.0",
    registry: "registry:3.0.0",
    /** The token service is one bundled file on the official Node.js image of an LTS line. */
    tokenService: "node:22.23.5-bookworm-slim",
} as const;

/** Defaults of the arguments users set, keyed by argument name. */
export const defaults = {
    /** The HTTPS port published on the host, as in the seed. */
    port: 5043,
    /** Every IPv4 interface. */
    bindAddress: "0.0.0.0",
    /** The only loopback address every host has. */
    directAccessAddress: "127.0.0.1",
    /** Metrics are published on loopback only, like the direct port. */
    metricsAddress: "127.0.0.1",
    /** The region of an S3 bucket when none is given; also what S3-compatible servers expect by default. */
    s3Region: "us-east-1",
    /** The bcrypt cost of the htpasswd hashes; BENCHMARKS.md and the README say why 8. */
    bcryptCost: 8,
    /**
     * The bcrypt cost in token mode, where a password is checked once per token rather than on
     * every request (BENCHMARKS.md); 12 is what current guidance asks of bcrypt.
     */
    tokenBcryptCost: 12,
    /** Docker's restart policy for both containers. */
    restart: "unless-stopped",
    nginxImage: defaultImages.nginx,
    registryImage: defaultImages.registry,
    /** Basic mode's guard runs the token service's program, on the same image. */
    guardImage: defaultImages.tokenService,
    /** Keep the data volume on destroy. */
    deleteDataOnDestroy: false,
    auth: {
        mode: "basic",
        /** Five minutes: long enough for any one request, short enough that a revoked user is out soon. */
        tokenLifetimeSeconds: 300,
        /** Token requests per minute per client address at nginx, which answers 429 beyond them. */
        tokenRequestsPerMinute: 300,
        /** Requests over the rate nginx still serves at once before it answers 429. */
        tokenRequestBurst: 20,
        tokenServiceImage: defaultImages.tokenService,
    },
    /** Failed logins are counted and guessing is refused before any password is checked, out of the box. */
    loginThrottle: {
        enabled: true,
        /** Ten wrong passwords for one user from one address in a minute: more than a person mistypes. */
        maxFailures: 10,
        /** Thirty for any users from one address: a password tried against many names. */
        maxFailuresPerAddress: 30,
        windowSeconds: 60,
        /** The first refusal; each repeated offence within a day doubles it. */
        cooldownSeconds: 60,
        /** One hour at most. */
        maxCooldownSeconds: 3600,
    },
    /**
     * How long a write waits while garbage collection holds the registry, in seconds, before it
     * gets 503: long enough for a nightly collection of a mid-sized registry.
     */
    writeHoldSeconds: 120,
    tls: {
        mode: "generated",
        /** One year. */
        validityHours: 8760,
        /** Ten years. */
        caValidityHours: 87600,
        /** Thirty days. */
        earlyRenewalHours: 720,
    },
} as const;

/** How nginx reaches the registry; not user settings, but each defined once here. */
export const proxyDefaults = {
    /**
     * Docker's embedded DNS server, which every container on a user-defined network has. nginx
     * asks it for the registry's address instead of resolving the name once at start.
     */
    resolver: "127.0.0.11",
    /**
     * How long nginx keeps an answer, in seconds: the longest it may keep sending to an address
     * the registry has left. Docker's DNS answers locally, so asking often costs little.
     */
    resolverValidSeconds: 2,
    /**
     * Seconds nginx waits to connect to the registry. On the private bridge a connection takes
     * well under a millisecond; an address the registry has just left gives no answer at all, and
     * nginx's default of 60 s would hold the client that long instead of answering 503.
     */
    connectTimeoutSeconds: 2,
    /** Seconds nginx waits on the registry for a read or a write before giving up; the seed's 900. */
    upstreamTimeoutSeconds: 900,
    /** What nginx's `Retry-After` tells a client when the registry is not answering. */
    retryAfterSeconds: 5,
    /** What it tells a writer while the registry is read-only for garbage collection. */
    readOnlyRetryAfterSeconds: 30,
    /** The port of nginx's metrics server inside its container, published only where `metricsPort` says. */
    metricsListenPort: 9113,
    /** The port of the registry's debug server (Prometheus metrics), on the private network only. */
    registryMetricsPort: 5001,
} as const;

/** Limits of the login throttle that are not settings. */
export const loginThrottleDefaults = {
    /** Addresses and user-address pairs remembered at once: some megabytes at most. */
    maxEntries: 100_000,
} as const;

/** The labels every resource of one registry carries, for `docker ps --filter label=...`. */
export const labelKeys = {
    /** The `AuthenticatedRegistry` (or standalone component) the resource belongs to. */
    instance: "authenticated-registry.instance",
    /** On containers: `registry` or `proxy`; the policy pack reads it. */
    role: "authenticated-registry.role",
    /** On the proxy: each user's grants as JSON, so previews show them and the policy pack checks them. */
    access: "authenticated-registry.access",
    /** On a Swarm secret or config: the path its role reads it at; the policy pack reads it. */
    file: "authenticated-registry.file",
} as const;

/**
 * The `authenticated-registry.role` values of the containers. `proxy-files` is the one-shot
 * container that writes the proxy's files into its volume on a single host.
 */
export const roles = {
    registry: "registry",
    proxy: "proxy",
    tokenService: "token-service",
    guard: "guard",
    edge: "edge",
    proxyFiles: "proxy-files",
} as const;

/**
 * No audit trail unless asked. Apart from `defaults`, which the token service's bundle holds
 * whole: a byte more in the bundle replaces the guard and token containers on upgrade.
 */
export const auditLogDefault = false;

/** What the role label of a pull-through mirror's registry begins with: `mirror-hub` for the mirror `hub`. */
export const mirrorRolePrefix = "mirror-";

/**
 * The role whose rules and runtime settings a role label takes: a mirror's registry is a
 * registry (unauthenticated, storing content, sized and probed alike); every other role is its own.
 */
export function roleKind(role: string): string {
    return role.startsWith(mirrorRolePrefix) ? roles.registry : role;
}
