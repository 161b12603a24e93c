/** Where the token service finds what its container is given, and where it listens. Imports nothing. */
export const tokenServiceFiles = {
    directory: "/etc/token-service",
    /** The bundled program. */
    program: "/opt/token-service/token-service.js",
    /** {@link TokenServiceSettings} as JSON (secret: it holds the password hashes). */
    settings: "/etc/token-service/settings.json",
    privateKey: "/etc/token-service/signing.key",
    certificate: "/etc/token-service/signing.crt",
} as const;

/** The port the token service listens on inside its container. */
export const tokenServicePort = 5001;

/** The path the service answers tokens on, behind nginx at the same origin as the registry. */
export const tokenPath = "/token";
/** The path the container health check probes. */
export const tokenHealthPath = "/healthz";

/** The tokens' `iss`, which the registry checks. */
export const tokenIssuer = "authenticated-registry token service";
/**
 * The path nginx asks, in token mode with the audit trail, which user a request's bearer token
 * names; private to the proxy's network, never routed from outside.
 */
export const tokenIdentityPath = "/_token/identity";
/** The header of the identity answer that names the user. */
export const tokenIdentityHeader = "X-Registry-User";
