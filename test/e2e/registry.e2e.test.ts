/**
 * The dev stack's program deployed for real: the Pulumi CLI from the project directory, the
 * Docker engine, nginx and the registry, checked with the docker client, curl and openssl.
 * The tests run in order and share one throwaway stack; the last one tears it down.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { curl, DockerClient, DockerTrust, exec, loopbackStackConfig, ok, Stack, standInImages } from "./harness";

const port = 15043;
const directPort = 15000;
const host = `localhost:${port}`;
const nginxImage = standInImages.nginx;
const registryImage = standInImages.registry;
const user = "e2e";

const stack = new Stack();
const docker = new DockerClient();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed `stack output --json`, read at any depth
let outputs: Record<string, any>;
let password: string;
let pushedImageId: string;
const pushedRef = `${host}/e2e/payload:1`;

function refreshOutputs(): void {
    outputs = stack.outputs();
    password = outputs.passwords[user];
    fs.writeFileSync(caFile, outputs.caCertificatePem);
}

/** Asserts that an answer carries Docker-Distribution-Api-Version exactly once. */
function expectApiVersionOnce(answer: { headers: Record<string, string[]> }): void {
    expect(answer.headers["docker-distribution-api-version"]).toEqual(["registry/2.0"]);
}

/** Pulls the image pushed earlier from scratch and checks it is the same image. */
function expectPushedImageServed(): void {
    docker.run(["rmi", "--force", pushedRef]);
    expect(docker.login(host, user, password).status).toBe(0);
    docker.ok(["pull", pushedRef]);
    expect(docker.ok(["image", "inspect", "--format", "{{.Id}}", pushedRef]).trim()).toBe(pushedImageId);
}

beforeAll(() => {
    // Loud failures for missing pieces: the suite needs all of them.
    expect(ok("pulumi", ["version"]).trim()).toBe("v3.248.0");
    ok("docker", ["version"]);
    for (const image of [nginxImage, registryImage]) {
        ok("docker", ["image", "inspect", "--format", "{{.Id}}", image]);
    }
    stack.init(loopbackStackConfig(port, user));
});

afterAll(() => {
    stack.removeAll();
    trust.remove();
});

test("preview, then up, then a preview that shows no changes", () => {
    const preview = stack.preview();
    expect(preview.status).toBe(0);
    expect(preview.stdout).toMatch(/\+ .*docker:index\/container:Container/);
    stack.up();
    const again = stack.preview(["--expect-no-changes"]);
    expect({ status: again.status, output: again.status === 0 ? "" : again.stdout + again.stderr }).toEqual({ status: 0, output: "" });
    refreshOutputs();
    expect(outputs.url).toBe(`https://${host}`);
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    trust.trustFile(caFile);
});

test("docker's label filter finds the containers, the network and the volumes of this registry", () => {
    const filter = ["--filter", `label=authenticated-registry.instance=registry-${stack.name}`];
    const list = (args: string[]) =>
        ok("docker", [...args, ...filter])
            .trim()
            .split("\n")
            .sort();
    // The proxy, the registry, the guard, and the proxy's files writer, exited once it has written them.
    const proxyFiles = `${outputs.proxyContainerName}-files`;
    expect(list(["ps", "--all", "--format", "{{.Names}}"])).toEqual(
        [outputs.proxyContainerName, outputs.registryContainerName, outputs.guardContainerName, `${proxyFiles}-writer`].sort(),
    );
    expect(list(["network", "ls", "--format", "{{.Name}}"])).toEqual([outputs.networkName]);
    expect(list(["volume", "ls", "--format", "{{.Name}}"])).toEqual([outputs.volumeName, proxyFiles].sort());
});

test("docker login accepts the generated password and refuses a wrong one", () => {
    expect(docker.login(host, user, `${password}-wrong`).status).not.toBe(0);
    const login = docker.login(host, user, password);
    expect(login.stdout).toContain("Login Succeeded");
});

test("an image built here is pushed and pulled back with the same ID", () => {
    pushedImageId = docker.buildRandomImage(pushedRef, 4 * 1024 * 1024);
    docker.ok(["push", pushedRef]);
    expectPushedImageServed();
});

test("401 without or with wrong credentials, 404 for a missing manifest, the API header once on each", () => {
    const anonymous = curl(`https://${host}/v2/`, caFile);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toEqual(['Basic realm="localhost"']);
    expectApiVersionOnce(anonymous);
    const wrong = curl(`https://${host}/v2/`, caFile, ["--user", `${user}:nope`]);
    expect(wrong.status).toBe(401);
    expectApiVersionOnce(wrong);
    const missing = curl(`https://${host}/v2/e2e/payload/manifests/absent`, caFile, ["--user", `${user}:${password}`]);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).errors[0].code).toBe("MANIFEST_UNKNOWN");
    expectApiVersionOnce(missing);
    const base = curl(`https://${host}/v2/`, caFile, ["--user", `${user}:${password}`]);
    expect(base.status).toBe(200);
    expectApiVersionOnce(base);
});

