/**
 * Renders the nginx server configuration of the authenticating proxy. A pure function of its
 * options, golden-tested and checked with the real `nginx -t`.
 *
 * It keeps every directive of the registry documentation's `registry.conf` and fixes what
 * experience with that recipe showed to be wrong: the API-version header is sent exactly once,
 * only TLS 1.2 and 1.3 are offered, and large layers stream instead of being buffered.
 */
import { renderAuditIdentityDirectives, renderAuditIdentityLocations, renderAuditLogDirectives, renderAuditMaps } from "./auditLog";
import { ImmutableTagRule, immutableMapEntries } from "./immutableTags";
import { AccessAction, encodedSlash, patternRegex, patternsFor, repositoryComponent, unrestrictedGrants, UserAccess } from "./grants";
import { proxyDefaults } from "./defaults";
import { tokenPath } from "./tokenService/files";
import { guardPaths, throttledAnswer } from "./tokenService/guard";

/** Where nginx finds what the proxy container is given; the seed mounts all of it here. */
export const nginxPaths: NginxPaths = {
    directory: "/etc/nginx/conf.d",
    config: "/etc/nginx/conf.d/registry.conf",
    htpasswd: "/etc/nginx/conf.d/registry.password",
    certificate: "/etc/nginx/conf.d/domain.crt",
    privateKey: "/etc/nginx/conf.d/domain.key",
    /** The official image's default site, replaced so that nothing else listens. */
    defaultSite: "/etc/nginx/conf.d/default.conf",
    /** The access log as the official image writes it (a link to its output). */
    accessLog: "/var/log/nginx/access.log",
    /** The audit trail's lines: nginx's output, which the runtime keeps in rotated log files. */
    auditLog: "/dev/stdout",
};

/** The files nginx reads; see {@link nginxPaths}. */
export interface NginxPaths {
    readonly directory: string;
    readonly config: string;
    readonly htpasswd: string;
    readonly certificate: string;
    readonly privateKey: string;
    readonly defaultSite: string;
    readonly accessLog: string;
    readonly auditLog: string;
}

/**
 * The path load balancers probe, without credentials: 200 while the registry behind nginx
 * answers, 503 (the registry's own JSON error) while it does not.
 */
export const healthPath = "/healthz";
/** The path the container health check probes: nginx alone, whatever the registry's state. */
export const livenessPath = "/livez";
/** nginx's connection and request counters (`stub_status`), on the metrics port only. */
export const nginxStatusPath = "/nginx_status";
/** The registry's Prometheus metrics, on the metrics port only. */
export const metricsPath = "/metrics";

/** What a write gets when it waited for garbage collection longer than the hold allows. */
export const readOnlyBody = JSON.stringify({
    errors: [{ code: "UNAVAILABLE", message: "the registry is read-only for maintenance", detail: "writes resume shortly; retry" }],
});

/** What an attempt gets when its address is refused for too many failed logins. */
export const throttledBody = JSON.stringify(throttledAnswer);

/** Options of {@link renderNginxConfig}. */
export interface NginxConfigOptions {
    /** The host name clients use; becomes `server_name`. */
    readonly serverName: string;
    /** The registry as nginx reaches it on the private network, `host:port`. */
    readonly upstream: string;
    /** The realm the basic-auth challenge names. */
    readonly realm: string;
    /** The port nginx listens on inside the container. */
    readonly listenPort: number;
    /**
     * The DNS server nginx asks for the upstream's address.
     * @default "127.0.0.11" (Docker's embedded DNS)
     */
    readonly resolver?: string;
    /**
     * Each user's grants, checked by `validateUserAccess`. Requests are routed by what they do
     * to which repository, and refused with 403 unless a grant of the user allows it.
     * @default every authenticated user may pull and push everywhere and list the catalog
     */
    readonly users?: readonly Required<UserAccess>[];
    /**
     * Token mode: nginx checks no password on `/v2/` and passes only bearer tokens on, which the
     * registry verifies; `/token` goes to the token service, rate limited per client address.
     * @default undefined (basic mode: nginx checks the password and the grants on every request)
     */
    readonly token?: TokenRoute;
    /**
     * Serve metrics on a second port inside the container (`proxyDefaults.metricsListenPort`):
     * the registry's Prometheus endpoint at `/metrics`, proxied from `registryMetrics`
     * (`host:port` on the private network), and nginx's counters at `/nginx_status`. The HTTPS
     * server never serves either.
     * @default undefined (no metrics server)
     */
    readonly metrics?: { readonly registryMetrics: string };
    /**
     * The guard nginx asks before every write (held while garbage collection runs) and, in basic
     * mode with `loginThrottle`, before and after every password check. In token mode it is the
     * token service.
     * @default undefined (no guard: writes go straight on, and basic mode limits no failed logins)
     */
    readonly guard?: GuardRoute;
    /**
     * Immutable tag rules (`validateImmutableTags`): a push of a rule's tag that exists already,
     * a delete of a rule's tag and a delete by digest in a rule's repository are refused with
     * `denied`, naming the rule. Needs the guard's write route, which every write takes.
     * @default [] (every granted write goes on)
     */
    readonly immutableTags?: readonly ImmutableTagRule[];
    /**
     * Write the audit trail (`auditLog.ts`): a JSON line per content request and login on nginx's output.
     * @default false
     */
    readonly auditLog?: boolean;
    /**
     * Pull-through mirrors: reads of a repository under a mirror's name (`hub/library/debian`)
     * go to that mirror's registry without the name (`library/debian`), once the grants (basic
     * mode) or the registry's check of the client's token (token mode) allow a pull of the name
     * as the client wrote it; writes there are refused with `denied`.
     * @default [] (every request goes to the registry)
     */
    readonly mirrors?: readonly MirrorRoute[];
    /**
     * Where the files are; only tests running nginx outside its container change it.
     * @default nginxPaths
     */
    readonly paths?: NginxPaths;
}

