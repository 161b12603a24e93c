/**
 * On one Docker host, changes of passwords, certificates and grants reach the running nginx
 * without a refused request: `pulumi up` replaces the one-shot writer of the proxy's files, nginx
 * reloads them gracefully, and its container stays as it was. A loop of authenticated `GET /v2/`
 * (curl, a new connection every 0.1 s, as a user the change does not touch) runs through each
 * change; afterwards the change is in effect. Then what happens when the running nginx refuses
 * a set: `pulumi up` fails and says how to write the files again.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { curl, exec, loopbackStackConfig, ok, Probe, ProbeLoop, Stack, waitUntil } from "./harness";

const port = 26043;
const host = `localhost:${port}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const proxyContainer = `registry-${stack.name}-nginx`;
const writerContainer = `registry-${stack.name}-nginx-files-writer`;
const writerUrnSuffix = `AuthenticatedRegistry$docker:index/container:Container::${writerContainer}`;
const proxyUrnSuffix = `AuthenticatedRegistry$docker:index/container:Container::${proxyContainer}-container`;
/** Probes go on this long after `pulumi up` has returned, so that a late reload would show. */
const afterChangeMs = 2000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed `stack output --json`, read at any depth
let outputs: Record<string, any>;
let probePassword: string;

/** The users: `probe` asks throughout, `alice` is the one whose password and grants change. */
const users = [
    "    - username: probe",
    "    - username: alice",
    "      access:",
    "        - repositories: [alice/**]",
    "          actions: [pull]",
];

function refreshOutputs(): void {
    outputs = stack.outputs();
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    probePassword = outputs.passwords.probe;
}

const containerId = (name: string) => ok("docker", ["inspect", "--format", "{{.Id}}", name]).trim();

/** The serial of the certificate nginx serves, verified against the stack's CA. */
function servedSerial(): string {
    return ok("sh", [
        "-c",
        `openssl s_client -connect 127.0.0.1:${port} -servername localhost -verify_return_error -CAfile ${caFile} </dev/null 2>/dev/null | openssl x509 -noout -serial`,
    ]).trim();
}

interface ChangeFigures {
    what: string;
    probes: number;
    failed: Probe[];
    upMs: number;
    longestGapMs: number;
}
const figures: ChangeFigures[] = [];

/**
 * Previews the change (the writer replaced, the proxy container not touched), then runs
 * `pulumi up` while the probe loop asks, and goes on probing for {@link afterChangeMs}. Asserts
 * that every probe was answered 200 and that the proxy is the same container.
 */
async function withoutRefusedRequests(what: string): Promise<void> {
    const preview = stack.preview();
    expect(preview.status).toBe(0);
    expect(preview.stdout).toContain(writerUrnSuffix);
    expect(preview.stdout).not.toContain(proxyUrnSuffix);
    const proxyBefore = containerId(proxyContainer);
    const writerBefore = containerId(writerContainer);
    const loop = new ProbeLoop(`https://${host}/v2/`, caFile, "probe", probePassword, stack.workDir);
    const started = Date.now();
    let upMs: number;
    try {
        stack.up();
        upMs = Date.now() - started;
        const upDone = Date.now();
        waitUntil(`probes ${afterChangeMs} ms after the change (${what})`, 30_000, () => ({
            done: loop.probes().some((p) => p.at >= upDone + afterChangeMs),
            seen: loop.probes().slice(-3),
        }));
    } finally {
        await loop.stop();
    }
    const probes = loop.probes();
    const failed = probes.filter((p) => p.status !== 200);
    // The longest time between two probes answered 200, by when they were asked.
    const answered = probes.filter((p) => p.status === 200);
    const longestGapMs = Math.max(...answered.slice(1).map((p, i) => p.at - answered[i].at));
    figures.push({ what, probes: probes.length, failed, upMs, longestGapMs });
    console.log(
        `${what}: ${probes.length} probes over ${((probes[probes.length - 1].at - probes[0].at) / 1000).toFixed(1)} s, ` +
            `${failed.length} failed; pulumi up ${(upMs / 1000).toFixed(1)} s; longest time between two probes answered 200: ${longestGapMs} ms`,
    );
    expect(failed).toEqual([]);
    expect(containerId(proxyContainer)).toBe(proxyBefore);
    expect(containerId(writerContainer)).not.toBe(writerBefore);
    expect(stack.preview(["--expect-no-changes"]).status).toBe(0);
}

beforeAll(() => {
    stack.init(loopbackStackConfig(port, users));
    stack.setConfig("users[1].password", `initial-${crypto.randomBytes(12).toString("hex")}`, true);
    stack.up();
    refreshOutputs();
});

afterAll(() => {
    stack.removeAll();
    if (figures.length > 0) {
        console.log(JSON.stringify(figures, null, 2));
    }
});

