import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { installMocks, registered, valueOf } from "./mocks";
import { run } from "./tools";

beforeAll(installMocks);

type Module = typeof import("../components");
let components: Module;
beforeAll(async () => {
    components = await import("../components");
});

/** Checks one user's password against htpasswd content with Apache's real `htpasswd -vb`. */
function htpasswdVerifies(content: string, username: string, password: string): boolean {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "htpasswd-")), "registry.password");
    fs.writeFileSync(file, content);
    try {
        const result = run("htpasswd", ["-vb", file, username, password]);
        return result.status === 0 && result.stderr.includes(`Password for user ${username} correct.`);
    } finally {
        fs.rmSync(path.dirname(file), { recursive: true });
    }
}

const users = [
    { username: "alice", password: "correct horse battery staple" },
    { username: "bob", password: "pässwörd with ütf-8" },
    { username: "carol" },
];

test("every user's password verifies with the real htpasswd, and a wrong one does not", async () => {
    const credentials = new components.HtpasswdCredentials("verify", { users, bcryptCost: 5 });
    const content = await valueOf(credentials.htpasswd);
    const passwords = await valueOf(credentials.passwords);
    expect(content.split("\n")).toEqual([
        expect.stringMatching(/^alice:\$2y\$05\$[./A-Za-z0-9]{53}$/),
        expect.stringMatching(/^bob:\$2y\$05\$[./A-Za-z0-9]{53}$/),
        expect.stringMatching(/^carol:\$2y\$05\$[./A-Za-z0-9]{53}$/),
        "",
    ]);
    for (const username of ["alice", "bob", "carol"]) {
        expect(htpasswdVerifies(content, username, passwords[username])).toBe(true);
        expect(htpasswdVerifies(content, username, `${passwords[username]}x`)).toBe(false);
    }
    expect(passwords.carol).toMatch(/^[A-Za-z0-9]{32}$/);
});

test("the same users, passwords and state give byte-identical content on every run", async () => {
    const first = await valueOf(new components.HtpasswdCredentials("stable", { users, bcryptCost: 5 }).htpasswd);
    const second = await valueOf(new components.HtpasswdCredentials("stable", { users, bcryptCost: 5 }).htpasswd);
    expect(second).toBe(first);
});

test("changing one password rewrites only that user's line", async () => {
    const before = (await valueOf(new components.HtpasswdCredentials("rotate", { users, bcryptCost: 5 }).htpasswd)).split("\n");
    const changed = users.map((u) => (u.username === "bob" ? { ...u, password: "a new password" } : u));
    const after = (await valueOf(new components.HtpasswdCredentials("rotate", { users: changed, bcryptCost: 5 }).htpasswd)).split("\n");
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(after[2]).toBe(before[2]);
    expect(htpasswdVerifies(after.join("\n"), "bob", "a new password")).toBe(true);
});

test("the cost factor is the one asked for, 8 by default", async () => {
    const content = await valueOf(new components.HtpasswdCredentials("cost", { users: [{ username: "dave", password: "pw" }] }).htpasswd);
    expect(content).toMatch(/^dave:\$2y\$08\$/);
    expect(htpasswdVerifies(content, "dave", "pw")).toBe(true);
});

test("the htpasswd and every password are secret, supplied or generated", async () => {
    const credentials = new components.HtpasswdCredentials("secrets", { users });
    expect(await pulumi.isSecret(credentials.htpasswd)).toBe(true);
    expect(await pulumi.isSecret(credentials.passwords)).toBe(true);
    const resources = await registered();
    const generated = resources.find((r) => r.name === "secrets-carol-password");
    expect(generated?.inputs).toEqual({ length: 32, special: false });
    expect(resources.some((r) => r.name === "secrets-alice-password")).toBe(false);
});
