/**
 * Drives the real tools for the end-to-end suite: the Pulumi CLI on the project directory with
 * a local state backend and a throwaway stack, the docker client, curl and openssl. Nothing is
 * mocked; a missing tool is an error, never a skipped test.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const projectDir = path.resolve(__dirname, "..", "..");
/** The same, for {@link Stack}'s default, whose own `projectDir` would shadow it. */
const checkoutDir = projectDir;

export interface Result {
    readonly status: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs a command to completion; throws if it cannot start at all. */
export function exec(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Result {
    const result = spawnSync(command, args, {
        cwd: options.cwd ?? projectDir,
        env: { ...process.env, ...options.env },
        input: options.input,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
    });
    if (result.error) {
        throw new Error(`${command} could not run: ${result.error.message}`);
    }
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a command and returns its stdout; throws with its output when it fails. */
export function ok(command: string, args: string[], options: Parameters<typeof exec>[2] = {}): string {
    const result = exec(command, args, options);
    if (result.status !== 0) {
        throw commandFailure(command, args, result);
    }
    return result.stdout;
}

/**
 * The error for a command that failed: its lines that name an error come first, before the whole
 * output, because a CI log keeps the head and tail of a long message and drops its middle, where
 * Pulumi prints its progress.
 */
export function commandFailure(command: string, args: string[], result: Result): Error {
    const output = `${result.stdout}\n${result.stderr}`;
    const errorLines = output
        .split("\n")
        .filter((line) => /\berror\b/i.test(line))
        .slice(0, 20);
    const summary = errorLines.length > 0 ? `\n${errorLines.map((line) => `  | ${line.trim()}`).join("\n")}` : "";
    return new Error(`${command} ${args.join(" ")} exited ${result.status}${summary}\n${output}`);
}

/**
 * Settings the scripts define once, in scripts/lib.sh, as they stand in this environment: Pulumi's
 * folder (PULUMI_HOME, where scripts/toolchain.sh registers the plugins) and the plugins'
 * versions, the cache, and the stand-in images' tags.
 */
export const scriptSettings: Readonly<Record<string, string>> = (() => {
    const names = [
        "PULUMI_HOME",
        "PULUMI_DOCKER_VERSION",
        "PULUMI_TLS_VERSION",
        "PULUMI_RANDOM_VERSION",
        "AUTHREG_CACHE_DIR",
        "AUTHREG_NGINX_IMAGE",
        "AUTHREG_REGISTRY_IMAGE",
        "AUTHREG_REGISTRY2_IMAGE",
        "AUTHREG_NODE_IMAGE",
        "AUTHREG_MINIO_IMAGE",
    ];
    const values = ok("bash", ["-c", `source scripts/lib.sh && printf '%s\\0' ${names.map((n) => `"$${n}"`).join(" ")}`]).split("\0");
    return Object.fromEntries(names.map((name, i) => [name, values[i]]));
})();

/**
 * What every CLI call here runs with: the plugins the toolchain registered, whatever the account's
 * passwd entry names as its home; no update check, no plugin downloads, no colour.
 */
export const offlinePulumiEnv: NodeJS.ProcessEnv = {
    PULUMI_HOME: scriptSettings.PULUMI_HOME,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    NO_COLOR: "1",
};

/**
 * A throwaway stack of this project, with its own state directory and config file. Its commands
 * run in `projectDir`, whose `Pulumi.yaml` names the program: this checkout's unless told.
 */
export class Stack {
    readonly name: string;
    readonly workDir: string;
    readonly configFile: string;
    readonly env: NodeJS.ProcessEnv;

    /**
     * A new stack, or, with `of`, the same stack as `of` (its state, passphrase and config file)
     * driven with the program in `dir`: another release's files, say.
     */
    constructor(
        readonly projectDir: string = checkoutDir,
        of?: Stack,
    ) {
        if (of) {
            ({ name: this.name, workDir: this.workDir, configFile: this.configFile, env: this.env } = of);
            return;
        }
        this.name = `e2e-${crypto.randomBytes(3).toString("hex")}`;
        this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-e2e-"));
        this.configFile = path.join(this.workDir, `Pulumi.${this.name}.yaml`);
        this.env = {
            PULUMI_BACKEND_URL: `file://${path.join(this.workDir, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "end-to-end passphrase",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            ...offlinePulumiEnv,
        };
        fs.mkdirSync(path.join(this.workDir, "state"));
    }

    /** This stack, its commands run with the program in `dir`. */
    withProgram(dir: string): Stack {
        return new Stack(dir, this);
    }

    /** Runs `pulumi ARGS --stack NAME --non-interactive` in the project directory. */
    run(args: string[], input?: string): Result {
        return exec("pulumi", [...args, "--stack", this.name, "--non-interactive"], { env: this.env, input, cwd: this.projectDir });
    }

    /** Like `run`, but a failure throws with the CLI's output. */
    ok(args: string[], input?: string): string {
        const result = this.run(args, input);
        if (result.status !== 0) {
            throw commandFailure("pulumi", args, result);
        }
        return result.stdout;
    }

    /**
     * Creates the stack with `config` as its config file. `stack init` has no --config-file and
     * writes the passphrase salt to Pulumi.NAME.yaml in the project; the salt is moved into the
     * stack's own file so that the checkout is left as it was.
     */
    init(config: string): void {
        ok("pulumi", ["stack", "init", this.name, "--secrets-provider", "passphrase", "--non-interactive"], {
            env: this.env,
            cwd: this.projectDir,
        });
        const written = path.join(this.projectDir, `Pulumi.${this.name}.yaml`);
        const salt = fs.readFileSync(written, "utf8").match(/^encryptionsalt: .*$/m);
        fs.rmSync(written);
        if (!salt) {
            throw new Error(`pulumi stack init wrote no encryptionsalt to ${written}`);
        }
        fs.writeFileSync(this.configFile, `${salt[0]}\n${config}`);
    }

    /** `pulumi up`; returns the CLI output. */
    up(): string {
        return this.ok(["up", "--yes", "--skip-preview", "--config-file", this.configFile]);
    }

    preview(extra: string[] = []): Result {
        return this.run(["preview", "--diff", "--config-file", this.configFile, ...extra]);
    }

    setConfig(path: string, value: string, secret = false): void {
        this.ok(["config", "set", "--config-file", this.configFile, "--path", path, ...(secret ? ["--secret"] : []), value]);
    }

    removeConfig(path: string): void {
        this.ok(["config", "rm", "--config-file", this.configFile, "--path", path]);
    }

    /**
     * Tears the stack down completely: `pulumi destroy`, the data volume (which destroy keeps on
     * purpose), and the stack with its state. Failures are ignored: this runs in afterAll.
     */
    removeAll(): void {
        this.run(["destroy", "--yes", "--config-file", this.configFile]);
        exec("docker", ["volume", "rm", "--force", `registry-${this.name}-data`]);
        this.run(["stack", "rm", "--yes", "--force"]);
    }

    /** The stack outputs, secrets included. */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON; the tests read it at any depth
    outputs(): Record<string, any> {
        return JSON.parse(this.ok(["stack", "output", "--json", "--show-secrets"]));
    }
}

/**
 * The docker client's trust of a stack's CA for one `HOST:PORT`: the engine reads
 * /etc/docker/certs.d/HOST:PORT/ca.crt at each connection, so a test trusts its stack's CA there
 * and removes the entry at the end.
 */
export class DockerTrust {
    readonly dir: string;
    readonly caFile: string;
    constructor(host: string) {
        this.dir = `/etc/docker/certs.d/${host}`;
        this.caFile = path.join(this.dir, "ca.crt");
    }
    /** Trusts the CA certificate in PEM, in place of any trusted before. */
    trust(caCertificatePem: string): void {
        fs.mkdirSync(this.dir, { recursive: true });
        fs.writeFileSync(this.caFile, caCertificatePem);
    }
    /** Trusts the CA certificate in a file. */
    trustFile(file: string): void {
        this.trust(fs.readFileSync(file, "utf8"));
    }
    remove(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/** The docker client with a private config directory, so logins do not touch the user's. */
export class DockerClient {
    readonly configDir = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-docker-"));

    run(args: string[], input?: string): Result {
        return exec("docker", args, { env: { DOCKER_CONFIG: this.configDir, DOCKER_BUILDKIT: "0" }, input });
    }

    ok(args: string[], input?: string): string {
        const result = this.run(args, input);
        if (result.status !== 0) {
            throw commandFailure("docker", args, result);
        }
        return result.stdout;
    }

    /** Makes a one-layer image of `bytes` random bytes (512 KiB) under `ref`; returns its ID. */
    buildRandomImage(ref: string, bytes = 512 * 1024): string {
        return this.loadImage(ref, [{ payload: crypto.randomBytes(bytes) }]);
    }

    /**
     * Makes the image `ref` of one layer per entry of `layers` (each a file name to its content,
     * every file dated 2023-11-14, so that equal layers are equal bytes), dated now, and returns
     * its ID. It is
     * loaded from an image archive rather than built: the engine's legacy builder, run beside
     * other suites' builds and removals, once lost an image it had just committed.
     */
    loadImage(ref: string, layers: Record<string, Buffer>[]): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-image-"));
        const diffIds = layers.map((files, i) => {
            const content = path.join(dir, `content-${i}`);
            fs.mkdirSync(content);
            for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(content, name), data);
            const layer = `layer-${i}.tar`;
            ok("tar", [
                ...["--create", "--file", path.join(dir, layer), "--directory", content, "--sort=name", "--mtime=@1700000000"],
                ...["--owner=0", "--group=0", "--numeric-owner", ...Object.keys(files)],
            ]);
            return `sha256:${crypto
                .createHash("sha256")
                .update(fs.readFileSync(path.join(dir, layer)))
                .digest("hex")}`;
        });
        // Dated now, as a build dates its image: retention orders tags by it.
        const created = new Date().toISOString();
        const config = JSON.stringify({
            architecture: "amd64",
            os: "linux",
            created,
            config: {},
            rootfs: { type: "layers", diff_ids: diffIds },
        });
        fs.writeFileSync(path.join(dir, "config.json"), config);
        const manifest = [{ Config: "config.json", RepoTags: [ref], Layers: layers.map((_, i) => `layer-${i}.tar`) }];
        fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
        ok("tar", [
            "--create",
            "--file",
            path.join(dir, "image.tar"),
            "--directory",
            dir,
            "config.json",
            "manifest.json",
            ...manifest[0].Layers,
        ]);
        this.ok(["load", "--quiet", "--input", path.join(dir, "image.tar")]);
        fs.rmSync(dir, { recursive: true, force: true });
        return `sha256:${crypto.createHash("sha256").update(config).digest("hex")}`;
    }

    login(host: string, username: string, password: string): Result {
        return this.run(["login", host, "--username", username, "--password-stdin"], password);
    }

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed `docker inspect` JSON; the tests read it at any depth
    inspect(container: string): any {
        return JSON.parse(this.ok(["inspect", container]))[0];
    }

    /** Every host binding of a container's ports, as `HOST_IP:HOST_PORT->PORT/PROTO`. */
    publishedPorts(container: string): string[] {
        const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = this.inspect(container).NetworkSettings.Ports ?? {};
        return Object.entries(ports).flatMap(([port, bindings]) => (bindings ?? []).map((b) => `${b.HostIp}:${b.HostPort}->${port}`));
    }
}

/** One HTTP exchange through curl: status, headers (lower-cased names, every value) and body. */
export interface HttpAnswer {
    readonly status: number;
    readonly headers: Record<string, string[]>;
    readonly body: string;
}

/** Requests `url` with curl trusting `caFile`; `args` adds curl options (-u, -A, -X, ...). */
export function curl(url: string, caFile: string, args: string[] = []): HttpAnswer {
    return parseAnswer(ok("curl", ["--silent", "--show-error", "--cacert", caFile, "--dump-header", "-", ...args, url]));
}

/** Like `curl`, but a request that gets no HTTP answer at all returns curl's error instead of throwing. */
export function tryCurl(url: string, caFile: string, args: string[] = []): HttpAnswer | { error: string } {
    const result = exec("curl", ["--silent", "--show-error", "--max-time", "5", "--cacert", caFile, "--dump-header", "-", ...args, url]);
    return result.status === 0 ? parseAnswer(result.stdout) : { error: `curl exit ${result.status}: ${result.stderr.trim()}` };
}

function parseAnswer(raw: string): HttpAnswer {
    let out = raw;
    // Uploads are answered "100 Continue" first; the final answer follows that header block.
    while (/^HTTP\/[0-9.]+ 1[0-9][0-9] /.test(out)) {
        out = out.slice(out.indexOf("\r\n\r\n") + 4);
    }
    const split = out.indexOf("\r\n\r\n");
    const head = out.slice(0, split).split("\r\n");
    const headers: Record<string, string[]> = {};
    for (const line of head.slice(1)) {
        const i = line.indexOf(":");
        const name = line.slice(0, i).trim().toLowerCase();
        (headers[name] ??= []).push(line.slice(i + 1).trim());
    }
    return { status: Number(head[0].split(" ")[1]), headers, body: out.slice(split + 4) };
}

/**
 * A plain HTTP request with curl (5 s at most): its status and body; `args` adds curl options.
 * A request that gets no answer has status 0.
 */
export function plainHttp(url: string, args: string[] = []): { status: number; body: string } {
    const result = exec("curl", ["--silent", "--max-time", "5", "--write-out", "\n%{http_code}", ...args, url]);
    const split = result.stdout.lastIndexOf("\n");
    return { status: Number(result.stdout.slice(split + 1)), body: result.stdout.slice(0, split) };
}

/** A request to an S3-compatible server at `endpoint`, signed with AWS SigV4 (us-east-1) by curl. */
export function s3Request(endpoint: string, accessKey: string, secretKey: string, method: string, urlPath: string) {
    return plainHttp(`${endpoint}${urlPath}`, [
        "--aws-sigv4",
        "aws:amz:us-east-1:s3",
        "--user",
        `${accessKey}:${secretKey}`,
        "--request",
        method,
    ]);
}

/** The stand-in images' tags as `NAME=VALUE` settings, for the scripts run with a clean environment. */
export const imageTagSettings: string[] = Object.entries(scriptSettings)
    .filter(([name]) => name.endsWith("_IMAGE"))
    .map(([name, value]) => `${name}=${value}`);

/** The offline stand-in images that scripts/images.sh builds (their tags: scripts/lib.sh); the e2e stacks use them. */
export const standInImages = {
    nginx: scriptSettings.AUTHREG_NGINX_IMAGE,
    registry: scriptSettings.AUTHREG_REGISTRY_IMAGE,
    /** The legacy line, distribution 2.8. */
    registry2: scriptSettings.AUTHREG_REGISTRY2_IMAGE,
    /** The token service's runtime, Node.js 22. */
    node: scriptSettings.AUTHREG_NODE_IMAGE,
    /** An S3-compatible server for the object storage tests. */
    minio: scriptSettings.AUTHREG_MINIO_IMAGE,
} as const;

/**
 * A stack config like dev's, on 127.0.0.1:`port`: `users` is one user name (its password
 * generated) or the YAML lines of the users list; `container` adds container runtime settings
 * beside its bind address, `extra` adds settings (YAML lines). `release01` writes the container
 * settings at the top level, the only form release 0.1 reads.
 */
export function loopbackStackConfig(
    port: number,
    users: string | string[],
    options: {
        extra?: string[];
        container?: Record<string, string | number>;
        registryImage?: string;
        nginxImage?: string;
        guardImage?: string;
        release01?: boolean;
    } = {},
): string {
    const container = Object.entries({ bindAddress: "127.0.0.1", ...options.container });
    return [
        "config:",
        "  authenticated-registry:domain: localhost",
        `  authenticated-registry:port: ${port}`,
        ...(options.release01
            ? container.map(([key, value]) => `  authenticated-registry:${key}: ${value}`)
            : ["  authenticated-registry:container:", ...container.map(([key, value]) => `    ${key}: ${value}`)]),
        "  authenticated-registry:users:",
        ...(typeof users === "string" ? [`    - username: ${users}`] : users),
        "  authenticated-registry:tls:",
        "    mode: generated",
        "    ipAddresses: [127.0.0.1]",
        `  authenticated-registry:nginxImage: ${options.nginxImage ?? standInImages.nginx}`,
        `  authenticated-registry:registryImage: ${options.registryImage ?? standInImages.registry}`,
        `  authenticated-registry:guardImage: ${options.guardImage ?? standInImages.node}`,
        ...(options.extra ?? []),
        "",
    ].join("\n");
}

/** Blocks the (synchronous) test for `ms` milliseconds. */
export function sleep(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Calls `probe` every `everyMs` until it returns true or `boundMs` has passed. Returns the
 * milliseconds it took; throws, with the last value `probe` saw, when the bound passes first.
 */
export function waitUntil(what: string, boundMs: number, probe: () => { done: boolean; seen: unknown }, everyMs = 250): number {
    const start = Date.now();
    let last: unknown;
    for (;;) {
        const { done, seen } = probe();
        last = seen;
        if (done) {
            return Date.now() - start;
        }
        if (Date.now() - start > boundMs) {
            throw new Error(`${what}: not within ${boundMs} ms; last seen: ${JSON.stringify(last)}`);
        }
        sleep(everyMs);
    }
}

/**
 * Pushes a one-layer OCI image through the registry API with curl (each blob a POST and one
 * PUT with the whole body, then the manifest PUT), so a test can store an image without the docker client's trust directory.
 * Returns the manifest's digest.
 */
export function pushImageByApi(base: string, caFile: string, auth: string[], repository: string, tag: string, layer: Buffer): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-push-"));
    const upload = (content: Buffer): { digest: string; size: number } => {
        const digest = `sha256:${crypto.createHash("sha256").update(content).digest("hex")}`;
        const file = path.join(dir, digest.slice(7));
        fs.writeFileSync(file, content);
        const start = curl(`${base}/v2/${repository}/blobs/uploads/`, caFile, [...auth, "--request", "POST"]);
        if (start.status !== 202) {
            throw new Error(`blob upload to ${repository} answered ${start.status}: ${start.body}`);
        }
        const location = start.headers.location[0];
        const answer = curl(`${location}${location.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`, caFile, [
            ...auth,
            "--request",
            "PUT",
            "--header",
            "Content-Type: application/octet-stream",
            "--data-binary",
            `@${file}`,
        ]);
        if (answer.status !== 201) {
            throw new Error(`blob upload to ${repository} answered ${answer.status}: ${answer.body}`);
        }
        return { digest, size: content.length };
    };
    const config = upload(Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } })));
    const blob = upload(layer);
    const manifest = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
            layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...blob }],
        }),
    );
    const manifestFile = path.join(dir, "manifest.json");
    fs.writeFileSync(manifestFile, manifest);
    const put = curl(`${base}/v2/${repository}/manifests/${tag}`, caFile, [
        ...auth,
        "--request",
        "PUT",
        "--header",
        "Content-Type: application/vnd.oci.image.manifest.v1+json",
        "--data-binary",
        `@${manifestFile}`,
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
    if (put.status !== 201) {
        throw new Error(`manifest PUT to ${repository}:${tag} answered ${put.status}: ${put.body}`);
    }
    return put.headers["docker-content-digest"][0];
}

/**
 * A loop of pulls from scratch (the image removed first, so every pull fetches the manifest and
 * the layer), at most `maxPulls` and `maxSeconds`, until `stop()`; each result is one line of
 * its log.
 */
export class PullLoop {
    private readonly log: string;
    private readonly stopFile: string;
    private readonly child: ChildProcess;

    /** Starts pulling `ref` with `client`'s logins; the log goes into `workDir`. */
    constructor(ref: string, client: DockerClient, workDir: string, maxPulls = 2000, maxSeconds = 600) {
        this.log = path.join(workDir, `pulls-${Date.now()}.log`);
        this.stopFile = `${this.log}.stop`;
        const script = [
            "i=0",
            'while [ ! -e "$STOP" ] && [ "$i" -lt "$MAX_PULLS" ] && [ "$SECONDS" -lt "$MAX_SECONDS" ]; do',
            '  docker rmi --force "$REF" >/dev/null 2>&1',
            '  if out=$(docker pull "$REF" 2>&1); then echo "ok" >>"$LOG"; else echo "failed: $(echo "$out" | tr "\\n" " ")" >>"$LOG"; fi',
            "  i=$((i + 1))",
            "done",
        ].join("\n");
        this.child = spawn("bash", ["-c", script], {
            env: {
                ...process.env,
                DOCKER_CONFIG: client.configDir,
                REF: ref,
                LOG: this.log,
                STOP: this.stopFile,
                MAX_PULLS: String(maxPulls),
                MAX_SECONDS: String(maxSeconds),
            },
            stdio: "ignore",
        });
        waitUntil("the pull loop's first pull", 30_000, () => ({ done: this.results().length > 0, seen: this.results() }));
    }

    results(): string[] {
        return fs.existsSync(this.log) ? fs.readFileSync(this.log, "utf8").split("\n").filter(Boolean) : [];
    }

    /** Stops the loop and returns every pull's result. */
    async stop(): Promise<string[]> {
        fs.writeFileSync(this.stopFile, "");
        if (this.child.exitCode === null) await new Promise((resolve) => this.child.once("exit", resolve));
        return this.results();
    }
}

/** Pulls that must succeed after the change, before the loop stops, and the bound on waiting for them. */
const pullsAfterChange = 2;
const pullsAfterChangeBoundMs = 60_000;

/**
 * Runs `change` while a pull loop pulls `ref` with `client`, then lets the loop go on until
 * {@link pullsAfterChange} more pulls have finished; asserts that not one pull failed. A pull in
 * flight when a task dies may take seconds longer (the docker client retries a broken layer
 * download after 5 s), so what is counted is failures, never speed.
 */
export async function withoutFailedPulls(
    what: string,
    ref: string,
    client: DockerClient,
    workDir: string,
    change: () => void,
): Promise<void> {
    const loop = new PullLoop(ref, client, workDir);
    const started = Date.now();
    let duringChange: number;
    let changeMs: number;
    try {
        change();
        changeMs = Date.now() - started;
        duringChange = loop.results().length;
        waitUntil(`${pullsAfterChange} pulls after the change (${what})`, pullsAfterChangeBoundMs, () => ({
            done: loop.results().length >= duringChange + pullsAfterChange,
            seen: loop.results().slice(duringChange),
        }));
    } finally {
        await loop.stop();
    }
    const results = loop.results();
    const failed = results.filter((line) => line !== "ok");
    console.log(`${what}: ${results.length} pulls (${duringChange} by the end of ${changeMs} ms of change), ${failed.length} failed`);
    expect(failed).toEqual([]);
}

/** What {@link collectionAmidLoops} saw. */
export interface CollectionAmidLoops {
    /** `scripts/gc.sh`'s exit status. */
    readonly collection: number;
    /** Pushes that succeeded, and the failures with the docker client's message. */
    readonly pushes: { ok: number; failed: string[] };
    /** Failed pulls, and whether any succeeded at all. */
    readonly pulls: { any: boolean; failed: string[] };
    /** Pushed images that did not pull afterwards. */
    readonly lostAfterwards: string[];
    /** Whether the pushes straddled the collection: some finished before it, some after. */
    readonly straddled: boolean;
}

/**
 * Runs `scripts/gc.sh --delete-untagged` on `stack` amid a push loop and a pull loop with the
 * docker client: `pushCount` fresh images under `repository`, built beforehand and pushed one
 * after another, the collection starting once the first is through; `pullRef` pulled afresh
 * until the pushes are done. Then every pushed image is pulled again. Bounded by the count.
 */
export async function collectionAmidLoops(
    stack: Stack,
    client: DockerClient,
    repository: string,
    pushCount: number,
    pullRef: string,
): Promise<CollectionAmidLoops> {
    const refs = Array.from({ length: pushCount }, (_, i) => `${repository}:loop-${i}`);
    for (const ref of refs) client.buildRandomImage(ref);
    const env = { ...process.env, DOCKER_CONFIG: client.configDir, DOCKER_BUILDKIT: "0" };
    const done = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "authreg-loops-")), "pushes-done");
    const loop = (body: string, args: string[]) => {
        const child = spawn("bash", ["-c", body, "loop", ...args], { env, stdio: ["ignore", "pipe", "inherit"] });
        const log = { text: "", exited: new Promise<void>((resolve) => child.on("exit", () => resolve())) };
        child.stdout.on("data", (d) => (log.text += d));
        return log;
    };
    // Each line: "push REF ok" or "push REF failed: MESSAGE" (pulls alike).
    const report = (kind: string) =>
        `if err=$(docker ${kind} "$ref" 2>&1 >/dev/null); then echo "${kind} $ref ok"; else echo "${kind} $ref failed: $(tr '\\n' ' ' <<<"$err")"; fi`;
    const pushes = loop(`for ref in "$@"; do ${report("push")}; done; touch ${done}`, refs);
    const pulls = loop(`ref=$1; while [ ! -e ${done} ]; do docker rmi --force "$ref" >/dev/null 2>&1; ${report("pull")}; done`, [pullRef]);
    const finished = () => pushes.text.split("\n").filter((l) => l.startsWith("push ")).length;
    const deadline = Date.now() + 60_000;
    while (finished() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const before = finished();
    const gc = spawn("bash", ["scripts/gc.sh", "--delete-untagged", stack.name], {
        cwd: projectDir,
        env: { ...process.env, ...stack.env },
        stdio: "ignore",
    });
    const collection = await new Promise<number>((resolve) => gc.on("exit", (code) => resolve(code ?? -1)));
    const after = finished();
    await Promise.all([pushes.exited, pulls.exited]);
    const lines = (text: string, kind: string) => text.split("\n").filter((l) => l.startsWith(`${kind} `));
    const pushLines = lines(pushes.text, "push");
    const pullLines = lines(pulls.text, "pull");
    const lostAfterwards = refs.filter((ref) => {
        client.run(["rmi", "--force", ref]);
        return client.run(["pull", ref]).status !== 0;
    });
    return {
        collection,
        pushes: { ok: pushLines.filter((l) => l.endsWith(" ok")).length, failed: pushLines.filter((l) => !l.endsWith(" ok")) },
        pulls: { any: pullLines.some((l) => l.endsWith(" ok")), failed: pullLines.filter((l) => !l.endsWith(" ok")) },
        lostAfterwards,
        straddled: before >= 1 && after < pushCount,
    };
}

/** One answer of a {@link ProbeLoop}: when it was asked (ms since the epoch) and its HTTP status (0: no answer). */
export interface Probe {
    readonly at: number;
    readonly status: number;
    /** curl's error when there was no answer. */
    readonly error?: string;
}

/**
 * A loop of authenticated `GET /v2/` requests with curl, one started every `everyMs` whether or
 * not the one before has been answered, each on a new connection, at most `maxProbes` and
 * `maxSeconds`, until `stop()`; each answer is one line of its log, with the time it was asked.
 */
export class ProbeLoop {
    private readonly log: string;
    private readonly stopFile: string;
    private readonly child: ChildProcess;

    constructor(
        url: string,
        caFile: string,
        user: string,
        password: string,
        workDir: string,
        everyMs = 100,
        maxProbes = 3000,
        maxSeconds = 300,
    ) {
        this.log = path.join(workDir, `probes-${Date.now()}.log`);
        this.stopFile = `${this.log}.stop`;
        const script = [
            "probe() {",
            '  out=$(curl --silent --show-error --max-time 5 --cacert "$CA" --user "$AUTH" --output /dev/null --write-out "%{http_code}" "$URL" 2>&1)',
            // One write per answer, so that answers arriving together do not mix their lines.
            '  printf "%s %s\\n" "$1" "$(echo "$out" | tr "\\n" " ")" >>"$LOG"',
            "}",
            "i=0",
            'while [ ! -e "$STOP" ] && [ "$i" -lt "$MAX_PROBES" ] && [ "$SECONDS" -lt "$MAX_SECONDS" ]; do',
            '  probe "$(date +%s%3N)" &',
            "  i=$((i + 1))",
            '  sleep "$EVERY"',
            "done",
            "wait",
        ].join("\n");
        this.child = spawn("bash", ["-c", script], {
            env: {
                ...process.env,
                URL: url,
                CA: caFile,
                AUTH: `${user}:${password}`,
                LOG: this.log,
                STOP: this.stopFile,
                EVERY: String(everyMs / 1000),
                MAX_PROBES: String(maxProbes),
                MAX_SECONDS: String(maxSeconds),
            },
            stdio: "ignore",
        });
        waitUntil("the probe loop's first answer", 30_000, () => ({ done: this.probes().length > 0, seen: this.probes() }));
    }

    /** The answers so far, in the order they were asked. */
    probes(): Probe[] {
        if (!fs.existsSync(this.log)) return [];
        return fs
            .readFileSync(this.log, "utf8")
            .split("\n")
            .filter((line) => line.trim() !== "")
            .map((line) => {
                const [at, ...rest] = line.trim().split(" ");
                const out = rest.join(" ");
                const status = /(\d{3})$/.exec(out);
                const code = status === null ? 0 : Number(status[1]);
                return code === 0 ? { at: Number(at), status: 0, error: out } : { at: Number(at), status: code };
            })
            .sort((a, b) => a.at - b.at);
    }

    /** Stops the loop and returns every answer. */
    async stop(): Promise<Probe[]> {
        fs.writeFileSync(this.stopFile, "");
        if (this.child.exitCode === null) await new Promise((resolve) => this.child.once("exit", resolve));
        return this.probes();
    }
}