test("the proxy reads its files from the volume the writer filled; the key is root's alone, the password file readable by workers", () => {
    const inspect = JSON.parse(ok("docker", ["inspect", proxyContainer]))[0];
    expect(inspect.Mounts.map((m: { Name: string; Destination: string }) => [m.Name, m.Destination])).toEqual([
        [`registry-${stack.name}-nginx-files`, "/etc/nginx/conf.d"],
    ]);
    expect(ok("docker", ["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", writerContainer]).trim()).toBe("exited 0");
    const modes = ok("docker", [
        "exec",
        proxyContainer,
        "stat",
        "-c",
        "%n %a %U",
        "/etc/nginx/conf.d",
        "/etc/nginx/conf.d/domain.key",
        "/etc/nginx/conf.d/registry.password",
        "/etc/nginx/conf.d/registry.conf",
        "/etc/nginx/conf.d/domain.crt",
    ]);
    expect(modes.trim().split("\n")).toEqual([
        "/etc/nginx/conf.d 755 root",
        "/etc/nginx/conf.d/domain.key 600 root",
        "/etc/nginx/conf.d/registry.password 644 root",
        "/etc/nginx/conf.d/registry.conf 644 root",
        "/etc/nginx/conf.d/domain.crt 644 root",
    ]);
    // nginx is the container's process itself, so Docker's stop signal reaches it.
    expect(ok("docker", ["exec", proxyContainer, "cat", "/proc/1/comm"]).trim()).toBe("nginx");
    expect(curl(`https://${host}/v2/`, caFile, ["--user", `probe:${probePassword}`]).status).toBe(200);
});

test("(a) a password change: no refused request, then the old password is refused and the new one accepted", async () => {
    const old = outputs.passwords.alice as string;
    const rotated = `rotated-${crypto.randomBytes(12).toString("hex")}`;
    expect(curl(`https://${host}/v2/`, caFile, ["--user", `alice:${old}`]).status).toBe(200);
    stack.setConfig("users[1].password", rotated, true);
    await withoutRefusedRequests("password change");
    refreshOutputs();
    expect(outputs.passwords.alice).toBe(rotated);
    expect(curl(`https://${host}/v2/`, caFile, ["--user", `alice:${old}`]).status).toBe(401);
    expect(curl(`https://${host}/v2/`, caFile, ["--user", `alice:${rotated}`]).status).toBe(200);
});

test("(b) a certificate renewal: no refused request, then nginx serves the new certificate, signed by the same CA", async () => {
    const ca = outputs.caCertificatePem;
    const before = servedSerial();
    stack.setConfig("tls.validityHours", "4380");
    await withoutRefusedRequests("certificate renewal");
    refreshOutputs();
    expect(outputs.caCertificatePem).toBe(ca);
    const after = servedSerial();
    expect(after).toMatch(/^serial=[0-9A-F]+$/);
    expect(after).not.toBe(before);
    // And the key that goes with it: a TLS handshake verified against the CA succeeds.
    expect(curl(`https://${host}/v2/`, caFile, ["--user", `probe:${probePassword}`]).status).toBe(200);
});

test("(c) a grant change: no refused request, then the new grant is enforced", async () => {
    const auth = ["--user", `alice:${outputs.passwords.alice}`];
    const startUpload = () => curl(`https://${host}/v2/alice/app/blobs/uploads/`, caFile, [...auth, "--request", "POST"]).status;
    expect(startUpload()).toBe(403);
    stack.setConfig("users[1].access[0].actions[1]", "push");
    // The grants show on the writer's label, which is what the preview shows changing.
    const preview = stack.preview().stdout;
    expect(preview).toContain('label     : "authenticated-registry.access"');
    expect(preview).toMatch(/\+\s+\[1\]: "push"/);
    await withoutRefusedRequests("grant change");
    expect(startUpload()).toBe(202);
    expect(curl(`https://${host}/v2/bob/app/blobs/uploads/`, caFile, [...auth, "--request", "POST"]).status).toBe(403);
});

test("a set the running nginx refuses: pulumi up fails naming the writer, nginx serves on; written again once the cause is gone", () => {
    // Something only the running nginx sees: a stray file in its directory.
    ok("docker", ["exec", proxyContainer, "sh", "-c", "echo 'no_such_directive;' >/etc/nginx/conf.d/stray.conf"]);
    const proxyBefore = containerId(proxyContainer);
    stack.setConfig("users[1].password", `refused-${crypto.randomBytes(12).toString("hex")}`, true);
    const up = stack.run(["up", "--yes", "--skip-preview", "--config-file", stack.configFile]);
    expect(up.status).not.toBe(0);
    const output = up.stdout + up.stderr;
    expect(output).toContain(`the proxy did not take its new files: ${writerContainer} exited 1`);
    const urn = /pulumi up --replace '([^']+)'/.exec(output)![1];
    expect(urn).toContain(writerUrnSuffix);
    expect(exec("docker", ["logs", writerContainer]).stderr).toContain('unknown directive "no_such_directive"');
    expect(containerId(proxyContainer)).toBe(proxyBefore);
    expect(curl(`https://${host}/v2/`, caFile, ["--user", `probe:${probePassword}`]).status).toBe(200);
    // A later up says the same until the files are written again.
    expect(stack.run(["up", "--yes", "--skip-preview", "--config-file", stack.configFile]).status).not.toBe(0);
    ok("docker", ["exec", proxyContainer, "rm", "/etc/nginx/conf.d/stray.conf"]);
    stack.ok(["up", "--yes", "--skip-preview", "--config-file", stack.configFile, "--replace", urn]);
    expect(ok("docker", ["logs", writerContainer])).toContain("taken by the running process");
    expect(stack.preview(["--expect-no-changes"]).status).toBe(0);
    expect(curl(`https://${host}/v2/`, caFile, ["--user", `alice:${stack.outputs().passwords.alice}`]).status).toBe(200);
});
