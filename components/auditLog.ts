/**
 * The audit trail: one JSON line per request that touches content (a manifest pulled, pushed or
 * deleted, a blob deleted, an upload refused) and per login (`/token`), written by nginx to its output beside its
 * access log. The runtime keeps that output in log files it rotates (Docker's json-file driver
 * on one host and on a swarm, the kubelet on Kubernetes), where a log shipper reads it. No line
 * holds a password, a token or a query string.
 */
import { proxyDefaults } from "./defaults";
import { repositoryComponent } from "./grants";
import { tokenIdentityHeader, tokenIdentityPath } from "./tokenService/files";

/** What an audit line says the request was; `denied` when the answer refused it (401, 403 or 429). */
export const AuditAction = {
    Pull: "pull",
    Push: "push",
    Delete: "delete",
    Login: "login",
    Denied: "denied",
} as const;
/** One of {@link AuditAction}'s values. */
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

/** One audit line, as nginx writes it. */
export interface AuditLine {
    /** When the answer was sent, ISO 8601 with the offset. */
    readonly time: string;
    /**
     * The user: in basic mode, the one the credentials name; in token mode, the one the login's
     * credentials name, or the one a verified bearer token names; empty without either.
     */
    readonly user: string;
    /** The client's address. */
    readonly address: string;
    /** What the request did, or `denied`. */
    readonly action: AuditAction;
    /** What a `denied` request asked to do; the action itself otherwise. */
    readonly requested: Exclude<AuditAction, "denied">;
    /** The repository, empty for a login. */
    readonly repository: string;
    /** The tag or digest, empty for a login. */
    readonly reference: string;
    /** The HTTP status of the answer. */
    readonly status: number;
    /** Bytes of the answer's body. */
    readonly bytes: number;
}

/**
 * The http-level blocks: what each request is for the audit, and the line's format. In token mode
 * (`tokenMode`) a content request's user is the one the token service read from its token
 * ({@link renderAuditIdentityDirectives}).
 */
export function renderAuditMaps(tokenPath: string, tokenMode: boolean): string {
    const name = `${repositoryComponent}(?:/${repositoryComponent})*`;
    // The raw request line, which no rewrite changes (a refused password is rewritten to the guard's path).
    const query = "(?:\\?.*)?";
    const content = `^/v2/(?<audit_repository>${name})/(?:manifests|blobs)/(?<audit_reference>[^/?]+)${query}$`;
    return `# The audit trail: what a request is, if it touches content or logs in; others are not audited.
map "$request_method $request_uri" $registry_audit_requested {
  default "";
  "~^(?:GET|HEAD) /v2/${name}/manifests/[^/?]+${query}$" pull;
  "~^PUT /v2/${name}/manifests/[^/?]+${query}$" push;
  "~^DELETE /v2/${name}/(?:manifests|blobs)/[^/?]+${query}$" delete;
  "~^GET ${tokenPath}${query}$" login;
  "~^POST /v2/${name}/blobs/uploads/${query}$" upload;
}

# An upload is a push: audited when refused, as the push it begins.
map $registry_audit_requested $registry_audit_asked {
  default $registry_audit_requested;
  upload push;
}

map $request_uri $registry_audit_repository {
  default "";
  "~${content}" $audit_repository;
  "~^/v2/(?<audit_upload_repository>${name})/blobs/uploads/${query}$" $audit_upload_repository;
}

map $request_uri $registry_audit_reference {
  default "";
  "~${content}" $audit_reference;
}

map "$registry_audit_requested:$status" $registry_audit_action {
  "~^:" "";
  "~^[a-z]+:(?:401|403|429)$" denied;
  "~^upload:" "";
  "~^(?<audit_requested>[a-z]+):" $audit_requested;
}

${
    tokenMode
        ? `# A login names its user in its credentials; any other request only in its token, which the
# token service verified (a password sent to /v2/ proves nothing in token mode).
map $registry_audit_requested $registry_audit_user {
  default $registry_token_user;
  login $remote_user;
}

`
        : ""
}log_format registry_audit escape=json '{"time":"$time_iso8601","user":"${tokenMode ? "$registry_audit_user" : "$remote_user"}","address":"$remote_addr",'
  '"action":"$registry_audit_action","requested":"$registry_audit_asked","repository":"$registry_audit_repository",'
  '"reference":"$registry_audit_reference","status":$status,"bytes":$body_bytes_sent}';`;
}

/** The server-level directives: the audit lines to `auditLog`, and the access log as the image writes it, to `accessLog`. */
export function renderAuditLogDirectives(accessLog: string, auditLog: string): string {
    return `  # The audit lines go beside the access log, which a server-level access_log would otherwise replace.
  access_log ${accessLog} combined;
  access_log ${auditLog} registry_audit if=$registry_audit_action;`;
}

/** Where nginx asks the token service for a token's user. */
const auditIdentityLocation = "/_audit/identity";

/** In token mode, the directives of the `/v2/` location by which each audited request learns its token's user. */
export function renderAuditIdentityDirectives(): string {
    return `    # The audit trail names the user of the token, which only the token service can read.
    auth_request ${auditIdentityLocation};
    auth_request_set $registry_token_user $upstream_http_${tokenIdentityHeader.toLowerCase().replace(/-/g, "_")};`;
}

/**
 * The location that asks: only for a request the trail records (a blob download or the API root
 * passes at once), and with the bearer token alone. The answer never refuses a request: the
 * registry checks the token. Without an answer the request goes on and its line names no user.
 */
export function renderAuditIdentityLocations(): string {
    return `  location = ${auditIdentityLocation} {
    internal;
    if ($registry_audit_requested = "") {
      return 204;
    }
    proxy_method                        GET;
    proxy_pass                          http://$token_upstream${tokenIdentityPath};
    proxy_pass_request_body             off;
    proxy_set_header  Content-Length    "";
    proxy_set_header  Authorization     $registry_bearer;
    proxy_connect_timeout               ${proxyDefaults.connectTimeoutSeconds};
    # A verification takes a millisecond; a service that takes seconds is not answering.
    proxy_read_timeout                  ${proxyDefaults.connectTimeoutSeconds};
    # Any other answer than the service's 204, or none, lets the request go on: auth_request
    # would make it a 500.
    proxy_intercept_errors              on;
    error_page 400 401 403 404 500 502 503 504 = @audit_identity_unknown;
  }

  location @audit_identity_unknown {
    return 204;
  }
`;
}
