import * as fs from "fs";
import * as path from "path";
import { healthPath, livenessPath, nginxPaths, NginxPaths, renderNginxConfig } from "../components/nginxConfig";
import { validateUserAccess } from "../components/access";
import { accessExample } from "./accessExample";
import { localNginx, nginxCheck } from "./localNginx";
import { run } from "./tools";

const options = {
    serverName: "registry.example.com",
    realm: "registry.example.com",
    upstream: "registry:5000",
    listenPort: 443,
    guard: { upstream: "guard:5001", loginThrottle: true, writeHoldSeconds: 120 },
};
const golden = path.join(__dirname, "golden", "registry.conf");
const accessGolden = path.join(__dirname, "golden", "registry-access.conf");
const accessOptions = { ...options, users: validateUserAccess("users", accessExample) };
const tokenGolden = path.join(__dirname, "golden", "registry-token.conf");
const tokenOptions = {
    ...options,
    guard: { upstream: "token-service:5001", loginThrottle: false, writeHoldSeconds: 120 },
    token: { upstream: "token-service:5001", requestsPerMinute: 300, burst: 20 },
};

/** Compares with a golden file; `UPDATE_GOLDEN=1 npx jest` rewrites it after a deliberate change. */
function expectGolden(rendered: string, file: string): void {
    if (process.env.UPDATE_GOLDEN === "1") {
        fs.writeFileSync(file, rendered);
    }
    expect(rendered).toBe(fs.readFileSync(file, "utf8"));
}

test("renders the golden registry.conf", () => {
    expectGolden(renderNginxConfig(options), golden);
});

test("renders the golden registry.conf of the multi-user example", () => {
    expectGolden(renderNginxConfig(accessOptions), accessGolden);
});

test("renders the golden registry.conf of token mode", () => {
    expectGolden(renderNginxConfig(tokenOptions), tokenGolden);
});

test("is deterministic", () => {
    expect(renderNginxConfig({ ...options })).toBe(renderNginxConfig(options));
});