test("a 1 GiB blob streams through the proxy, chunked, and reads back with the right digest", () => {
    const blob = path.join(stack.workDir, "blob");
    ok("sh", ["-c", `head -c 1073741824 /dev/urandom > ${blob}`]);
    const digest = `sha256:${ok("sha256sum", [blob]).split(" ")[0]}`;
    const auth = ["--user", `${user}:${password}`];
    const start = curl(`https://${host}/v2/e2e/big/blobs/uploads/`, caFile, [...auth, "--request", "POST"]);
    expect(start.status).toBe(202);
    const location = start.headers.location[0];
    // The registry builds the upload URL from Host and X-Forwarded-Proto: it must point back here.
    expect(location.startsWith(`https://${host}/v2/e2e/big/blobs/uploads/`)).toBe(true);
    const patch = curl(location, caFile, [
        ...auth,
        "--request",
        "PATCH",
        "--upload-file",
        blob,
        "--header",
        "Transfer-Encoding: chunked",
        "--header",
        "Content-Type: application/octet-stream",
    ]);
    expect(patch.status).toBe(202);
    const next = patch.headers.location[0];
    const put = curl(`${next}${next.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`, caFile, [
        ...auth,
        "--request",
        "PUT",
        "--data-binary",
        "",
    ]);
    expect(put.status).toBe(201);
    const readBack = ok("sh", [
        "-c",
        `curl --silent --fail --cacert ${caFile} --user '${user}:${password}' https://${host}/v2/e2e/big/blobs/${digest} | sha256sum`,
    ]);
    expect(`sha256:${readBack.split(" ")[0]}`).toBe(digest);
    fs.rmSync(blob);
});

test("TLS 1.0 and 1.1 are refused, 1.2 and 1.3 accepted, and the certificate verifies against the CA output", () => {
    const handshake = (flag: string) =>
        exec(
            "openssl",
            [
                "s_client",
                "-connect",
                `127.0.0.1:${port}`,
                "-servername",
                "localhost",
                flag,
                "-cipher",
                "DEFAULT@SECLEVEL=0",
                "-CAfile",
                caFile,
                "-verify_hostname",
                "localhost",
                "-verify_return_error",
            ],
            { input: "" },
        );
    for (const old of ["-tls1", "-tls1_1"]) {
        const answer = handshake(old);
        expect(answer.status).not.toBe(0);
        expect(answer.stdout).not.toMatch(/Cipher is (?!\(NONE\))/);
    }
    const v12 = handshake("-tls1_2");
    expect(v12.status).toBe(0);
    expect(v12.stdout).toMatch(/New, TLSv1\.2, Cipher is/);
    expect(v12.stdout).toContain("Verify return code: 0 (ok)");
    const v13 = handshake("-tls1_3");
    expect(v13.status).toBe(0);
    expect(v13.stdout).toMatch(/New, TLSv1\.3, Cipher is/);
    expect(v13.stdout).toContain("Verify return code: 0 (ok)");
});

test("clients with ancient user agents get 404", () => {
    for (const agent of ["docker/1.5.0 go/go1.4", "docker/1.3.2", "Go 1.1 package http"]) {
        const answer = curl(`https://${host}/v2/`, caFile, ["--user", `${user}:${password}`, "--user-agent", agent]);
        expect(answer.status).toBe(404);
        expectApiVersionOnce(answer);
    }
    expect(curl(`https://${host}/v2/`, caFile, ["--user", `${user}:${password}`, "--user-agent", "docker/1.5.0-dev"]).status).toBe(200);
});

test("the registry publishes no port unless directAccessPort is set, and then only on 127.0.0.1", () => {
    const published = () => docker.publishedPorts(outputs.registryContainerName);
    expect(published()).toEqual([]);
    expect(docker.publishedPorts(outputs.proxyContainerName)).toEqual([`127.0.0.1:${port}->443/tcp`]);
    stack.setConfig("container.directAccessPort", String(directPort));
    stack.up();
    expect(published()).toEqual([`127.0.0.1:${directPort}->5000/tcp`]);
    expect(ok("curl", ["--silent", "--output", "/dev/null", "--write-out", "%{http_code}", `http://127.0.0.1:${directPort}/v2/`])).toBe(
        "200",
    );
    // The proxy follows the replaced registry container.
    expectPushedImageServed();
    stack.removeConfig("container.directAccessPort");
    stack.up();
    expect(published()).toEqual([]);
});

