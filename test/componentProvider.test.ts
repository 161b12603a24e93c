/**
 * The package as a component provider for every Pulumi language (provider/): the committed schema
 * is the code's, credentials are secret in it, the versions agree, and the provider constructs
 * exactly the components the schema names.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { defaults } from "../components/defaults";
import { packageName } from "../components/inputs";
import { inferSchema, RegistrySchema, renderSchema, schemaPath } from "../provider/packageSchema";
import { RegistryProvider } from "../provider/provider";
import { installMocks } from "./mocks";

const root = path.join(__dirname, "..");
const committedText = fs.readFileSync(schemaPath, "utf8");
const committed = JSON.parse(committedText) as RegistrySchema;
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), "utf8"));

/** Every property marked secret, as `TOKEN.group.property`. */
function secretPaths(schema: RegistrySchema): string[] {
    const paths: string[] = [];
    for (const [token, resource] of Object.entries(schema.resources)) {
        for (const group of ["inputProperties", "properties"] as const) {
            for (const [name, spec] of Object.entries(resource[group] ?? {})) {
                if (spec.secret) paths.push(`${token}.${group}.${name}`);
            }
        }
    }
    for (const [token, type] of Object.entries(schema.types)) {
        for (const [name, spec] of Object.entries(type.properties ?? {})) {
            if (spec.secret) paths.push(`${token}.${name}`);
        }
    }
    return paths.sort();
}

describe("the committed schema", () => {
    it("is the schema of the code: run `npm run schema` and commit provider/schema.json when this fails", () => {
        expect(renderSchema(inferSchema())).toBe(committedText);
    });

    it("serves the registry and the parts users compose on their own, with stable tokens", () => {
        expect(Object.keys(committed.resources).sort()).toEqual([
            "authenticated-registry:index:AuthenticatedRegistry",
            "authenticated-registry:index:HtpasswdCredentials",
            "authenticated-registry:index:TlsMaterial",
        ]);
        expect(committed.name).toBe(packageName);
    });

    it("marks every credential secret, inputs and outputs, and nothing else", () => {
        const token = (name: string) => `${packageName}:index:${name}`;
        expect(secretPaths(committed)).toEqual(
            [
                `${token("AuthenticatedRegistry")}.properties.htpasswd`,
                `${token("AuthenticatedRegistry")}.properties.passwords`,
                `${token("HtpasswdCredentials")}.properties.htpasswd`,
                `${token("HtpasswdCredentials")}.properties.passwordHashes`,
                `${token("HtpasswdCredentials")}.properties.passwords`,
                `${token("HtpasswdUser")}.password`,
                `${token("NotificationEndpoint")}.headers`,
                `${token("RegistryMirror")}.password`,
                `${token("RegistryStorage")}.accessKey`,
                `${token("RegistryStorage")}.secretKey`,
                `${token("RegistryUser")}.password`,
                `${token("TlsMaterial")}.inputProperties.privateKeyPem`,
                `${token("TlsMaterial")}.properties.privateKeyPem`,
                `${token("TlsSettings")}.privateKeyPem`,
            ].sort(),
        );
    });

    it("types the grants, the storage and the TLS settings, never as Any", () => {
        expect(committedText).not.toContain("pulumi.json#/Any");
        const grant = committed.types[`${packageName}:index:AccessGrant`].properties ?? {};
        expect(Object.keys(grant).sort()).toEqual(["actions", "repositories"]);
        const storage = committed.types[`${packageName}:index:RegistryStorage`].properties ?? {};
        expect(Object.keys(storage).sort()).toEqual(
            ["accessKey", "bucket", "endpoint", "kind", "network", "redirect", "region", "rootDirectory", "secretKey"].sort(),
        );
    });

    it("carries the package's version, as the provider's package.json does", () => {
        const version = readJson("package.json").version;
        expect(committed.version).toBe(version);
        expect(readJson("provider/package.json")).toMatchObject({ name: packageName, version, main: "index.js" });
    });
});

describe("the YAML example", () => {
    const example = fs.readFileSync(path.join(root, "examples", "yaml", "Pulumi.yaml"), "utf8");

    it("pins the images the package pins by default", () => {
        for (const key of ["nginxImage", "registryImage", "guardImage"] as const) {
            expect(example).toMatch(new RegExp(`  ${key}:\\n    type: string\\n    default: ${defaults[key].replace(/[.]/g, "\\.")}\\n`));
        }
    });

    it("uses the package from this checkout's provider folder", () => {
        expect(example).toMatch(/^packages:\n {2}authenticated-registry: \.\.\/\.\.\/provider$/m);
    });
});

describe("RegistryProvider", () => {
    const provider = new RegistryProvider(committed, committedText);

    it("serves the committed schema at the package's version", async () => {
        expect(await provider.getSchema()).toBe(committedText);
        expect(provider.version).toBe(committed.version);
    });

    it("refuses a type the package does not serve, naming the ones it does", async () => {
        await expect(provider.construct("x", `${packageName}:index:RegistryServer`, {}, {})).rejects.toThrow(
            `${packageName}:index:RegistryServer is not a component of this package; it serves ${packageName}:index:AuthenticatedRegistry, ` +
                `${packageName}:index:TlsMaterial, ${packageName}:index:HtpasswdCredentials`,
        );
    });

    describe("constructing", () => {
        beforeAll(installMocks);

        it("returns the outputs the schema lists, as the component set them", async () => {
            const inputs = { users: [{ username: "ci", password: pulumi.secret("a password of ours") }], bcryptCost: 4 };
            const result = await provider.construct("creds", `${packageName}:index:HtpasswdCredentials`, inputs, {});
            expect(Object.keys(result.state).sort()).toEqual(["htpasswd", "passwordHashes", "passwords", "usernames"]);
            expect(result.state.usernames).toEqual(["ci"]);
            const passwords = result.state.passwords as pulumi.Output<Record<string, string>>;
            expect(await new Promise((resolve) => passwords.apply(resolve))).toEqual({ ci: "a password of ours" });
            expect(await passwords.isSecret).toBe(true);
        });

        it("refuses bad input with the component's own message, naming the field", async () => {
            const inputs = { users: [{ username: "c:i" }] };
            await expect(provider.construct("creds", `${packageName}:index:HtpasswdCredentials`, inputs, {})).rejects.toThrow(
                /users\[0\]\.username: "c:i" /,
            );
        });
    });
});