describe("keeps the seed's directives and fixes its defects", () => {
    const config = renderNginxConfig(options);
    const lines = config.split("\n").map((l) => l.trim().replace(/\s+/g, " "));
    const has = (line: string) => expect(lines).toContain(line);

    test("TLS 1.2 and 1.3 only, with the certificate and key where the seed mounts them", () => {
        has("listen 443 ssl reuseport;");
        has("ssl_protocols TLSv1.2 TLSv1.3;");
        has(`ssl_certificate ${nginxPaths.certificate};`);
        has(`ssl_certificate_key ${nginxPaths.privateKey};`);
        expect(config).not.toMatch(/TLSv1(\.1)? |SSLv/);
    });

    test("the API-version header is added once, only where the registry did not send it", () => {
        // One per location that answers: /v2/ and the password check (nginx's 401 and 404), the
        // guard's 401, the refused-password, throttled, proxied, refusal, read-only and unavailable
        // answers; each passes through one of them.
        expect(lines.filter((l) => l.startsWith("add_header 'Docker-Distribution-Api-Version'"))).toEqual([
            "add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;",
            "add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;",
            "add_header 'Docker-Distribution-Api-Version' 'registry/2.0' always;",
            "add_header 'Docker-Distribution-Api-Version' $docker_distribution_api_version always;",
            "add_header 'Docker-Distribution-Api-Version' 'registry/2.0' always;",
            "add_header 'Docker-Distribution-Api-Version' 'registry/2.0' always;",
            "add_header 'Docker-Distribution-Api-Version' 'registry/2.0' always;",
            "add_header 'Docker-Distribution-Api-Version' 'registry/2.0' always;",
            "add_header 'Docker-Distribution-Api-Version' 'registry/2.0' always;",
        ]);
        has("map $upstream_http_docker_distribution_api_version $docker_distribution_api_version {");
        has("'' 'registry/2.0';");
    });

    test("large layers stream: no body limit, chunked, no buffering, HTTP/1.1 upstream", () => {
        for (const line of [
            "client_max_body_size 0;",
            "chunked_transfer_encoding on;",
            "proxy_request_buffering off;",
            "proxy_buffering off;",
            "proxy_http_version 1.1;",
            "proxy_read_timeout 900;",
        ]) {
            has(line);
        }
    });

    test("basic auth from the htpasswd file, old clients refused, forwarding headers set", () => {
        has('auth_basic "registry.example.com";');
        has(`auth_basic_user_file ${nginxPaths.htpasswd};`);
        has('if ($http_user_agent ~ "^(docker\\/1\\.(3|4|5(?!\\.[0-9]-dev))|Go ).*$" ) {');
        has("return 404;");
        has("proxy_set_header Host $http_host; # required for docker client's sake");
        has("proxy_set_header X-Real-IP $remote_addr; # pass on real client's IP");
        has("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
        has("proxy_set_header X-Forwarded-Proto $scheme;");
        has(`location = ${healthPath} {`);
        has(`location = ${livenessPath} {`);
    });

    test("the registry is looked up by name through Docker's DNS on every request, kept 2 s", () => {
        has("resolver 127.0.0.11 valid=2s ipv6=off;");
        has("set $registry_upstream registry:5000;");
        has("proxy_pass http://$registry_upstream;");
        // A static upstream block would pin the address nginx saw at start.
        expect(config).not.toMatch(/^\s*upstream\s/m);
        expect(renderNginxConfig({ ...options, resolver: "10.0.0.2" })).toContain("resolver 10.0.0.2 valid=2s ipv6=off;");
    });

    test("the client's credentials are not forwarded to the registry", () => {
        has('proxy_set_header Authorization "";');
    });

    test("nginx's own 502 and 504 become a registry-style 503 with Retry-After and the API header", () => {
        has("error_page 502 504 = @registry_unavailable;");
        const block = config.slice(config.indexOf("location @registry_unavailable {"));
        const body = block.match(/return 503 '(.*)\\n';/);
        expect(body && JSON.parse(body[1])).toEqual({
            errors: [{ code: "UNAVAILABLE", message: "service unavailable", detail: expect.stringContaining("not answering") }],
        });
        expect(block.slice(0, block.indexOf("}"))).toContain("add_header 'Retry-After' '5' always;");
        expect(block.slice(0, block.indexOf("}"))).toContain("default_type application/json;");
    });
});

/**
 * Runs the real `nginx -t` on a registry.conf rendered with `options`, its files (certificate,
 * key, password file) in a private directory; `edit` may change the rendered text first.
 */
function nginxTest(rendered: (paths: NginxPaths, listenPort: number) => string, edit: (config: string) => string = (c) => c) {
    const nginx = localNginx("registry.example.com");
    // nginx -t binds the port it would listen on: an unprivileged one, so any user can run this.
    const listenPort = 20000 + Math.floor(Math.random() * 40000);
    fs.writeFileSync(nginx.paths.htpasswd, run("htpasswd", ["-nbB", "user", "secret"]).stdout);
    fs.writeFileSync(nginx.paths.config, edit(rendered(nginx.paths, listenPort)));
    const result = nginxCheck(nginx);
    fs.rmSync(nginx.dir, { recursive: true, force: true });
    return result;
}

test("the real nginx accepts it, with the files it names", () => {
    const result = nginxTest((paths, listenPort) => renderNginxConfig({ ...options, paths, listenPort }));
    expect(result.stderr).toContain("syntax is ok");
    expect(result.stderr).toContain("test is successful");
    expect(result.status).toBe(0);
});

test("the real nginx accepts the multi-user example's config, with its route and grant expressions", () => {
    const result = nginxTest((paths, listenPort) => renderNginxConfig({ ...accessOptions, paths, listenPort }));
    expect(result.stderr).toContain("test is successful");
    expect(result.status).toBe(0);
});

test("the nginx check fails on a config nginx cannot load", () => {
    const result = nginxTest(
        (paths, listenPort) => renderNginxConfig({ ...options, paths, listenPort }),
        (config) => config.replace("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv9;"),
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('invalid value "TLSv9"');
});

test("the real nginx accepts token mode's config, with its rate limit and bearer map", () => {
    const result = nginxTest((paths, listenPort) => renderNginxConfig({ ...tokenOptions, paths, listenPort }));
    expect(result.stderr).toContain("test is successful");
    expect(result.status).toBe(0);
});

describe("token mode", () => {
    const config = renderNginxConfig(tokenOptions);
    const lines = config.split("\n").map((l) => l.trim().replace(/\s+/g, " "));
    const has = (line: string) => expect(lines).toContain(line);

    test("checks no password at /v2/ and has no user-based access maps: the registry checks tokens", () => {
        expect(config).not.toMatch(/auth_basic/);
        expect(config).not.toMatch(/\$registry_access|\$remote_user/);
        has("try_files /.authenticated-registry @registry_$registry_target;");
        has("map $request_method $registry_target {");
    });

    test("passes only a bearer token on to the registry", () => {
        has("map $http_authorization $registry_bearer {");
        has('default "";');
        has('"~^Bearer\\s" $http_authorization;');
        has("proxy_set_header Authorization $registry_bearer;");
        // Only the guard's write question drops the header; the registry's location passes the bearer.
        const allowed = config.slice(config.indexOf("location @registry_allowed {"), config.indexOf("location @registry_denied {"));
        expect(allowed).not.toContain('proxy_set_header  Authorization     "";');
    });

    test("routes /token to the token service by name, rate limited per client address with 429", () => {
        has("limit_req_zone $binary_remote_addr zone=registry_token:1m rate=300r/m;");
        has("set $token_upstream token-service:5001;");
        const block = config.slice(config.indexOf("location = /token {"), config.indexOf("location @token_too_many {"));
        for (const line of [
            "limit_req zone=registry_token burst=20 nodelay;",
            "limit_req_status 429;",
            "proxy_pass http://$token_upstream;",
            "error_page 502 504 = @registry_unavailable;",
        ]) {
            expect(block.split("\n").map((l) => l.trim().replace(/\s+/g, " "))).toContain(line);
        }
        const tooMany = config.slice(config.indexOf("location @token_too_many {"));
        expect(JSON.parse(tooMany.match(/return 429 '(.*)\\n';/)![1])).toEqual({
            errors: [{ code: "TOOMANYREQUESTS", message: expect.stringContaining("too many token requests") }],
        });
        const tooManyBlock = tooMany.slice(0, tooMany.indexOf("}"));
        expect(tooManyBlock).toContain("add_header 'Retry-After' '1' always;");
        // Like every other answer of nginx's own on the registry's API.
        expect(tooManyBlock).toContain("add_header 'Docker-Distribution-Api-Version' 'registry/2.0' always;");
    });

    test("basic mode's config is unchanged by token mode's existence", () => {
        expect(renderNginxConfig(options)).not.toMatch(/token/);
    });
});

describe("health and metrics", () => {
    const config = renderNginxConfig(options);
    const block = (start: string) => config.slice(config.indexOf(start), config.indexOf("}", config.indexOf(start)));

    test("/healthz asks the registry, so a load balancer sees it down; /livez is nginx alone", () => {
        expect(block("location = /healthz {")).toContain("proxy_pass http://$registry_upstream/;");
        expect(block("location = /healthz {")).toContain("error_page 502 504 = @registry_unavailable;");
        expect(block("location = /livez {")).toContain('return 200 "ok\\n";');
    });

    test("without metrics there is one server, and the HTTPS server never serves metrics", () => {
        expect(config.match(/^server \{/gm)).toHaveLength(1);
        const withMetrics = renderNginxConfig({ ...options, metrics: { registryMetrics: "registry:5001" } });
        const https = withMetrics.slice(0, withMetrics.indexOf("# Metrics on their own port"));
        expect(https).not.toMatch(/metrics|stub_status/);
    });

    test("the metrics server: its own port, the registry's metrics by name, nginx's counters, nothing else", () => {
        const withMetrics = renderNginxConfig({ ...options, metrics: { registryMetrics: "registry:5001" } });
        const server = withMetrics.slice(withMetrics.indexOf("# Metrics on their own port"));
        const lines = server.split("\n").map((l) => l.trim());
        for (const line of [
            "listen 9113;",
            "set $registry_metrics registry:5001;",
            "location = /metrics {",
            "proxy_pass http://$registry_metrics;",
            "location = /nginx_status {",
            "stub_status;",
        ]) {
            expect(lines).toContain(line);
        }
        expect(server).not.toMatch(/ssl|auth_basic/);
    });

    test("the real nginx accepts the config with the metrics server (stub_status is built in)", () => {
        const result = nginxTest((paths, listenPort) =>
            renderNginxConfig({ ...options, paths, listenPort, metrics: { registryMetrics: "registry:5001" } }),
        );
        expect(result.stderr).toContain("test is successful");
        expect(result.status).toBe(0);
    });
});
