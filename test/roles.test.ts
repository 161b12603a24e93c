/**
 * Each role as a spec, whatever runs it: the exact image, command, environment, files (with
 * their secrecy and modes), health probe, port and labels. The roles create nothing, so plain
 * values stand in for the material; secret values must arrive as secret Outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { edgeRole, edgeConfigPath } from "../components/roles/edge";
import { proxyListenPort, proxyReload, proxyRole } from "../components/roles/proxy";
import { registryRole, registryTokenAuth, tokenCertificatePath } from "../components/roles/registry";
import { RoleFile } from "../components/roles/spec";
import { guardRole, tokenServiceRole } from "../components/roles/tokenService";
import { tokenServiceFiles } from "../components/tokenService/files";
import { valueOf } from "./mocks";

/** A file's content as a plain value, and whether it was a secret Output. */
async function content(file: RoleFile): Promise<{ value: string; secret: boolean }> {
    const output = pulumi.output(file.content);
    return { value: await valueOf(output), secret: await pulumi.isSecret(output) };
}

/** The files without their content, for exact comparison of where and how. */
const shapes = (files: readonly RoleFile[]) => files.map(({ path, secret, mode }) => ({ path, secret, mode }));

describe("the proxy", () => {
    const spec = proxyRole({
        image: "nginx:1.28.0",
        config: "server {}",
        htpasswd: "alice:$2y$08$hash",
        certificatePem: "CERT",
        privateKeyPem: "KEY",
        users: [{ username: "alice", access: [{ repositories: ["**"], actions: ["pull"] }], catalog: false }],
    });

    test("has nginx's files where the seed mounts them, the key root-only and the secrets secret", async () => {
        expect(shapes(spec.files)).toEqual([
            { path: "/etc/nginx/conf.d/registry.conf", secret: false, mode: "0644" },
            { path: "/etc/nginx/conf.d/default.conf", secret: false, mode: "0644" },
            { path: "/etc/nginx/conf.d/registry.password", secret: true, mode: "0644" },
            { path: "/etc/nginx/conf.d/domain.crt", secret: false, mode: "0644" },
            { path: "/etc/nginx/conf.d/domain.key", secret: true, mode: "0600" },
        ]);
        expect(await content(spec.files[2])).toEqual({ value: "alice:$2y$08$hash", secret: true });
        expect(await content(spec.files[4])).toEqual({ value: "KEY", secret: true });
        expect(await content(spec.files[0])).toEqual({ value: "server {}", secret: false });
    });

    test("has no password file in token mode", () => {
        const token = proxyRole({ image: "nginx", config: "", certificatePem: "C", privateKeyPem: "K" });
        expect(token.files.map((file) => file.path)).not.toContain("/etc/nginx/conf.d/registry.password");
        expect(token.labels).toEqual([]);
    });

    test("listens on 443, probes its own /livez, stops gracefully and reloads in place", () => {
        expect(spec.role).toBe("proxy");
        expect(spec.listenPort).toBe(proxyListenPort);
        expect(proxyListenPort).toBe(443);
        expect(spec.healthCommand).toEqual([
            "curl",
            "--fail",
            "--silent",
            "--insecure",
            "--output",
            "/dev/null",
            "https://127.0.0.1:443/livez",
        ]);
        expect(spec.stopSignal).toBe("SIGQUIT");
        expect(spec.reload).toBe(proxyReload);
        expect(proxyReload).toEqual({
            directory: "/etc/nginx/conf.d",
            start: ["nginx", "-g", "daemon off;"],
            check: ["nginx", "-t", "-q"],
            reload: ["nginx", "-s", "reload"],
            fileLabels: ["authenticated-registry.access"],
        });
        expect(spec.env).toEqual([]);
    });

    test("shows the grants as a label, for previews and the policy pack", () => {
        expect(spec.labels).toEqual([
            {
                label: "authenticated-registry.access",
                value: JSON.stringify([{ username: "alice", access: [{ repositories: ["**"], actions: ["pull"] }], catalog: false }]),
            },
        ]);
    });
});