/** Where nginx finds the guard (`tokenService/guard.ts`) and what it asks it. */
export interface GuardRoute {
    /** The guard as nginx reaches it on the private network, `host:port`. */
    readonly upstream: string;
    /** Basic mode: ask before each password check whether the address may try, and report each refused password. */
    readonly loginThrottle: boolean;
    /** How long a write may wait during garbage collection, in seconds; nginx waits a little longer for the answer. */
    readonly writeHoldSeconds: number;
}

/** Where nginx finds a pull-through mirror's registry. */
export interface MirrorRoute {
    /** The first path component of the repositories it serves. */
    readonly name: string;
    /** Its registry as nginx reaches it on the private network, `host:port`. */
    readonly upstream: string;
}

/** How nginx routes token requests in token mode. */
export interface TokenRoute {
    /** The token service as nginx reaches it on the private network, `host:port`. */
    readonly upstream: string;
    /** Token requests per minute from one client address. */
    readonly requestsPerMinute: number;
    /** Requests over the rate served at once before the answer is 429. */
    readonly burst: number;
}

/** The answer to a client over the token request rate. */
export const tooManyRequestsBody = JSON.stringify({
    errors: [{ code: "TOOMANYREQUESTS", message: "too many token requests from this address; retry shortly" }],
});

/** The answer to a refused password when the guard does not answer. */
export const unauthorizedBody = JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] });

/** The answer nginx gives in the registry's own error format when the registry does not answer. */
export const unavailableBody = JSON.stringify({
    errors: [
        { code: "UNAVAILABLE", message: "service unavailable", detail: "the registry behind the proxy is not answering; retry shortly" },
    ],
});

/** The answer to a request no grant of the user allows; `docker push` prints the message after "denied: ". */
export const deniedBody = JSON.stringify({ errors: [{ code: "DENIED", message: "requested access to the resource is denied" }] });

/** The answer to a write an immutable tag rule refuses; `$immutable_rule` names the rule. */
export const immutableBody = JSON.stringify({
    errors: [{ code: "DENIED", message: "requested access to the resource is denied: the tag is immutable ($immutable_rule)" }],
});

/** The answer to a write to a pull-through mirror; `$registry_mirror` names it. */
export const mirrorRefusedBody = JSON.stringify({
    errors: [
        {
            code: "DENIED",
            message:
                "requested access to the resource is denied: $registry_mirror/ is a pull-through mirror, which takes no pushes or deletes",
        },
    ],
});

/** The manifest media types a request for a tag accepts, so that the registry serves one of any kind. */
export const manifestMediaTypes = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** The distribution spec's grammar pieces the routes are written in (no backslash escapes but `\.` and `\?`). */
const grammar = (() => {
    const component = repositoryComponent;
    const name = `${component}(?:/${component})*`;
    // A name in a query parameter: the registry decodes it, so slashes may arrive as %2F.
    const encodedName = `${component}(?:${encodedSlash}${component})*`;
    const digest = "[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+";
    const reference = `(?:[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}|${digest})`;
    const uploadId = "[a-zA-Z0-9._=-]+";
    const query = "(?:\\?[^#]*)?";
    // Upload parameters: known keys; values of unreserved characters and ":", or "/" and ":" encoded.
    const value = "(?:[A-Za-z0-9._~=:-]|%2[Ff]|%3[Aa])*";
    const uploadParam = `(?:mount|digest)=${value}`;
    return { name, encodedName, digest, reference, uploadId, query, uploadParam };
})();

