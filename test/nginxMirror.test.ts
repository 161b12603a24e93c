/**
 * Pull-through mirrors as the real nginx routes them, in both auth modes: the rendered config
 * runs in Debian's nginx in front of recording stand-ins for the registry and for the mirror
 * `hub`'s registry. For each rule the request that must be refused is here, and a refused
 * request never reaches the mirror.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import { validateUserAccess } from "../components/access";
import { mirrorRefusedBody, NginxConfigOptions, renderNginxConfig, deniedBody } from "../components/nginxConfig";
import { createGuardHandler } from "../components/tokenService/handler";
import { freePort, localNginx, nginxCheck, RunningNginx, startNginx } from "./localNginx";
import { run } from "./tools";

interface Seen {
    readonly method: string;
    readonly url: string;
    readonly authorization?: string;
}

/** The registry's token challenge for a pull of `repository`, as registry 3 words it. */
const challenge = (repository: string) =>
    `Bearer realm="https://localhost/token",service="localhost",scope="repository:${repository}:pull"`;

/** A recording stand-in: the mirror answers every read; the registry checks tokens on `tags/list` and accepts other requests. */
function recorder(seen: Seen[], answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): http.Server {
    return http.createServer((req, res) => {
        seen.push({
            method: req.method!,
            url: req.url!,
            ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        });
        req.resume();
        req.on("end", () => answer(req, res));
    });
}

/** The registry in token mode: `Bearer good` may pull anything, `Bearer no-pull` nothing, no token gets the challenge. */
function registryAnswer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const tags = /^\/v2\/(.+)\/tags\/list$/.exec(req.url!);
    const headers = { "Content-Type": "application/json", "Docker-Distribution-Api-Version": "registry/2.0" };
    if (tags && req.headers.authorization !== "Bearer good") {
        const scope = req.headers.authorization === "Bearer no-pull" ? ',error="insufficient_scope"' : "";
        res.writeHead(401, { ...headers, "WWW-Authenticate": challenge(tags[1]) + scope });
        res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
    }
    res.writeHead(tags ? 404 : 200, headers);
    res.end(tags ? '{"errors":[{"code":"NAME_UNKNOWN"}]}' : "registry");
}

function mirrorAnswer(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { "Content-Type": "application/json", "Docker-Distribution-Api-Version": "registry/2.0" });
    res.end(`mirror ${req.url}`);
}

/** nginx with `options` in front of the two stand-ins, and what each was sent. */
class MirroredProxy {
    readonly registrySeen: Seen[] = [];
    readonly mirrorSeen: Seen[] = [];
    private readonly servers: http.Server[] = [];
    private nginx?: RunningNginx;
    private dir = "";
    private ca = Buffer.alloc(0);
    private port = 0;

    async start(options: Pick<NginxConfigOptions, "users" | "token">): Promise<void> {
        const local = localNginx("localhost");
        this.dir = local.dir;
        this.ca = fs.readFileSync(local.paths.certificate);
        const lines = ["reader", "outsider", "ci"].map((user) => run("htpasswd", ["-nbB", "-C", "4", user, `pw-${user}`]).stdout.trim());
        fs.writeFileSync(local.paths.htpasswd, `${lines.join("\n")}\n`, { mode: 0o644 });
        const listen = async (server: http.Server) => {
            this.servers.push(server);
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
        };
        const registry = await listen(recorder(this.registrySeen, registryAnswer));
        const mirror = await listen(recorder(this.mirrorSeen, mirrorAnswer));
        const guard = await listen(http.createServer(createGuardHandler({ writeHoldSeconds: 2 })));
        this.port = await freePort();
        fs.writeFileSync(
            local.paths.config,
            renderNginxConfig({
                serverName: "localhost",
                realm: "localhost",
                upstream: registry,
                listenPort: this.port,
                paths: local.paths,
                guard: { upstream: guard, loginThrottle: false, writeHoldSeconds: 2 },
                mirrors: [{ name: "hub", upstream: mirror }],
                ...options,
            }),
        );
        expect(nginxCheck(local)).toMatchObject({ status: 0 });
        this.nginx = await startNginx(local, this.port);
    }

