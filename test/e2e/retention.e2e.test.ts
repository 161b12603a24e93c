/**
 * Tag retention on the real engine: a repository with 12 tags pushed one after another, under the
 * rule "the newest 5 plus v*". `npm run retention` first prints what it would delete and deletes
 * nothing; with --apply it deletes exactly the other tags through the registry API, collects the
 * garbage, and the space is freed; what it kept still pulls.
 */
import * as fs from "fs";
import * as path from "path";
import { curl, DockerClient, DockerTrust, exec, loopbackStackConfig, Stack } from "./harness";

const port = 29243;
const host = `localhost:${port}`;
const stack = new Stack();
const caFile = path.join(stack.workDir, "ca.crt");
const trust = new DockerTrust(host);
const client = new DockerClient();
/** Pushed in this order, oldest first. */
const pushedTags = ["b01", "v1", "b02", "b03", "v2", "b04", "b05", "b06", "v3", "b07", "b08", "b09"];
const kept = ["b06", "b07", "b08", "b09", "v1", "v2", "v3"];
let password: string;

function tags(): string[] {
    const answer = curl(`https://${host}/v2/team/app/tags/list`, caFile, ["--user", `janitor:${password}`]);
    expect(answer.status).toBe(200);
    return (JSON.parse(answer.body).tags as string[]).sort();
}

function retention(args: string[]): { status: number; output: string } {
    const run = exec("bash", ["scripts/retention.sh", ...args, stack.name], { env: stack.env });
    return { status: run.status, output: run.stdout + run.stderr };
}

beforeAll(() => {
    stack.init(
        loopbackStackConfig(
            port,
            [
                "    - username: janitor",
                "      access:",
                "        - repositories: ['**']",
                "          actions: [pull, push, delete]",
                "      catalog: true",
            ],
            {
                extra: [
                    "  authenticated-registry:retention:",
                    "    - repositories: [team/**]",
                    "      keepNewest: 5",
                    "      keepTags: [v*]",
                ],
            },
        ),
    );
    stack.up();
    const outputs = stack.outputs();
    password = outputs.passwords.janitor;
    fs.writeFileSync(caFile, outputs.caCertificatePem);
    trust.trustFile(caFile);
    expect(client.login(host, "janitor", password).status).toBe(0);
    for (const tag of pushedTags) {
        client.buildRandomImage(`${host}/team/app:${tag}`);
        client.ok(["push", `${host}/team/app:${tag}`]);
    }
});

afterAll(() => {
    stack.run(["destroy", "--yes", "--config-file", stack.configFile]);
    stack.removeAll();
    trust.remove();
});

test("a dry run lists what the rule would delete, and deletes nothing", () => {
    const run = retention([]);
    expect({ status: run.status, output: run.status === 0 ? "" : run.output }).toEqual({ status: 0, output: "" });
    for (const tag of ["b01", "b02", "b03", "b04", "b05"]) expect(run.output).toContain(`  delete  ${tag}  (not among the newest 5)`);
    expect(run.output).toContain("  keep    v1  (matches v*)");
    expect(run.output).toContain("  keep    b06  (among the newest 5)");
    expect(run.output).toContain("5 tags would be deleted (a dry run: --apply deletes them)");
    expect(tags()).toEqual([...pushedTags].sort());
});

test("--apply keeps exactly the newest 5 plus v*, collects the garbage, and the space is freed", () => {
    const run = retention(["--apply"]);
    expect({ status: run.status, output: run.status === 0 ? "" : run.output }).toEqual({ status: 0, output: "" });
    expect(run.output).toContain("5 of 5 tags deleted");
    expect(tags()).toEqual(kept);
    const freed = /\((\d+) MiB freed\)/.exec(run.output);
    expect(Number(freed?.[1])).toBeGreaterThanOrEqual(2);
    for (const tag of kept) {
        client.ok(["rmi", "--force", `${host}/team/app:${tag}`]);
        client.ok(["pull", `${host}/team/app:${tag}`]);
    }
    expect(client.run(["pull", `${host}/team/app:b01`]).status).not.toBe(0);
});
