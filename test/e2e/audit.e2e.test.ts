/**
 * The audit trail on the real engine: nginx's audit lines, read from the proxy container's log
 * (Docker's json-file log, rotated, where a log shipper reads it). In basic mode a push, a pull, a
 * refused push and a delete each give their line with the user; in token mode logins do, refused
 * or not, and so do a push, a pull and a refused push, with the user of the token the token service
 * verified. No line holds a password.
 */
import * as fs from "fs";
import * as path from "path";
import { AuditLine } from "../../components/auditLog";
import { curl, DockerClient, DockerTrust, exec, loopbackStackConfig, Stack, standInImages, waitUntil } from "./harness";

const port = 29543;
const host = `localhost:${port}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
const clients = { ci: new DockerClient(), reader: new DockerClient() };
let passwords: Record<string, string>;
let proxyContainer: string;

/** Every audit line in the proxy's log so far. */
function auditLines(): AuditLine[] {
    const log = exec("docker", ["logs", proxyContainer]).stdout;
    return log
        .split("\n")
        .filter((line) => line.startsWith('{"time"'))
        .map((line) => JSON.parse(line) as AuditLine);
}

/** Waits until the proxy has logged `count` more audit lines than `before`; returns the new ones. */
function newLines(before: number, count: number): AuditLine[] {
    waitUntil(`${count} audit lines`, 10_000, () => {
        const lines = auditLines();
        return { done: lines.length >= before + count, seen: lines.slice(before) };
    });
    return auditLines().slice(before);
}

function refresh(): void {
    const outputs = stack.outputs();
    passwords = outputs.passwords;
    proxyContainer = outputs.proxyContainerName;
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    trust.trustFile(caFile);
}

beforeAll(() => {
    stack.init(
        loopbackStackConfig(
            port,
            [
                "    - username: ci",
                "      access:",
                "        - repositories: [team/**]",
                "          actions: [pull, push, delete]",
                "    - username: reader",
                "      access:",
                "        - repositories: [team/**]",
                "          actions: [pull]",
            ],
            { extra: ["  authenticated-registry:auditLog: true"] },
        ),
    );
    stack.up();
    refresh();
    for (const user of ["ci", "reader"] as const) expect(clients[user].login(host, user, passwords[user]).status).toBe(0);
});

afterAll(() => {
    stack.run(["destroy", "--yes", "--config-file", stack.configFile]);
    stack.removeAll();
    trust.remove();
});

const at = (fields: Partial<AuditLine>) => ({ time: expect.any(String), address: expect.any(String), ...fields });

test("basic mode: a push, a pull, refused pushes and a delete, each with its user, repository and reference", () => {
    const ref = `${host}/team/app:1`;
    clients.ci.buildRandomImage(ref);
    let before = auditLines().length;
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(clients.ci.ok(["push", ref]))![1];
    const push = newLines(before, 1).filter((line) => line.requested === "push");
    expect(push).toEqual([
        at({ user: "ci", action: "push", requested: "push", repository: "team/app", reference: "1", status: 201, bytes: 0 }),
    ]);

    before = auditLines().length;
    clients.reader.ok(["rmi", "--force", ref]);
    clients.reader.ok(["pull", ref]);
    const pulls = newLines(before, 1);
    expect(pulls[0]).toEqual(
        at({
            user: "reader",
            action: "pull",
            requested: "pull",
            repository: "team/app",
            reference: "1",
            status: 200,
            bytes: expect.any(Number),
        }),
    );

    before = auditLines().length;
    clients.reader.ok(["tag", ref, `${host}/team/app:from-reader`]);
    expect(clients.reader.run(["push", `${host}/team/app:from-reader`]).status).not.toBe(0);
    expect(newLines(before, 1).find((line) => line.action === "denied")).toEqual(
        at({
            user: "reader",
            action: "denied",
            requested: "push",
            repository: "team/app",
            reference: "from-reader",
            status: 403,
            bytes: expect.any(Number),
        }),
    );

    // A push of new content is refused at its first upload, before any manifest.
    const fresh = `${host}/team/other:1`;
    clients.reader.buildRandomImage(fresh);
    before = auditLines().length;
    expect(clients.reader.run(["push", fresh]).status).not.toBe(0);
    expect(newLines(before, 1).find((line) => line.action === "denied")).toEqual(
        at({
            user: "reader",
            action: "denied",
            requested: "push",
            repository: "team/other",
            reference: "",
            status: 403,
            bytes: expect.any(Number),
        }),
    );

    before = auditLines().length;
    const deleted = curl(`https://${host}/v2/team/app/manifests/${digest}`, caFile, [
        "--user",
        `ci:${passwords.ci}`,
        "--request",
        "DELETE",
    ]);
    expect(deleted.status).toBe(202);
    expect(newLines(before, 1)).toEqual([
        at({ user: "ci", action: "delete", requested: "delete", repository: "team/app", reference: digest, status: 202, bytes: 0 }),
    ]);
    const log = exec("docker", ["logs", proxyContainer]);
    expect(log.stdout + log.stderr).not.toContain(passwords.ci);
    expect(log.stdout + log.stderr).not.toContain(passwords.reader);
});

test("token mode: each login names its user, a refused one too", () => {
    stack.setConfig("auth.mode", "token");
    stack.setConfig("auth.tokenServiceImage", standInImages.node);
    stack.up();
    refresh();
    const before = auditLines().length;
    expect(clients.reader.login(host, "reader", passwords.reader).status).toBe(0);
    expect(clients.reader.login(host, "reader", "not-the-password").status).not.toBe(0);
    const logins = newLines(before, 2).filter((line) => line.requested === "login");
    expect(logins.map((line) => [line.user, line.action, line.status])).toEqual([
        ["reader", "login", 200],
        ["reader", "denied", 401],
    ]);
    const log = exec("docker", ["logs", proxyContainer]);
    expect(log.stdout + log.stderr).not.toContain("not-the-password");
});

test("token mode: a push, a pull and a refused push name the user of the token", () => {
    const ref = `${host}/team/app:token`;
    clients.ci.buildRandomImage(ref);
    let before = auditLines().length;
    clients.ci.ok(["push", ref]);
    let lines = newLines(before, 1);
    expect(lines.filter((line) => line.action === "push")).toEqual([
        at({ user: "ci", action: "push", requested: "push", repository: "team/app", reference: "token", status: 201, bytes: 0 }),
    ]);
    // A request the client sends before it has its token is refused, and names no one.
    expect(lines.filter((line) => line.user !== "ci")).toEqual(lines.filter((line) => line.user === "" && line.status === 401));

    before = auditLines().length;
    clients.reader.ok(["rmi", "--force", ref]);
    clients.reader.ok(["pull", ref]);
    lines = newLines(before, 1);
    expect(lines.filter((line) => line.action === "pull")[0]).toEqual(
        at({
            user: "reader",
            action: "pull",
            requested: "pull",
            repository: "team/app",
            reference: "token",
            status: 200,
            bytes: expect.any(Number),
        }),
    );

    before = auditLines().length;
    clients.reader.ok(["tag", ref, `${host}/team/app:from-reader-token`]);
    expect(clients.reader.run(["push", `${host}/team/app:from-reader-token`]).status).not.toBe(0);
    const denied = newLines(before, 1).filter((line) => line.action === "denied" && line.user !== "");
    expect(denied[0]).toEqual(
        at({
            user: "reader",
            action: "denied",
            requested: "push",
            repository: "team/app",
            reference: expect.any(String),
            status: 401,
            bytes: expect.any(Number),
        }),
    );
});