describe("the registry", () => {
    test("on filesystem storage: its data at /data, the HTTP secret a secret, no delete or metrics unless asked", async () => {
        const spec = registryRole({
            image: "registry:3.0.0",
            storage: { kind: "filesystem" },
            httpSecret: "s3cr3t",
            deleteEnabled: false,
            metrics: false,
        });
        expect(spec.role).toBe("registry");
        expect(spec.listenPort).toBe(5000);
        const env = await Promise.all(
            spec.env.map(async (entry) => [await valueOf(pulumi.output(entry)), await pulumi.isSecret(pulumi.output(entry))]),
        );
        expect(env).toEqual([
            ["REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/data", false],
            ["REGISTRY_HTTP_SECRET=s3cr3t", true],
            ["REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR=", false],
            ["OTEL_TRACES_EXPORTER=none", false],
        ]);
        expect(spec.files).toEqual([]);
        expect(spec.healthCommand).toEqual(["wget", "-q", "--spider", "http://127.0.0.1:5000/"]);
        // The start both registry lines share: 3 keeps its config in /etc/distribution, 2.8 in /etc/docker/registry.
        expect(spec.start?.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
        expect(spec.start?.[2]).toContain("/etc/distribution/config.yml /etc/docker/registry/config.yml");
    });

    test("in token mode trusts the signing certificate, from the token service behind /token", async () => {
        const spec = registryRole({
            image: "registry:3.0.0",
            storage: { kind: "filesystem" },
            httpSecret: "s",
            deleteEnabled: true,
            metrics: true,
            tokenAuth: registryTokenAuth("localhost:5043", "SIGNING CERT"),
        });
        const plainEnv = spec.env.filter((entry): entry is string => typeof entry === "string");
        expect(plainEnv).toEqual(
            expect.arrayContaining([
                "REGISTRY_STORAGE_DELETE_ENABLED=true",
                "REGISTRY_HTTP_DEBUG_ADDR=:5001",
                "REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED=true",
                "REGISTRY_HTTP_DEBUG_PROMETHEUS_PATH=/metrics",
                "REGISTRY_AUTH=token",
                "REGISTRY_AUTH_TOKEN_REALM=https://localhost:5043/token",
                "REGISTRY_AUTH_TOKEN_SERVICE=localhost:5043",
                "REGISTRY_AUTH_TOKEN_ISSUER=authenticated-registry token service",
                `REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE=${tokenCertificatePath}`,
            ]),
        );
        expect(shapes(spec.files)).toEqual([{ path: tokenCertificatePath, secret: false, mode: "0644" }]);
        expect(await content(spec.files[0])).toEqual({ value: "SIGNING CERT", secret: false });
    });
});

describe("the token service and the guard", () => {
    test("the token service has its program, its secret settings and key, and its certificate", async () => {
        const spec = tokenServiceRole({
            image: "node:22",
            program: "program();",
            settings: '{"users":[]}',
            privateKeyPem: "KEY",
            certificatePem: "CERT",
        });
        expect(spec.role).toBe("token-service");
        expect(spec.command).toEqual(["node", tokenServiceFiles.program]);
        expect(shapes(spec.files)).toEqual([
            { path: tokenServiceFiles.program, secret: false, mode: "0644" },
            { path: tokenServiceFiles.settings, secret: true, mode: "0600" },
            { path: tokenServiceFiles.privateKey, secret: true, mode: "0600" },
            { path: tokenServiceFiles.certificate, secret: false, mode: "0644" },
        ]);
        expect((await content(spec.files[1])).secret).toBe(true);
        expect((await content(spec.files[2])).secret).toBe(true);
        expect(spec.listenPort).toBe(5001);
        expect(spec.healthCommand[0]).toBe("node");
    });

    test("the guard runs the same program with settings that hold no secret", async () => {
        const spec = guardRole({ image: "node:22", program: "program();", settings: '{"writeHoldSeconds":120}' });
        expect(spec.role).toBe("guard");
        expect(spec.command).toEqual(["node", tokenServiceFiles.program]);
        expect(shapes(spec.files)).toEqual([
            { path: tokenServiceFiles.program, secret: false, mode: "0644" },
            { path: tokenServiceFiles.settings, secret: false, mode: "0644" },
        ]);
        expect(await content(spec.files[1])).toEqual({ value: '{"writeHoldSeconds":120}', secret: false });
    });
});

describe("the swarm's edge", () => {
    test("passes TLS through to the proxy's tasks, from its whole nginx.conf, and probes its own port", () => {
        const spec = edgeRole({ image: "nginx:1.28.0", proxyTasks: "tasks.reg-nginx", proxyPort: 443, listenPort: 443 });
        expect(spec.role).toBe("edge");
        expect(shapes(spec.files)).toEqual([{ path: edgeConfigPath, secret: false, mode: "0644" }]);
        expect(spec.files[0].content).toContain("default tasks.reg-nginx:443;");
        expect(spec.files[0].content).toContain("listen 443;");
        expect(spec.files[0].content).not.toContain("ssl_certificate");
        expect(spec.healthCommand).toEqual(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/443"]);
        expect(spec.stopSignal).toBe("SIGQUIT");
    });
});
