/**
 * The package's schema, the contract every Pulumi language's SDK is generated from. It is
 * inferred from the served components' TypeScript by Pulumi's own analyser (the one
 * `componentProviderHost` runs), then completed where the analyser cannot speak: which properties
 * hold credentials and are secret. `schema.json` is this module's output, committed; the provider
 * serves that file, and a test fails when the code's schema differs from it (`npm run schema`
 * writes it anew).
 */
import * as fs from "fs";
import * as path from "path";
import { Analyzer } from "@pulumi/pulumi/provider/experimental/analyzer";
import { generateSchema } from "@pulumi/pulumi/provider/experimental/schema";
import { packageName } from "../components/inputs";
import * as served from "./components";

/** A property's part of the schema that this module reads or writes. */
interface PropertySpec {
    secret?: boolean;
    /** The analyser's own mark, which the schema format expresses by `required` instead. */
    optional?: boolean;
}
/** An object type's or a component's properties. */
type Properties = Record<string, PropertySpec>;
/** The parts of a schema (a Pulumi PackageSpec) that this module reads or writes. */
export interface RegistrySchema {
    readonly name: string;
    readonly version: string;
    config?: object;
    dependencies?: unknown[];
    readonly resources: Record<
        string,
        { inputProperties?: Properties; properties?: Properties; required?: string[]; requiredInputs?: string[] }
    >;
    readonly types: Record<string, { properties?: Properties; required?: string[] }>;
    /** Each language's SDK generator settings, by language. */
    language?: Record<string, Record<string, unknown>>;
}

/** Where the committed schema is. */
export const schemaPath = path.join(__dirname, "schema.json");

/**
 * The properties that hold a credential, by type or component name: secret in every language, so
 * an SDK encrypts them in state and shows them as `[secret]`. A component's name covers its
 * inputs and its outputs.
 */
export const secretProperties: Readonly<Record<string, readonly string[]>> = {
    HtpasswdUser: ["password"],
    RegistryUser: ["password"],
    RegistryStorage: ["accessKey", "secretKey"],
    NotificationEndpoint: ["headers"],
    RegistryMirror: ["password"],
    TlsSettings: ["privateKeyPem"],
    AuthenticatedRegistry: ["htpasswd", "passwords"],
    HtpasswdCredentials: ["htpasswd", "passwords", "passwordHashes"],
    TlsMaterial: ["privateKeyPem"],
};

/** The schema token of a type or component of this package. */
const tokenOf = (name: string) => `${packageName}:index:${name}`;

/** Marks `secretProperties` secret in `schema`; a name or property that is not there is refused. */
function markSecrets(schema: RegistrySchema): void {
    for (const [owner, names] of Object.entries(secretProperties)) {
        const token = tokenOf(owner);
        const resource = schema.resources[token];
        const groups = resource === undefined ? [schema.types[token]?.properties] : [resource.inputProperties, resource.properties];
        for (const name of names) {
            const specs = groups.map((group) => group?.[name]).filter((spec): spec is PropertySpec => spec !== undefined);
            if (specs.length === 0) throw new Error(`secretProperties: ${owner} has no property ${name} in the schema`);
            for (const spec of specs) spec.secret = true;
        }
    }
}

/**
 * Settings of the Go SDK generator, beside the analyser's. `generateExtraInputTypes`: the input
 * types (`XArgs`, `XInput`, `XArray`, ...) of every object type. Without it, the Go generator of
 * pulumi 3.248 leaves `HtpasswdUserArgs` out while `HtpasswdCredentialsArgs.Users` names it, and
 * the Go SDK does not compile (scripts/sdks.sh builds it): it counts the object type of a plain
 * array as an input only when a plain object property precedes the array, in name order, among
 * the same component's inputs, as `auth` precedes `users` in AuthenticatedRegistry's.
 */
const goSettings = { generateExtraInputTypes: true };

/** The package's version, which the schema carries. */
export const packageVersion: string = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).version;

/**
 * `schema` as the engine reads and prints it (`pulumi package get-schema`): without the analyser's
 * `optional` marks and empty lists, with an empty `config`.
 */
function canonical(schema: RegistrySchema): void {
    const groups = [
        ...Object.values(schema.resources).flatMap((resource) => [resource.inputProperties, resource.properties]),
        ...Object.values(schema.types).map((type) => type.properties),
    ];
    for (const spec of groups.flatMap((group) => Object.values(group ?? {}))) delete spec.optional;
    for (const owner of [...Object.values(schema.resources), ...Object.values(schema.types)] as {
        required?: string[];
        requiredInputs?: string[];
    }[]) {
        if (owner.required?.length === 0) delete owner.required;
        if (owner.requiredInputs?.length === 0) delete owner.requiredInputs;
    }
    if (schema.dependencies?.length === 0) delete schema.dependencies;
    schema.config ??= {};
}

/** The schema of the served components, inferred from their code. */
export function inferSchema(version = packageVersion): RegistrySchema {
    const componentNames = new Set(Object.keys(served));
    // The analyser reads the entry point from a package.json; here it is the served components' module.
    const analyzer = new Analyzer(__dirname, packageName, { main: "components.ts" }, componentNames);
    const { components, typeDefinitions, dependencies } = analyzer.analyze();
    const description = "A private Docker registry only authenticated users can reach, behind an nginx proxy that terminates TLS.";
    const schema = generateSchema(
        packageName,
        version,
        description,
        components,
        typeDefinitions,
        dependencies,
    ) as unknown as RegistrySchema;
    markSecrets(schema);
    canonical(schema);
    schema.language = { ...schema.language, go: { ...schema.language?.go, ...goSettings } };
    return schema;
}

/** `schema` as the committed file holds it. */
export function renderSchema(schema: RegistrySchema): string {
    return `${JSON.stringify(schema, null, 2)}\n`;
}

// `npm run schema`: writes the code's schema into schema.json, to be committed.
if (require.main === module) {
    fs.writeFileSync(schemaPath, renderSchema(inferSchema()));
    console.log(`wrote ${path.relative(process.cwd(), schemaPath)}`);
}
