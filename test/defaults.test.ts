/**
 * The defaults are defined once, in components/defaults.ts. The documentation restates them for
 * readers (the `@default` tags of the public argument types and the README's config table);
 * these tests hold every restatement to the one definition.
 */
import * as fs from "fs";
import * as path from "path";
import { auditLogDefault, defaults, proxyDefaults } from "../components/defaults";
import { configSchema } from "../infra/config";

const root = path.resolve(__dirname, "..");
const componentsDir = path.join(root, "components");

/** Every `@default` tag in the components, their runtimes' settings included, with the field it documents. */
function defaultTags(): { file: string; field: string; text: string }[] {
    const tags: { file: string; field: string; text: string }[] = [];
    const files = fs.readdirSync(componentsDir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    for (const file of files) {
        const source = fs.readFileSync(path.join(componentsDir, file), "utf8");
        for (const m of source.matchAll(/@default (.+)\n(?:\s*\*.*\n)*?\s*\*\/\s*\n\s*readonly (\w+)\??:/g)) {
            tags.push({ file, field: m[2], text: m[1] });
        }
    }
    return tags;
}

/** How a default value is written in documentation: strings quoted, numbers and booleans bare. */
function written(value: string | number | boolean): string {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
}

const documented: Record<string, string | number | boolean> = {
    port: defaults.port,
    bindAddress: defaults.bindAddress,
    directAccessAddress: defaults.directAccessAddress,
    metricsAddress: defaults.metricsAddress,
    region: defaults.s3Region,
    bcryptCost: defaults.bcryptCost,
    restart: defaults.restart,
    nginxImage: defaults.nginxImage,
    registryImage: defaults.registryImage,
    deleteDataOnDestroy: defaults.deleteDataOnDestroy,
    mode: defaults.tls.mode,
    validityHours: defaults.tls.validityHours,
    caValidityHours: defaults.tls.caValidityHours,
    earlyRenewalHours: defaults.tls.earlyRenewalHours,
    resolver: proxyDefaults.resolver,
    tokenLifetimeSeconds: defaults.auth.tokenLifetimeSeconds,
    tokenRequestsPerMinute: defaults.auth.tokenRequestsPerMinute,
    tokenRequestBurst: defaults.auth.tokenRequestBurst,
    tokenServiceImage: defaults.auth.tokenServiceImage,
    edgeImage: defaults.nginxImage,
};
/** Fields whose name means something else in one file: `FILE:field`. */
const documentedIn: Record<string, string | number | boolean> = {
    "auth.ts:mode": defaults.auth.mode,
};
const defaultOf = (t: { file: string; field: string }) => documentedIn[`${t.file}:${t.field}`] ?? documented[t.field];

test("every @default tag of a defaulted argument starts with the value defaults.ts defines", () => {
    const tags = defaultTags().filter((t) => t.field in documented);
    // Each defaulted field is documented somewhere; the count guards against a parser that finds nothing.
    expect(new Set(tags.map((t) => t.field))).toEqual(new Set(Object.keys(documented)));
    // (0.1's per-role components restated several; now only mode (TLS and auth) and bcryptCost are documented twice.)
    expect(tags.length).toBeGreaterThanOrEqual(Object.keys(documented).length + 2);
    const wrong = tags.filter((t) => !t.text.startsWith(written(defaultOf(t))));
    expect(wrong).toEqual([]);
});

test("the README's config table shows the same defaults", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const rows = new Map<string, string>();
    // | `key` | type (pipes escaped as \|) | default | meaning |
    for (const m of readme.matchAll(/^\| `([\w.]+)`(?:, `[\w.]+`)* \| (?:[^|\\]|\\\|)+ \| ([^|]*) \|/gm)) {
        rows.set(m[1], m[2].trim());
    }
    const expected: Record<string, string | number | boolean> = {
        port: defaults.port,
        "container.bindAddress": defaults.bindAddress,
        bcryptCost: defaults.bcryptCost,
        "tls.mode": defaults.tls.mode,
        "tls.validityHours": defaults.tls.validityHours,
        "tls.caValidityHours": defaults.tls.caValidityHours,
        "tls.earlyRenewalHours": defaults.tls.earlyRenewalHours,
        nginxImage: defaults.nginxImage,
        registryImage: defaults.registryImage,
        "container.directAccessAddress": defaults.directAccessAddress,
        "container.metricsAddress": defaults.metricsAddress,
        deleteDataOnDestroy: defaults.deleteDataOnDestroy,
        auditLog: auditLogDefault,
        "container.restart": defaults.restart,
        "swarm.edgeImage": defaults.nginxImage,
    };
    const shown = Object.fromEntries(Object.keys(expected).map((key) => [key, rows.get(key)]));
    expect(shown).toEqual(Object.fromEntries(Object.entries(expected).map(([key, value]) => [key, `\`${value}\``])));
});

test("the stack config schema's descriptions quote the defaults", () => {
    expect(configSchema.port.description).toContain(`(default ${defaults.port})`);
    expect(configSchema.bcryptCost.description).toContain(
        `(default ${defaults.bcryptCost} in basic mode, ${defaults.tokenBcryptCost} in token mode)`,
    );
    expect(configSchema.auth.description).toContain(`(default {mode: ${defaults.auth.mode}})`);
    expect(configSchema.registryImage.description).toContain(`(default ${defaults.registryImage})`);
});
