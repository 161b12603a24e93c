/**
 * Runs Debian's nginx on this machine with a rendered registry.conf, as any user: every path
 * nginx writes (pid, logs, temp files) is in a private directory, and the config's own files
 * (certificate, key, password file) are placed there through `renderNginxConfig`'s `paths`.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { NginxPaths } from "../components/nginxConfig";
import { run, toolPath } from "./tools";

export interface LocalNginx {
    /** The private directory; remove it with `fs.rmSync(dir, { recursive: true })`. */
    readonly dir: string;
    /** Where the rendered config, the password file, the certificate and the key go. */
    readonly paths: NginxPaths;
    /** The main nginx.conf, which includes `paths.config` inside `http {}` like the image's. */
    readonly mainConfig: string;
}

/** A directory with a self-signed certificate for `commonName` and a main config around `paths.config`. */
export function localNginx(commonName: string): LocalNginx {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nginx-"));
    // nginx's workers may run as another user and read the password file on every request.
    fs.chmodSync(dir, 0o755);
    const paths: NginxPaths = {
        directory: dir,
        config: path.join(dir, "registry.conf"),
        htpasswd: path.join(dir, "registry.password"),
        certificate: path.join(dir, "domain.crt"),
        privateKey: path.join(dir, "domain.key"),
        defaultSite: path.join(dir, "default.conf"),
        accessLog: path.join(dir, "access.log"),
        auditLog: path.join(dir, "audit.log"),
    };
    const openssl = run("openssl", [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"],
        ...["-subj", `/CN=${commonName}`, "-addext", `subjectAltName=DNS:${commonName}`],
        ...["-keyout", paths.privateKey, "-out", paths.certificate],
    ]);
    if (openssl.status !== 0) {
        throw new Error(`openssl req failed: ${openssl.stderr}`);
    }
    const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${dir}/${t};`).join("\n");
    const mainConfig = path.join(dir, "nginx.conf");
    fs.writeFileSync(
        mainConfig,
        `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log off;\n${temp}\n  include ${paths.config};\n}\n`,
    );
    return { dir, paths, mainConfig };
}

/** `nginx -t` of the directory's config: its status and what it printed. */
export function nginxCheck(nginx: LocalNginx): { status: number | null; stderr: string } {
    const result = run("nginx", ["-t", "-p", nginx.dir, "-e", "stderr", "-c", nginx.mainConfig]);
    return { status: result.status, stderr: result.stderr };
}

/** A TCP port on loopback that nothing listens on now. */
export function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** Waits until nginx listens on `port`; fails with its error log (in `dir`) after 5 s. */
export async function waitForPort(port: number, dir: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
        const open = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, "127.0.0.1", () => resolve(!!socket.end()));
            socket.on("error", () => resolve(false));
        });
        if (open) return;
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nginx did not listen on ${port}; error log:\n${fs.readFileSync(path.join(dir, "error.log"), "utf8")}`);
}

/** nginx running in the foreground on a {@link LocalNginx}'s config. */
export interface RunningNginx {
    /** Stops nginx and removes its private directory. */
    stop(): void;
}

/** Starts nginx on `nginx`'s config and waits until it listens on `port`. */
export async function startNginx(nginx: LocalNginx, port: number): Promise<RunningNginx> {
    const child = spawn(toolPath("nginx"), ["-p", nginx.dir, "-c", nginx.mainConfig, "-g", "daemon off;"], { stdio: "ignore" });
    await waitForPort(port, nginx.dir);
    return {
        stop() {
            child.kill("SIGTERM");
            fs.rmSync(nginx.dir, { recursive: true, force: true });
        },
    };
}