    async stop(): Promise<void> {
        this.nginx?.stop();
        await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }

    forget(): void {
        this.registrySeen.length = 0;
        this.mirrorSeen.length = 0;
    }

    /** One request through nginx with `authorization` (none when undefined). */
    request(
        method: string,
        target: string,
        authorization?: string,
    ): Promise<{ status: number; body: string; challenge: string | undefined }> {
        return new Promise((resolve, reject) => {
            const req = https.request(
                {
                    host: "127.0.0.1",
                    port: this.port,
                    servername: "localhost",
                    ca: this.ca,
                    method,
                    path: target,
                    headers: authorization === undefined ? {} : { Authorization: authorization },
                    agent: false,
                },
                (res) => {
                    let body = "";
                    res.on("data", (chunk) => (body += chunk));
                    res.on("end", () => resolve({ status: res.statusCode!, body, challenge: res.headers["www-authenticate"] }));
                },
            );
            req.on("error", reject);
            req.end(method === "GET" || method === "HEAD" || method === "DELETE" ? undefined : "");
        });
    }
}

const basic = (user: string) => `Basic ${Buffer.from(`${user}:pw-${user}`).toString("base64")}`;
const refusedByMirror = `${mirrorRefusedBody.replace("$registry_mirror", "hub")}\n`;
const manifest = "/v2/hub/library/debian/manifests/12";

describe("basic mode: the grants name the repository as the client wrote it", () => {
    const proxy = new MirroredProxy();
    beforeAll(() =>
        proxy.start({
            users: validateUserAccess("users", [
                { username: "reader", access: [{ repositories: ["hub/**"], actions: ["pull"] }] },
                { username: "outsider", access: [{ repositories: ["team/**"], actions: ["pull", "push"] }] },
                { username: "ci", access: [{ repositories: ["**"], actions: ["pull", "push", "delete"] }] },
            ]),
        }),
    );
    afterAll(() => proxy.stop());
    beforeEach(() => proxy.forget());

    test.each([
        [manifest, "/v2/library/debian/manifests/12"],
        [`/v2/hub/library/debian/blobs/sha256:${"a".repeat(64)}`, `/v2/library/debian/blobs/sha256:${"a".repeat(64)}`],
        ["/v2/hub/library/debian/tags/list?n=10&last=a", "/v2/library/debian/tags/list?n=10&last=a"],
        ["/v2/hub/busybox/manifests/latest", "/v2/busybox/manifests/latest"],
    ])("a granted read of %s goes to the mirror as %s, without the password", async (target, sent) => {
        expect(await proxy.request("GET", target, basic("reader"))).toMatchObject({ status: 200, body: `mirror ${sent}` });
        expect(proxy.mirrorSeen).toEqual([{ method: "GET", url: sent }]);
        expect(proxy.registrySeen).toEqual([]);
    });

    test("a read without a grant on hub/** is denied and reaches nothing", async () => {
        expect(await proxy.request("GET", manifest, basic("outsider"))).toMatchObject({ status: 403, body: `${deniedBody}\n` });
        expect(await proxy.request("GET", manifest)).toMatchObject({ status: 401 });
        expect(await proxy.request("GET", manifest, `Basic ${Buffer.from("reader:wrong").toString("base64")}`)).toMatchObject({
            status: 401,
        });
        expect([...proxy.mirrorSeen, ...proxy.registrySeen]).toEqual([]);
    });

    test.each([
        ["PUT", manifest],
        ["DELETE", manifest],
        ["POST", "/v2/hub/library/debian/blobs/uploads/"],
        ["PATCH", "/v2/hub/library/debian/blobs/uploads/abc"],
    ])("%s %s by a user granted push and delete everywhere is refused as a write to a mirror", async (method, target) => {
        expect(await proxy.request(method, target, basic("ci"))).toMatchObject({ status: 403, body: refusedByMirror });
        expect([...proxy.mirrorSeen, ...proxy.registrySeen]).toEqual([]);
    });

    test("other repositories, a repository named hub itself, and hub/ outside the API stay the registry's", async () => {
        expect(await proxy.request("GET", "/v2/team/app/manifests/1", basic("ci"))).toMatchObject({ status: 200, body: "registry" });
        expect(await proxy.request("GET", "/v2/hub/manifests/1", basic("ci"))).toMatchObject({ status: 200, body: "registry" });
        expect(await proxy.request("GET", "/v2/hubble/x/manifests/1", basic("ci"))).toMatchObject({ status: 200, body: "registry" });
        // Not a route of the API: refused by the grants, as any such request.
        expect(await proxy.request("GET", "/v2/hub/_catalog", basic("ci"))).toMatchObject({ status: 403 });
        expect(proxy.mirrorSeen).toEqual([]);
        expect(proxy.registrySeen.map((seen) => seen.url)).toEqual([
            "/v2/team/app/manifests/1",
            "/v2/hub/manifests/1",
            "/v2/hubble/x/manifests/1",
        ]);
    });
});

