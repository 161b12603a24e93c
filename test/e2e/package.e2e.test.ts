/**
 * The component package as users get it: `npm pack`, installed from the tarball into the
 * TypeScript example (examples/typescript) copied outside the repository, type-checked, and
 * previewed by the real CLI.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exec, offlinePulumiEnv, ok, projectDir } from "./harness";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "authreg-consumer-"));
let tarball: string;

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test("npm pack ships the compiled components and their types, not the stack program or tests", () => {
    const packed = JSON.parse(ok("npm", ["pack", "--json", "--pack-destination", work]))[0];
    tarball = path.join(work, packed.filename);
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    expect(files).toEqual(
        expect.arrayContaining([
            "package.json",
            "README.md",
            "bin/components/index.js",
            "bin/components/index.d.ts",
            "bin/components/authenticatedRegistry.d.ts",
        ]),
    );
    // The token service's bundle, which token-mode registries upload into its container.
    expect(files).toContain("bin/token-service.js");
    expect(
        files.filter((f) => !f.startsWith("bin/components/") && !["package.json", "README.md", "bin/token-service.js"].includes(f)),
    ).toEqual([]);
    const manifest = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8"));
    expect(manifest.main).toBe("bin/components/index.js");
    expect(manifest.types).toBe("bin/components/index.d.ts");
    expect(Object.keys(manifest.peerDependencies)).toEqual(["@pulumi/pulumi"]);
    expect(manifest.dependencies["@pulumi/pulumi"]).toBeUndefined();
});

test("the TypeScript example, outside the repository, installs the tarball, type-checks, and previews", () => {
    const program = path.join(work, "typescript");
    fs.cpSync(path.join(projectDir, "examples", "typescript"), program, { recursive: true });
    // The example pins what this checkout locks: one @pulumi/pulumi, the package's peer.
    const manifest = JSON.parse(fs.readFileSync(path.join(program, "package.json"), "utf8"));
    const lock = JSON.parse(fs.readFileSync(path.join(projectDir, "package-lock.json"), "utf8")).packages;
    const locked = (name: string) => lock[`node_modules/${name}`].version as string;
    expect(manifest.dependencies).toEqual({
        "@pulumi/pulumi": locked("@pulumi/pulumi"),
        "authenticated-registry": `file:${path.basename(tarball)}`,
    });
    expect(manifest.devDependencies).toEqual({
        "@types/node": locked("@types/node"),
        "ts-node": locked("ts-node"),
        typescript: locked("typescript"),
    });
    fs.copyFileSync(tarball, path.join(program, path.basename(tarball)));
    ok("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: program });
    ok("npx", ["tsc", "--noEmit"], { cwd: program });
    // A single @pulumi/pulumi: the package brings none of its own.
    expect(fs.existsSync(path.join(program, "node_modules", "authenticated-registry", "node_modules", "@pulumi", "pulumi"))).toBe(false);

    const env = {
        PULUMI_BACKEND_URL: `file://${work}`,
        PULUMI_CONFIG_PASSPHRASE: "consumer",
        ...offlinePulumiEnv,
        // A user's program is type-checked as Pulumi does by default, not transpiled the way
        // scripts/env.sh runs this project's own stack program.
        PULUMI_NODEJS_TRANSPILE_ONLY: "",
    };
    ok("pulumi", ["stack", "init", "test", "--non-interactive"], { cwd: program, env });
    const preview = exec("pulumi", ["preview", "--non-interactive", "--stack", "test"], { cwd: program, env });
    expect({ status: preview.status, output: preview.status === 0 ? "" : preview.stdout + preview.stderr }).toEqual({
        status: 0,
        output: "",
    });
    expect(preview.stdout).toMatch(/\+ +authenticated-registry:index:AuthenticatedRegistry +shared +create/);
    expect(preview.stdout).toMatch(/\+ +docker:index:Container +shared-nginx-container +create/);
    expect(preview.stdout).toMatch(/\+ +docker:index:Container +shared-guard-container +create/);
    expect(preview.stdout).toMatch(/\+ +docker:index:Container +tokens-token-container +create/);
    expect(preview.stdout).toMatch(/\+ +docker:index:Container +shared-nginx-files-writer +create/);
    // 19 resources for the basic registry besides its users' (2 of them the guard's image and
    // container), 21 for the token one (4 of them the token service's image, signing key,
    // certificate and container), a generated password and a salt for each of the three users
    // in each, and the stack.
    expect(preview.stdout).toMatch(/\+ 53 to create/);
    ok("pulumi", ["stack", "rm", "test", "--yes", "--force", "--non-interactive"], { cwd: program, env });
});