/**
 * The routes of the distribution API, on the method, whether the body is a form, and the raw
 * request line: what the registry itself routes on. Each becomes `ACTION REPOSITORY` (or
 * `mount TO FROM`); anything else is `none` and refused.
 *
 * The registry reads `from` and `mount` with Go's `FormValue`, which also parses a form body,
 * decodes parameter names and takes the first of repeated keys; so an upload POST may carry only
 * the known keys, spelled plainly, at most one `from`, and no form body.
 */
function routeEntries(): [string, string][] {
    const { name, encodedName, digest, reference, uploadId, query, uploadParam } = grammar;
    const anyBody = "[01]";
    return [
        [`^(?:GET|HEAD):${anyBody}:/v2/$`, "base"],
        [`^GET:${anyBody}:/v2/_catalog${query}$`, "catalog"],
        [`^(?:GET|HEAD):${anyBody}:/v2/(?<registry_repo>${name})/tags/list${query}$`, "pull $registry_repo"],
        [`^(?:GET|HEAD):${anyBody}:/v2/(?<registry_repo>${name})/manifests/${reference}$`, "pull $registry_repo"],
        [`^PUT:${anyBody}:/v2/(?<registry_repo>${name})/manifests/${reference}${query}$`, "push $registry_repo"],
        [`^DELETE:${anyBody}:/v2/(?<registry_repo>${name})/manifests/${reference}$`, "delete $registry_repo"],
        [`^(?:GET|HEAD):${anyBody}:/v2/(?<registry_repo>${name})/blobs/${digest}$`, "pull $registry_repo"],
        [`^DELETE:${anyBody}:/v2/(?<registry_repo>${name})/blobs/${digest}$`, "delete $registry_repo"],
        [`^GET:${anyBody}:/v2/(?<registry_repo>${name})/referrers/${digest}${query}$`, "pull $registry_repo"],
        [
            `^POST:0:/v2/(?<registry_repo>${name})/blobs/uploads/\\?(?:${uploadParam}&)*from=(?<registry_from>${encodedName})(?:&${uploadParam})*$`,
            "mount $registry_repo $registry_from",
        ],
        [`^POST:0:/v2/(?<registry_repo>${name})/blobs/uploads/(?:\\?${uploadParam}(?:&${uploadParam})*)?$`, "push $registry_repo"],
        [`^(?:GET|PATCH|PUT|DELETE):${anyBody}:/v2/(?<registry_repo>${name})/blobs/uploads/${uploadId}${query}$`, "push $registry_repo"],
    ];
}