describe("token mode: the registry checks the client's token for the repository as the client wrote it", () => {
    const proxy = new MirroredProxy();
    beforeAll(() => proxy.start({ token: { upstream: "127.0.0.1:9", requestsPerMinute: 300, burst: 20 } }));
    afterAll(() => proxy.stop());
    beforeEach(() => proxy.forget());

    test("without a token the answer is the registry's challenge for a pull of hub/library/debian, and the mirror is not asked", async () => {
        expect(await proxy.request("GET", manifest)).toMatchObject({ status: 401, challenge: challenge("hub/library/debian") });
        expect(proxy.registrySeen).toEqual([{ method: "GET", url: "/v2/hub/library/debian/tags/list" }]);
        expect(proxy.mirrorSeen).toEqual([]);
    });

    test("a token that may pull: the mirror serves the upstream's name, and is not sent the token", async () => {
        expect(await proxy.request("GET", manifest, "Bearer good")).toMatchObject({
            status: 200,
            body: "mirror /v2/library/debian/manifests/12",
        });
        expect(proxy.registrySeen).toEqual([{ method: "GET", url: "/v2/hub/library/debian/tags/list", authorization: "Bearer good" }]);
        expect(proxy.mirrorSeen).toEqual([{ method: "GET", url: "/v2/library/debian/manifests/12" }]);
    });

    test("a token without the pull, and a password sent where a token belongs, reach no mirror", async () => {
        expect(await proxy.request("GET", manifest, "Bearer no-pull")).toMatchObject({
            status: 401,
            challenge: `${challenge("hub/library/debian")},error="insufficient_scope"`,
        });
        expect(await proxy.request("GET", manifest, basic("reader"))).toMatchObject({ status: 401 });
        expect(proxy.registrySeen.map((seen) => seen.authorization)).toEqual(["Bearer no-pull", undefined]);
        expect(proxy.mirrorSeen).toEqual([]);
    });

    test.each([
        ["PUT", manifest],
        ["DELETE", manifest],
        ["POST", "/v2/hub/library/debian/blobs/uploads/"],
    ])("%s %s: without a token, the challenge; with one, refused as a write to a mirror", async (method, target) => {
        expect(await proxy.request(method, target)).toMatchObject({ status: 401, challenge: challenge("hub/library/debian") });
        expect(await proxy.request(method, target, "Bearer good")).toMatchObject({ status: 403, body: refusedByMirror });
        expect(proxy.mirrorSeen).toEqual([]);
        expect(proxy.registrySeen.map((seen) => `${seen.method} ${seen.url}`)).toEqual([
            "GET /v2/hub/library/debian/tags/list",
            "GET /v2/hub/library/debian/tags/list",
        ]);
    });
});