test("rotating the password: the old one is refused, the new one accepted, images still served", () => {
    const old = password;
    const rotated = `rotated-${crypto.randomBytes(12).toString("hex")}`;
    stack.setConfig("users[0].password", rotated, true);
    const preview = stack.preview();
    expect(preview.status).toBe(0);
    expect(preview.stdout + preview.stderr).not.toContain(rotated);
    stack.up();
    refreshOutputs();
    expect(password).toBe(rotated);
    expect(docker.login(host, user, old).status).not.toBe(0);
    expect(curl(`https://${host}/v2/`, caFile, ["--user", `${user}:${old}`]).status).toBe(401);
    expectPushedImageServed();
});

test("rotating the certificate keeps the CA, serves the new certificate and the old images", () => {
    const serial = () =>
        ok("sh", [
            "-c",
            `openssl s_client -connect 127.0.0.1:${port} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial`,
        ]).trim();
    const before = serial();
    stack.setConfig("tls.dnsNames[0]", "registry.localhost");
    stack.up();
    refreshOutputs();
    expect(serial()).not.toBe(before);
    expect(fs.readFileSync(trust.caFile, "utf8")).toBe(outputs.caCertificatePem);
    expectPushedImageServed();
});

test("changing the nginx image replaces the proxy and keeps serving the images", () => {
    const context = fs.mkdtempSync(path.join(stack.workDir, "nginx-"));
    fs.writeFileSync(path.join(context, "Dockerfile"), `FROM ${nginxImage}\nLABEL org.opencontainers.image.version=e2e\n`);
    const variant = `${nginxImage}-e2e`;
    docker.ok(["build", "--quiet", "--tag", variant, context]);
    const proxyBefore = docker.inspect(outputs.proxyContainerName).Id;
    stack.setConfig("nginxImage", variant);
    stack.up();
    const proxy = docker.inspect(outputs.proxyContainerName);
    expect(proxy.Id).not.toBe(proxyBefore);
    expect(proxy.Config.Image).toBe(docker.ok(["image", "inspect", "--format", "{{.Id}}", variant]).trim());
    expectPushedImageServed();
    expect(stack.preview(["--expect-no-changes"]).status).toBe(0);
});

test("no plaintext password, htpasswd line or private key in the stack export or preview output", () => {
    const secretExport = stack.ok(["stack", "export", "--show-secrets"]);
    const deployment = JSON.parse(secretExport).deployment;
    const keys = deployment.resources
        .filter((r: { type: string }) => r.type === "tls:index/privateKey:PrivateKey")
        .map((r: { outputs: { privateKeyPem: string | { plaintext: string } } }) => {
            // Secret outputs appear in an export as {<signature>, plaintext: JSON}.
            const value = r.outputs.privateKeyPem;
            return (typeof value === "string" ? value : JSON.parse(value.plaintext)) as string;
        });
    expect(keys).toHaveLength(2);
    const htpasswdLines = (outputs.htpasswd as string).trim().split("\n");
    const plainExport = stack.ok(["stack", "export"]);
    const preview = stack.preview();
    for (const text of [plainExport, preview.stdout + preview.stderr, stack.ok(["stack", "output", "--json"])]) {
        expect(text).not.toContain(password);
        for (const line of htpasswdLines) {
            expect(text).not.toContain(line.split(":")[1]);
        }
        for (const key of keys) {
            expect(text).not.toContain(key.split("\n")[1]);
        }
    }
});

test("destroy removes the containers and network but keeps the volume; a new up serves the old images", () => {
    const { proxyContainerName, registryContainerName, networkName, volumeName } = outputs;
    stack.ok(["destroy", "--yes", "--config-file", stack.configFile]);
    for (const container of [proxyContainerName, registryContainerName, `${proxyContainerName}-files-writer`]) {
        expect(exec("docker", ["container", "inspect", container]).status).not.toBe(0);
    }
    expect(exec("docker", ["network", "inspect", networkName]).status).not.toBe(0);
    // The proxy's files go with the stack: the state holds them.
    expect(exec("docker", ["volume", "inspect", `${proxyContainerName}-files`]).status).not.toBe(0);
    expect(ok("docker", ["volume", "inspect", "--format", "{{.Name}}", volumeName]).trim()).toBe(volumeName);
    stack.up();
    refreshOutputs();
    trust.trustFile(caFile);
    expectPushedImageServed();
});