/** A user name as an exact-match map key: the leading backslash keeps names like `default` or `~x` literal. */
function mapKey(username: string): string {
    return `"\\\\${username.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** One regular expression matching any of `patterns`, or undefined for none. */
function anyOf(patterns: string[]): string | undefined {
    return patterns.length === 0 ? undefined : `(?:${patterns.map(patternRegex).join("|")})`;
}

/** The `map` blocks that decide, per request, `allowed` or `denied`. */
function renderAccessMaps(users: readonly Required<UserAccess>[] | undefined): string {
    const userLines: string[] = [];
    const ruleLines: string[] = [];
    // Without a user list every authenticated user is one unrestricted user, "u".
    const entries = users ?? [{ username: "", access: [...unrestrictedGrants], catalog: true }];
    entries.forEach((user, i) => {
        const id = users === undefined ? "u" : `u${i}`;
        if (users !== undefined) {
            userLines.push(`  ${mapKey(user.username)} ${id};`);
        }
        ruleLines.push(`  "~^${id} ${user.catalog ? "(?:base|catalog)" : "base"}$" allowed;`);
        const pull = anyOf(patternsFor(user, AccessAction.Pull));
        const push = anyOf(patternsFor(user, AccessAction.Push));
        const del = anyOf(patternsFor(user, AccessAction.Delete));
        if (pull) ruleLines.push(`  "~^${id} pull ${pull}$" allowed;`);
        if (push) ruleLines.push(`  "~^${id} push ${push}$" allowed;`);
        if (del) ruleLines.push(`  "~^${id} delete ${del}$" allowed;`);
        // A cross-repository mount reads the blob out of FROM: push on the target and pull on FROM.
        if (push && pull) ruleLines.push(`  "~^${id} mount ${push} ${pull}$" allowed;`);
    });
    const userMap =
        users === undefined
            ? "map $remote_user $registry_user {\n  default u;\n}"
            : `map $remote_user $registry_user {\n  default -;\n${userLines.join("\n")}\n}`;
    return `# Who is asking: user names reach this file only as exact, escaped keys; each becomes an id.
${userMap}

# A form body lets the registry read upload parameters from the body, out of nginx's sight.
map $content_type $registry_form_body {
  default 0;
  "~*^\\s*(?:application/x-www-form-urlencoded|multipart/form-data)" 1;
}

# What the request does, and to which repository, from the raw request line the registry routes on.
map "$request_method:$registry_form_body:$request_uri" $registry_route {
  default none;
${routeEntries()
    .map(([regex, route]) => `  "~${regex}" "${route}";`)
    .join("\n")}
}

# Whether a grant of the user allows it; everything else is denied.
map "$registry_user $registry_route" $registry_access {
  default denied;
${ruleLines.join("\n")}
}`;
}

/**
 * Where an authenticated request goes: its grant's location, except that a granted write goes to
 * @registry_write first, where the guard holds it while garbage collection runs, and that a
 * request for a mirror's repository goes to @registry_mirror (a read) or is refused (a write).
 * Token mode has no grants here: the registry checks each request's token, and for a mirror's
 * repository nginx asks the registry first.
 */
function renderTargetMaps(token: boolean, guarded: boolean, mirrored: boolean): string {
    if (mirrored) return renderMirroredTargetMap(token, guarded);
    const grant = token ? "allowed" : "$registry_access";
    if (!guarded) {
        return `# Without a guard, writes go straight on.
map ${grant === "allowed" ? "$request_method" : grant} $registry_target {
  default ${grant};
}`;
    }
    return token
        ? `# Writes ask the guard first; the registry checks each request's token.
map $request_method $registry_target {
  default allowed;
  POST write;
  PUT write;
  PATCH write;
  DELETE write;
}`
        : `# Granted writes ask the guard first; a refused request stays refused.
map "$request_method:$registry_access" $registry_target {
  default $registry_access;
  "~^(?:POST|PUT|PATCH|DELETE):allowed$" write;
}`;
}

/** {@link renderTargetMaps} with mirrors: one map on the mirror, the method and the grant. */
function renderMirroredTargetMap(token: boolean, guarded: boolean): string {
    const grant = token ? "allowed" : "$registry_access";
    // Keys "MIRROR:METHOD:GRANT", MIRROR empty unless the request is for a mirror's repository.
    const entries = [
        ...(token
            ? [`"~^[^:]+:(?:GET|HEAD):" mirror;`, `"~^[^:]+:" mirror_refused;`]
            : [`"~^[^:]+:(?:GET|HEAD):allowed$" mirror;`, `"~^[^:]+:[A-Z]+:allowed$" mirror_refused;`, `"~^[^:]+:" denied;`]),
        ...(guarded ? [`"~^:(?:POST|PUT|PATCH|DELETE):allowed$" write;`] : []),
    ];
    return `# ${token ? "The registry checks each request's token" : "A refused request stays refused"}; a mirror's repositories are read only${guarded ? ", and other writes ask the guard first" : ""}.
map "$registry_mirror:$request_method:${grant}" $registry_target {
  default ${grant};
${entries.map((entry) => `  ${entry}`).join("\n")}
}`;
}

/**
 * The mirrors' maps: which mirror a request of the distribution API is for (`$registry_mirror`,
 * empty for none), the repository as the client wrote it, and the URI its registry is sent.
 */
function renderMirrorMaps(mirrors: readonly MirrorRoute[]): string {
    const names = `(?:${mirrors.map((mirror) => mirror.name).join("|")})`;
    const repository = `${names}(?:/${repositoryComponent})+`;
    const api = "/(?:manifests|blobs|tags|referrers)/";
    return `# Which pull-through mirror a request is for: the first component of its repository names one.
map $request_uri $registry_mirror {
  default "";
${mirrors.map((mirror) => `  "~^/v2/${mirror.name}(?:/${repositoryComponent})+${api}" ${mirror.name};`).join("\n")}
}

map $registry_mirror $mirror_upstream {
  default "";
${mirrors.map((mirror) => `  ${mirror.name} ${mirror.upstream};`).join("\n")}
}

# The repository as the client wrote it, which the grants and tokens name.
map $request_uri $mirror_repository {
  default "";
  "~^/v2/(?<mirror_repository_name>${repository})${api}" $mirror_repository_name;
}

# The mirror's registry serves the upstream's names: the mirror's name comes off.
map $request_uri $mirror_uri {
  default "";
  "~^/v2/${names}/(?<mirror_path>.*)$" /v2/$mirror_path;
}`;
}

/** Token mode's http-level blocks: which Authorization goes on to the registry, and the rate of token requests. */
function renderTokenMaps(token: TokenRoute): string {
    return `# Only a bearer token goes on to the registry; a password sent to /v2/ stays here.
map $http_authorization $registry_bearer {
  default "";
  "~^Bearer\\s" $http_authorization;
}

# Token requests per client address: each checks a password, so this bounds guessing.
limit_req_zone $binary_remote_addr zone=registry_token:1m rate=${token.requestsPerMinute}r/m;`;
}

/** Token mode's location for `/token`: the token service, behind the rate limit. */
function renderTokenLocation(token: TokenRoute): string {
    const retryAfter = Math.max(1, Math.ceil(60 / token.requestsPerMinute));
    return `
  location = ${tokenPath} {
    limit_req zone=registry_token burst=${token.burst} nodelay;
    limit_req_status 429;
    error_page 429 = @token_too_many;
    proxy_pass                          http://$token_upstream;
    proxy_set_header  Host              $http_host;
    proxy_set_header  X-Real-IP         $remote_addr;
    proxy_set_header  X-Forwarded-For   $proxy_add_x_forwarded_for;
    proxy_set_header  X-Forwarded-Proto $scheme;
    proxy_connect_timeout               ${proxyDefaults.connectTimeoutSeconds};
    error_page 502 504 = @registry_unavailable;
  }

${jsonAnswerLocation("token_too_many", 429, tooManyRequestsBody, `'${retryAfter}'`)}
`;
}

/**
 * The user name the guard is told: empty without credentials; a name no user can have (with
 * whitespace, a colon or a control character, which must never reach a header) becomes "-".
 */
const guardUserMap = `# The user name the guard counts failures under; the password never leaves nginx.
map $remote_user $guard_user {
  "" "";
  "~^[^\\s:\\x00-\\x1f\\x7f]{1,256}$" $remote_user;
  default "-";
}`;

/** How nginx asks the guard: a subrequest without the client's body, from the client's address. */
function guardRequest(timeoutSeconds: number): string {
    return `    proxy_pass                          http://$guard_upstream;
    proxy_method                        GET;
    proxy_pass_request_body             off;
    proxy_set_header  Content-Length    "";
    proxy_set_header  X-Real-IP         $remote_addr;
    # The password stays here: the guard is told the user name alone.
    proxy_set_header  Authorization     "";
    proxy_connect_timeout               ${proxyDefaults.connectTimeoutSeconds};
    proxy_read_timeout                  ${timeoutSeconds};`;
}

/** Basic mode with the login throttle: the password check, the guard's two questions, and the 429. */
function renderLoginLocations(passwordCheck: string): string {
    return `  # Only an address the guard let try gets here. A refused password goes to the guard, which
  # counts it and answers the 401; auth_basic's challenge stays on it.
  location @registry_login {
    add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;
    ${passwordCheck}
    error_page 401 = @login_failed;
    # @login_failed is an error page with one of its own, for when the guard does not answer:
    # nginx follows that second one only when the first location allows it.
    recursive_error_pages on;
    root /nonexistent;
    try_files /.authenticated-registry @registry_$registry_target;
  }

  location = ${guardPaths.login} {
    internal;
${guardRequest(5)}
    proxy_set_header  X-Registry-User   $guard_user;
    # Without an answer from the guard nginx still checks every password: attempts go on.
    error_page 502 504 = @guard_lets_try;
  }

  location @guard_lets_try {
    return 204;
  }

  location @login_failed {
    rewrite ^ ${guardPaths.failure} break;
${guardRequest(5)}
    proxy_set_header  X-Registry-User   $guard_user;
    add_header 'Docker-Distribution-Api-Version' 'registry/2.0' always;
    # Without an answer from the guard the refusal is nginx's own 401 (@registry_login lets
    # this second error page be followed).
    error_page 502 504 = @login_refused;
  }

${jsonAnswerLocation("login_refused", 401, unauthorizedBody)}

${jsonAnswerLocation("login_throttled", 429, throttledBody, "$guard_retry_after")}

`;
}

/**
 * The immutable tag rules' maps: what a write is under them (`$immutable_gate`), and the rule
 * that says so (`$immutable_rule`), from its method and raw request line.
 */
function renderImmutableMaps(rules: readonly ImmutableTagRule[]): string {
    const entries = immutableMapEntries(rules);
    return `# Writes under the immutable tag rules: a push of a rule's tag is checked against the registry
# first; a delete of a rule's tag, or by digest in a rule's repository, is refused.
map "$request_method $request_uri" $immutable_gate {
  default allowed;
${entries.map((entry) => `  "~${entry.regex}" ${entry.gate};`).join("\n")}
}

map "$request_method $request_uri" $immutable_rule {
  default "";
${entries.map((entry) => `  "~${entry.regex}" "${entry.rule}";`).join("\n")}
}`;
}

/**
 * A push of an immutable tag: the registry says whether the tag exists (a `HEAD` of it, with the
 * writer's own token in token mode), and the push goes on only if it does not.
 */
function renderImmutableLocations(token: boolean): string {
    return `  # A push of an immutable tag goes on only if the registry has no such tag yet.
  location @registry_tag_check {
    auth_request /_immutable/tag;
    auth_request_set $immutable_tag_status $upstream_status;
    root /nonexistent;
    try_files /.authenticated-registry @registry_tag_gate;
  }

  location = /_immutable/tag {
    internal;
    proxy_method                        HEAD;
    proxy_pass                          http://$registry_upstream$request_uri;
    proxy_pass_request_body             off;
    proxy_set_header  Content-Length    "";
    proxy_set_header  Accept            "${manifestMediaTypes}";
    proxy_set_header  Authorization     ${token ? "$registry_bearer" : '""'};
    proxy_connect_timeout               ${proxyDefaults.connectTimeoutSeconds};
    # A tag the registry does not have: the push goes on.
    proxy_intercept_errors              on;
    error_page 404 = @immutable_tag_free;
  }

  location @immutable_tag_free {
    return 204;
  }

  location @registry_tag_gate {
    error_page 418 = @registry_immutable_refused;
    if ($immutable_tag_status = 200) {
      return 418;
    }
    root /nonexistent;
    try_files /.authenticated-registry @registry_allowed;
  }

${jsonAnswerLocation("registry_immutable_refused", 403, immutableBody)}

`;
}

/** Every granted write asks the guard first, which holds it while garbage collection runs. */
function renderWriteLocations(guard: GuardRoute, immutable: boolean): string {
    return `  # A granted write waits here while garbage collection holds the registry, and goes on when
  # it ends; past the hold the guard answers 403, which becomes 503 with Retry-After.
  location @registry_write {
    set $registry_write_method $request_method;
    auth_request ${guardPaths.write};
    error_page 403 = @registry_read_only;
    root /nonexistent;
    try_files /.authenticated-registry @registry_${immutable ? "$immutable_gate" : "allowed"};
  }

  location = ${guardPaths.write} {
    internal;
${guardRequest(guard.writeHoldSeconds + 10)}
    proxy_set_header  X-Original-Method $registry_write_method;
    proxy_set_header  X-Original-URI    $request_uri;
    # Without an answer from the guard, nobody can tell whether a collection runs: the write waits
    # for a retry rather than risk its layers.
    error_page 502 504 = @guard_holds;
  }

  location @guard_holds {
    return 403;
  }

`;
}

/**
 * How nginx relays a request to a registry (the registry's own or a mirror's), after its
 * `proxy_pass`; `authorization` says what of the client's Authorization header goes on.
 */
function registryProxySettings(authorization: string): string {
    const timeout = proxyDefaults.upstreamTimeoutSeconds;
    return `    proxy_set_header  Host              $http_host;   # required for docker client's sake
    proxy_set_header  X-Real-IP         $remote_addr; # pass on real client's IP
    proxy_set_header  X-Forwarded-For   $proxy_add_x_forwarded_for;
    proxy_set_header  X-Forwarded-Proto $scheme;
${authorization}
    proxy_connect_timeout               ${proxyDefaults.connectTimeoutSeconds};
    proxy_read_timeout                  ${timeout};
    proxy_send_timeout                  ${timeout};

    # Stream layers both ways instead of spooling whole bodies to disk first; HTTP/1.1 carries
    # chunked uploads.
    proxy_http_version                  1.1;
    proxy_set_header  Connection        "";
    proxy_request_buffering             off;
    proxy_buffering                     off;
    # Unbuffered, nginx relays the registry's answer through one proxy_buffer_size buffer, a
    # 4k page by default, so every read became its own small TLS record and write. 64k reads
    # fill whole 16k records and about double download throughput (BENCHMARKS.md).
    # proxy_buffers is unused while buffering is off; it is sized only so that nginx accepts
    # the proxy_busy_buffers_size default that 64k implies.
    proxy_buffer_size                   64k;
    proxy_buffers                       4 64k;

    # nginx's own 502 and 504 (the registry's name does not resolve, its port refuses, or it
    # does not answer) become the registry's own way of saying so, which clients retry.
    error_page 502 504 = @registry_unavailable;`;
}

/**
 * A mirror's locations. A read goes to the mirror's registry without the mirror's name; a write
 * is refused. In token mode nginx first asks the registry whether the client's token allows a
 * pull of the repository as the client named it (a `tags/list` of it, which the registry
 * answers 401 with its challenge when not, and 404 once it has checked the token of a
 * repository it does not hold): the mirror's registry itself checks no token.
 */
function renderMirrorLocations(token: boolean): string {
    const tokenCheck = token ? `\n    auth_request /_mirror/pull;` : "";
    return `  # A read of a mirror's repository: its registry serves the upstream's names.
  location @registry_mirror {
    add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;${tokenCheck}
    proxy_pass                          http://$mirror_upstream$mirror_uri;
${registryProxySettings(`    # The mirror's registry checks no credentials: they stay at the proxy.
    proxy_set_header  Authorization     "";`)}
  }

  # A write to a mirror's repository: refused once the client is known.
  location @registry_mirror_refused {
    add_header 'Docker-Distribution-Api-Version' 'registry/2.0' always;${tokenCheck}
    root /nonexistent;
    try_files /.authenticated-registry @registry_mirror_denied;
  }

${jsonAnswerLocation("registry_mirror_denied", 403, mirrorRefusedBody)}
${
    token
        ? `
  location = /_mirror/pull {
    internal;
    proxy_method                        GET;
    proxy_pass                          http://$registry_upstream/v2/$mirror_repository/tags/list;
    proxy_pass_request_body             off;
    proxy_set_header  Content-Length    "";
    proxy_set_header  Authorization     $registry_bearer;
    proxy_connect_timeout               ${proxyDefaults.connectTimeoutSeconds};
    proxy_read_timeout                  ${proxyDefaults.upstreamTimeoutSeconds};
    # The token allows the pull; the registry holds no such repository, the mirror does.
    proxy_intercept_errors              on;
    error_page 404 = @mirror_pull_allowed;
  }

  location @mirror_pull_allowed {
    return 204;
  }
`
        : ""
}
`;
}

/**
 * A named location that answers `status` with `body`, JSON in the registry's own error format,
 * and the API version header as the registry sends it; `retryAfter` is the header's value as
 * nginx reads it (`'5'`, or a variable).
 */
function jsonAnswerLocation(name: string, status: number, body: string, retryAfter?: string): string {
    const retry = retryAfter === undefined ? "" : `\n    add_header 'Retry-After' ${retryAfter} always;`;
    return `  location @${name} {
    default_type application/json;
    add_header 'Docker-Distribution-Api-Version' 'registry/2.0' always;${retry}
    return ${status} '${body}\\n';
  }`;
}

/** Renders `registry.conf`. Deterministic: the same options give the same bytes. */
export function renderNginxConfig(options: NginxConfigOptions): string {
    // Blocks left out leave their blank lines behind; one blank line separates blocks.
    return renderBlocks(options).replace(/\n{3,}/g, "\n\n");
}

function renderBlocks(options: NginxConfigOptions): string {
    const { serverName, upstream, realm, listenPort, token } = options;
    const rules = options.immutableTags ?? [];
    const immutable = rules.length > 0;
    const mirrors = options.mirrors ?? [];
    // Every write reaches the rules through the guard's write route.
    if (immutable && options.guard === undefined) throw new Error("immutable tag rules need the guard's write route");
    const paths = options.paths ?? nginxPaths;
    const resolver = options.resolver ?? proxyDefaults.resolver;
    const guard = options.guard;
    const passwordCheck = `auth_basic "${realm}";
    auth_basic_user_file ${paths.htpasswd};`;
    const v2Access =
        token !== undefined
            ? `    # Token mode: the registry checks each request's token and answers 401 with the token
    # realm when there is none. The file never exists.
    add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;${options.auditLog ? `\n${renderAuditIdentityDirectives()}` : ""}
    root /nonexistent;
    try_files /.authenticated-registry @registry_$registry_target;`
            : guard?.loginThrottle
              ? `    add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;
    # Before any password is checked, the guard says whether this address may try: 403 (with
    # Retry-After) becomes 429. auth_request runs after auth_basic within one location, so the
    # password is checked in the next one.
    auth_request ${guardPaths.login};
    auth_request_set $guard_retry_after $upstream_http_retry_after;
    error_page 403 = @login_throttled;
    root /nonexistent;
    try_files /.authenticated-registry @registry_login;`
              : `    # To add basic authentication to v2 use auth_basic setting plus add_header
    ${passwordCheck}
    add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;

    # try_files runs after the access phase, so only a user auth_basic accepted gets here; the
    # grant decides where the request goes. (An "if" would run before auth_basic and tell an
    # anonymous client what a user name may do.) The file never exists.
    root /nonexistent;
    try_files /.authenticated-registry @registry_$registry_target;`;
    return `# Rendered by authenticated-registry. Included inside nginx's http {} block.

# The registry sets Docker-Distribution-Api-Version itself; nginx adds it only to answers that
# lack it (its own 401, 403 and 404), so every answer carries it exactly once.
map $upstream_http_docker_distribution_api_version $docker_distribution_api_version {
  '' 'registry/2.0';
}

${token === undefined ? renderAccessMaps(options.users) : renderTokenMaps(token)}
${token === undefined && guard?.loginThrottle ? guardUserMap : ""}

${renderTargetMaps(token !== undefined, guard !== undefined, mirrors.length > 0)}
${immutable ? renderImmutableMaps(rules) : ""}
${options.auditLog ? renderAuditMaps(tokenPath, token !== undefined) : ""}
${mirrors.length > 0 ? renderMirrorMaps(mirrors) : ""}

server {
  # reuseport gives each worker its own accept queue, so kept-alive clients spread over the
  # workers instead of piling onto one that is busy verifying bcrypt hashes (BENCHMARKS.md).
  listen ${listenPort} ssl reuseport;
  server_name ${serverName};
${options.auditLog ? renderAuditLogDirectives(paths.accessLog, paths.auditLog) : ""}

  # The registry is found by name on every request, never once at start: Docker gives a
  # container no fixed address, so after a restart of the registry or of the engine it may
  # come back elsewhere while another container holds its old address. nginx keeps an answer
  # for ${proxyDefaults.resolverValidSeconds} s, and starts (and keeps its TLS listener) while the registry is down.
  resolver ${resolver} valid=${proxyDefaults.resolverValidSeconds}s ipv6=off;
  resolver_timeout 2s;
  ${[
      `set $registry_upstream ${upstream};`,
      ...(guard === undefined ? [] : [`set $guard_upstream ${guard.upstream};`]),
      ...(token === undefined ? [] : [`set $token_upstream ${token.upstream};`]),
  ].join("\n  ")}


  # SSL
  ssl_certificate ${paths.certificate};
  ssl_certificate_key ${paths.privateKey};
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_prefer_server_ciphers off;
  ssl_session_cache shared:registry_tls:10m;
  ssl_session_timeout 1h;

  # disable any limits to avoid HTTP 413 for large image uploads
  client_max_body_size 0;

  # required to avoid HTTP 411: see Issue #1486 (https://github.com/docker/docker/issues/1486)
  chunked_transfer_encoding on;

  location /v2/ {
    # Do not allow connections from docker 1.5 and earlier
    # docker pre-1.6.0 did not properly set the user agent on ping, catch "Go *" user agents
    if ($http_user_agent ~ "^(docker\\/1\\.(3|4|5(?!\\.[0-9]-dev))|Go ).*$" ) {
      return 404;
    }

${v2Access}
  }

  location @registry_allowed {
    add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;
    proxy_pass                          http://$registry_upstream;
${registryProxySettings(
    token === undefined
        ? `    # The registry needs no credentials: the user's password stays at the proxy.
    proxy_set_header  Authorization     "";`
        : `    # The registry checks the bearer token; anything else in the header stays at the proxy.
    proxy_set_header  Authorization     $registry_bearer;`,
)}
  }

${jsonAnswerLocation("registry_denied", 403, deniedBody)}

${mirrors.length > 0 ? renderMirrorLocations(token !== undefined) : ""}${token === undefined && guard?.loginThrottle ? renderLoginLocations(passwordCheck) : ""}${guard === undefined ? "" : renderWriteLocations(guard, immutable)}${immutable ? renderImmutableLocations(token !== undefined) : ""}
${jsonAnswerLocation("registry_read_only", 503, readOnlyBody, `'${proxyDefaults.readOnlyRetryAfterSeconds}'`)}

${jsonAnswerLocation("registry_unavailable", 503, unavailableBody, `'${proxyDefaults.retryAfterSeconds}'`)}
${token === undefined ? "" : renderTokenLocation(token)}
${token !== undefined && options.auditLog ? renderAuditIdentityLocations() : ""}
  # For load balancers: healthy only while the registry behind nginx answers (its root needs
  # no credentials); nginx's 502 and 504 become the 503 of @registry_unavailable.
  location = ${healthPath} {
    access_log off;
    proxy_pass http://$registry_upstream/;
    proxy_set_header  Authorization "";
    proxy_connect_timeout ${proxyDefaults.connectTimeoutSeconds};
    proxy_read_timeout 5;
    error_page 502 504 = @registry_unavailable;
  }

  # Answers the container health check without credentials or a trip to the registry.
  location = ${livenessPath} {
    access_log off;
    default_type text/plain;
    return 200 "ok\\n";
  }

  # Nothing but the registry API is served.
  location / {
    return 404;
  }
}
${options.metrics === undefined ? "" : renderMetricsServer(options.metrics.registryMetrics, resolver)}`;
}

/** The metrics server: its own port, published on loopback only, never the HTTPS port. */
function renderMetricsServer(registryMetrics: string, resolver: string): string {
    return `
# Metrics on their own port, which the container publishes on loopback only.
server {
  listen ${proxyDefaults.metricsListenPort};
  access_log off;
  resolver ${resolver} valid=${proxyDefaults.resolverValidSeconds}s ipv6=off;
  resolver_timeout 2s;
  set $registry_metrics ${registryMetrics};

  location = ${metricsPath} {
    proxy_pass http://$registry_metrics;
    proxy_connect_timeout ${proxyDefaults.connectTimeoutSeconds};
    proxy_read_timeout 10;
  }

  location = ${nginxStatusPath} {
    stub_status;
  }

  location / {
    return 404;
  }
}
`;
}

/** Content for the image's default site: empty, so only the registry server listens. */
export const emptyDefaultSite = "# Replaced by authenticated-registry: the registry server is the only site.\n";
