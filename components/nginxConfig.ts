/**
 * Renders the nginx server configuration of the authenticating proxy. A pure function of its
 * options, golden-tested and checked with the real `nginx -t`.
 *
 * It keeps every directive of the registry documentation's `registry.conf` and fixes what
 * experience with that recipe showed to be wrong: the API-version header is sent exactly once,
 * only TLS 1.2 and 1.3 are offered, and large layers stream instead of being buffered.
 */

/** Where nginx finds what the proxy container is given; the seed mounts all of it here. */
export const nginxPaths = {
    directory: "/etc/nginx/conf.d",
    config: "/etc/nginx/conf.d/registry.conf",
    htpasswd: "/etc/nginx/conf.d/registry.password",
    certificate: "/etc/nginx/conf.d/domain.crt",
    privateKey: "/etc/nginx/conf.d/domain.key",
    /** The official image's default site, replaced so that nothing else listens. */
    defaultSite: "/etc/nginx/conf.d/default.conf",
} as const;

/** The path the container health check probes; it needs no credentials. */
export const healthPath = "/healthz";

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
}

/** Renders `registry.conf`. Deterministic: the same options give the same bytes. */
export function renderNginxConfig(options: NginxConfigOptions): string {
    const { serverName, upstream, realm, listenPort } = options;
    return `# Rendered by authenticated-registry. Included inside nginx's http {} block.

# The registry sets Docker-Distribution-Api-Version itself; nginx adds it only to answers that
# lack it (its own 401 and 404), so every answer carries it exactly once.
map $upstream_http_docker_distribution_api_version $docker_distribution_api_version {
  '' 'registry/2.0';
}

upstream docker-registry {
  server ${upstream};
  keepalive 16;
}

server {
  # reuseport gives each worker its own accept queue, so kept-alive clients spread over the
  # workers instead of piling onto one that is busy verifying bcrypt hashes (BENCHMARKS.md).
  listen ${listenPort} ssl reuseport;
  server_name ${serverName};

  # SSL
  ssl_certificate ${nginxPaths.certificate};
  ssl_certificate_key ${nginxPaths.privateKey};
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

    # To add basic authentication to v2 use auth_basic setting plus add_header
    auth_basic "${realm}";
    auth_basic_user_file ${nginxPaths.htpasswd};
    add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;

    proxy_pass                          http://docker-registry;
    proxy_set_header  Host              $http_host;   # required for docker client's sake
    proxy_set_header  X-Real-IP         $remote_addr; # pass on real client's IP
    proxy_set_header  X-Forwarded-For   $proxy_add_x_forwarded_for;
    proxy_set_header  X-Forwarded-Proto $scheme;
    proxy_read_timeout                  900;
    proxy_send_timeout                  900;

    # Stream layers both ways instead of spooling whole bodies to disk first; HTTP/1.1 with an
    # empty Connection header keeps upstream connections alive and carries chunked uploads.
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
  }

  # Answers the container health check without credentials or a trip to the registry.
  location = ${healthPath} {
    access_log off;
    default_type text/plain;
    return 200 "ok\\n";
  }

  # Nothing but the registry API is served.
  location / {
    return 404;
  }
}
`;
}

/** Content for the image's default site: empty, so only the registry server listens. */
export const emptyDefaultSite = "# Replaced by authenticated-registry: the registry server is the only site.\n";
