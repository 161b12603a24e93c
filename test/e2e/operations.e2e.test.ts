/**
 * What operators watch, on the real engine: the registry's Prometheus metrics and nginx's
 * counters on the loopback metrics port (never on the HTTPS port), and a /healthz that follows
 * the registry behind nginx, for load balancers.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { curl, exec, loopbackStackConfig, ok, plainHttp, pushImageByApi, Stack, tryCurl, waitUntil } from "./harness";

const port = 22043;
const metricsPort = 22113;
const host = `localhost:${port}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
let auth: string[];
let registryContainer: string;

/** A plain HTTP GET of the metrics port. */
function scrape(urlPath: string): { status: number; body: string } {
    return plainHttp(`http://127.0.0.1:${metricsPort}${urlPath}`);
}

/** The sum of a Prometheus counter's samples whose labels contain `labels`. */
function counter(text: string, name: string, labels = ""): number {
    return text
        .split("\n")
        .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

beforeAll(() => {
    stack.init(loopbackStackConfig(port, "ops", { container: { metricsPort } }));
    stack.up();
    const outputs = stack.outputs();
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    auth = ["--user", `ops:${outputs.passwords.ops}`];
    registryContainer = outputs.registryContainerName;
});

afterAll(() => {
    exec("docker", ["start", registryContainer]);
    stack.removeAll();
});

test("the metrics port is published on loopback only", () => {
    const proxy = JSON.parse(ok("docker", ["inspect", `registry-${stack.name}-nginx`]))[0];
    expect(proxy.NetworkSettings.Ports["9113/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(metricsPort) }]);
});

test("the registry's request and storage metrics rise with a push", () => {
    const before = scrape("/metrics");
    expect(before.status).toBe(200);
    // Go runtime metrics from the start; the registry's own appear with its first request.
    expect(before.body).toMatch(/^# TYPE go_goroutines gauge$/m);
    const layer = crypto.randomBytes(256 * 1024);
    pushImageByApi(`https://${host}`, caFile, auth, "ops/app", "1", layer);
    const after = scrape("/metrics");
    expect(after.body).toMatch(/^# TYPE registry_http_requests_total counter$/m);
    expect(after.body).toMatch(/^# TYPE registry_storage_action_seconds histogram$/m);
    expect(counter(after.body, "registry_http_requests_total", 'method="put"')).toBeGreaterThan(
        counter(before.body, "registry_http_requests_total", 'method="put"'),
    );
    expect(counter(after.body, "registry_storage_action_seconds_count")).toBeGreaterThan(
        counter(before.body, "registry_storage_action_seconds_count"),
    );
});

test("nginx's counters rise with requests", () => {
    const requests = () => Number(/^\s*\d+\s+\d+\s+(\d+)\s*$/m.exec(scrape("/nginx_status").body)![1]);
    const first = requests();
    for (let i = 0; i < 3; i++) curl(`https://${host}/v2/`, caFile, auth);
    expect(scrape("/nginx_status").body).toMatch(/^Active connections: \d+/);
    expect(requests()).toBeGreaterThanOrEqual(first + 3);
});

test("the HTTPS port serves neither metrics nor counters, with or without credentials", () => {
    for (const urlPath of ["/metrics", "/nginx_status", "/debug/vars"]) {
        expect(curl(`https://${host}${urlPath}`, caFile).status).toBe(404);
        expect(curl(`https://${host}${urlPath}`, caFile, auth).status).toBe(404);
    }
    expect(scrape("/v2/").status).toBe(404);
});

test("/healthz follows the registry: 503 while it is stopped, 200 once it is back; /livez stays 200", () => {
    expect(curl(`https://${host}/healthz`, caFile).status).toBe(200);
    ok("docker", ["stop", registryContainer]);
    const down = curl(`https://${host}/healthz`, caFile);
    expect({ status: down.status, body: JSON.parse(down.body).errors[0].code }).toEqual({ status: 503, body: "UNAVAILABLE" });
    expect(curl(`https://${host}/livez`, caFile).status).toBe(200);
    expect(exec("docker", ["inspect", "--format", "{{.State.Health.Status}}", `registry-${stack.name}-nginx`]).stdout.trim()).toBe(
        "healthy",
    );
    ok("docker", ["start", registryContainer]);
    waitUntil("/healthz answers 200 again", 10_000, () => {
        const answer = tryCurl(`https://${host}/healthz`, caFile);
        return { done: "status" in answer && answer.status === 200, seen: answer };
    });
});
