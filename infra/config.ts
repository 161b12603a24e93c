/**
 * The stack's configuration schema, parsed and checked before any resource exists. Each
 * refusal names the config key (`authenticated-registry:port`, `...:users[1].username`) and the
 * accepted form, so a bad `Pulumi.<stack>.yaml` fails `pulumi preview` with nothing created.
 */
import { checkRuntimeChoice } from "../components/authenticatedRegistry";
import { registryUserKeys, validateUserAccess } from "../components/access";
import { validateAuth } from "../components/auth";
import { validateLoginThrottle, validateWriteHoldSeconds } from "../components/guard";
import { validateImmutableTags } from "../components/immutableTags";
import { validateRetention } from "../components/retention";
import { validateMirrors } from "../components/mirrors";
import { validateNotifications } from "../components/notifications";
import {
    AccessGrant,
    AuthenticatedRegistryArgs,
    defaults,
    InvalidArgumentError,
    RegistryArgs,
    RegistryUser,
    TlsSettings,
    TlsMode,
} from "../components/index";
import { auditLogDefault } from "../components/defaults";
import { defaultRuntime, registryRuntimes } from "../components/runtimes/index";
import { validateStorage } from "../components/storage";
import { checkKnownKeys } from "../components/validation";

/** The config namespace: the project name in Pulumi.yaml. */
export const configNamespace = "authenticated-registry";

type Kind =
    | "string"
    | "integer"
    | "boolean"
    | "stringList"
    | "users"
    | "tls"
    | "auth"
    | "storage"
    | "runtimeSettings"
    | "loginThrottle"
    | "immutableTags"
    | "retention"
    | "notifications"
    | "mirrors"
    | "moved";

/** A config key: its type, whether it may be left out, and what it is. */
interface ConfigKey {
    readonly kind: Kind;
    readonly required?: boolean;
    readonly description: string;
}

/** The arguments every runtime shares, one key each: the type makes the list whole. */
const sharedKeys: Readonly<Record<keyof RegistryArgs, ConfigKey>> = {
    domain: { kind: "string", required: true, description: "host name clients use" },
    port: { kind: "integer", description: `published HTTPS port (default ${defaults.port})` },
    users: { kind: "users", required: true, description: "list of {username, password?, access?, catalog?}" },
    bcryptCost: {
        kind: "integer",
        description: `bcrypt cost, 4 to 31 (default ${defaults.bcryptCost} in basic mode, ${defaults.tokenBcryptCost} in token mode)`,
    },
    auth: { kind: "auth", description: `authentication mode and token settings (default {mode: ${defaults.auth.mode}})` },
    tls: { kind: "tls", description: `TLS mode and material (default ${defaults.tls.mode})` },
    nginxImage: { kind: "string", description: `nginx image reference (default ${defaults.nginxImage})` },
    registryImage: { kind: "string", description: `registry image reference (default ${defaults.registryImage})` },
    storage: {
        kind: "storage",
        description:
            "where images are kept: {kind: filesystem} (default) or {kind: s3, bucket, region?, endpoint?, accessKey, secretKey, rootDirectory?, network?}",
    },
    dataVolumeName: { kind: "string", description: "Docker volume holding the images" },
    deleteEnabled: { kind: "boolean", description: "turn on the registry's delete API (default: on when a user has a delete grant)" },
    deleteDataOnDestroy: { kind: "boolean", description: `delete the data volume on destroy (default ${defaults.deleteDataOnDestroy})` },
    loginThrottle: {
        kind: "loginThrottle",
        description: `failed-login limits: {enabled?, maxFailures?, maxFailuresPerAddress?, windowSeconds?, cooldownSeconds?, maxCooldownSeconds?} (default on: ${defaults.loginThrottle.maxFailures} per user and address per ${defaults.loginThrottle.windowSeconds} s)`,
    },
    writeHoldSeconds: {
        kind: "integer",
        description: `how long a write waits during garbage collection (default ${defaults.writeHoldSeconds})`,
    },
    guardImage: { kind: "string", description: `basic mode's guard image, Node.js (default ${defaults.guardImage})` },
    immutableTags: { kind: "immutableTags", description: "tags that never change once pushed: list of {repositories, tags}" },
    notifications: { kind: "notifications", description: "webhooks: list of {name, url, headers?, events?}" },
    auditLog: {
        kind: "boolean",
        description: `write the audit trail: a JSON line per content request and login (default ${auditLogDefault})`,
    },
    mirrors: { kind: "mirrors", description: "pull-through mirrors: list of {name, remoteUrl, username?, password? (secret), ttl?}" },
    retention: {
        kind: "retention",
        description:
            "tag retention, applied by npm run retention: list of {repositories, keepNewest?, maxAgeDays?, keepTags?, deleteUntagged?}",
    },
};

/** Every key the stack reads, with its type and whether it may be left out. */
export const configSchema: Readonly<Record<string, ConfigKey>> = {
    ...sharedKeys,
    runtime: {
        kind: "string",
        description: `where the registry runs: ${Object.values(registryRuntimes)
            .map((runtime) => `${runtime.kind} (${runtime.description})`)
            .join(" or ")}; default container`,
    },
    ...runtimeKeys(),
};

/**
 * Each runtime's settings key (`container`, `swarm`), and the keys of its settings that 0.1 read
 * at the top level, which are still read there.
 */
function runtimeKeys(): Record<string, ConfigKey> {
    const keys: Record<string, ConfigKey> = {};
    for (const runtime of Object.values(registryRuntimes)) {
        keys[runtime.kind] = {
            kind: "runtimeSettings",
            description: `the ${runtime.kind} runtime's settings: {${runtime.settingsKeys.map((key) => `${key}?`).join(", ")}}`,
        };
        for (const key of runtime.movedConfigKeys ?? []) {
            keys[key] = { kind: "moved", description: `read as ${runtime.kind}.${key}, where it belongs` };
        }
    }
    return keys;
}

/** The runtime whose settings a top-level key of 0.1 now is, by key. */
const movedKeyRuntimes: ReadonlyMap<string, string> = new Map(
    Object.values(registryRuntimes).flatMap((runtime) => (runtime.movedConfigKeys ?? []).map((key) => [key, runtime.kind] as const)),
);

const tlsKeys: Readonly<Record<keyof TlsSettings, "string" | "integer" | "stringList">> = {
    mode: "string",
    dnsNames: "stringList",
    ipAddresses: "stringList",
    validityHours: "integer",
    caValidityHours: "integer",
    earlyRenewalHours: "integer",
    certificatePem: "string",
    privateKeyPem: "string",
    caCertificatePem: "string",
};

/** Stack settings, plain; the stack program marks passwords and keys secret. */
export type StackSettings = AuthenticatedRegistryArgs & {
    readonly users: (Omit<RegistryUser, "password"> & { password?: string })[];
    readonly tls?: TlsSettings & { certificatePem?: string; privateKeyPem?: string; caCertificatePem?: string };
};

/**
 * Parses the stack's configuration, as `pulumi.runtime.allConfig()` gives it: keys
 * `namespace:key`, values strings (objects and lists as JSON). Keys of other namespaces
 * (providers' `docker:host`, say) are left alone. `notices` says what the stack should change,
 * such as a key 0.1 read at the top level that now belongs to a runtime's settings.
 */
export function parseStackConfig(all: Record<string, string>, namespace = configNamespace): StackSettings & { notices?: string[] } {
    const values: Record<string, unknown> = {};
    const moved: Record<string, Record<string, unknown>> = {};
    for (const [fullKey, raw] of Object.entries(all)) {
        const [ns, key] = splitKey(fullKey);
        if (ns !== namespace) {
            continue;
        }
        const spec = configSchema[key];
        const field = `${namespace}:${key}`;
        if (!spec) {
            throw new InvalidArgumentError(field, `is not a known setting; expected one of ${Object.keys(configSchema).join(", ")}`);
        }
        if (spec.kind === "moved") {
            const runtime = movedKeyRuntimes.get(key)!;
            moved[runtime] = { ...moved[runtime], [key]: scalar(raw) };
        } else {
            values[key] = parseValue(field, spec.kind, raw);
        }
    }
    for (const [key, spec] of Object.entries(configSchema)) {
        if (spec.required && values[key] === undefined) {
            throw new InvalidArgumentError(
                `${namespace}:${key}`,
                `is required (${spec.description}); set it with \`pulumi config set ${key} ...\``,
            );
        }
    }
    if (values.users !== undefined) {
        validateUserAccess(`${namespace}:users`, values.users as RegistryUser[]);
    }
    if (values.writeHoldSeconds !== undefined) {
        validateWriteHoldSeconds(`${namespace}:writeHoldSeconds`, values.writeHoldSeconds);
    }
    const notices = moveToRuntimes(values, moved, namespace);
    checkRuntimeChoice(values, `${namespace}:`);
    return { ...(values as unknown as StackSettings), ...(notices.length === 0 ? {} : { notices }) };
}

/**
 * Puts the top-level keys of 0.1 into their runtime's settings, each checked there but named as
 * written; a key set in both places is refused. Returns what the stack should change.
 */
function moveToRuntimes(values: Record<string, unknown>, moved: Record<string, Record<string, unknown>>, namespace: string): string[] {
    const notices: string[] = [];
    for (const [kind, keys] of Object.entries(moved)) {
        const nested = (values[kind] ?? {}) as Record<string, unknown>;
        for (const key of Object.keys(keys)) {
            if ((values.runtime ?? defaultRuntime) !== kind) {
                throw new InvalidArgumentError(
                    `${namespace}:${key}`,
                    `applies to runtime ${kind} only; remove it, or set runtime: ${kind}`,
                );
            }
            if (nested[key] !== undefined) {
                throw new InvalidArgumentError(`${namespace}:${key}`, `is set here and as ${kind}.${key}; keep ${kind}.${key} only`);
            }
            try {
                registryRuntimes[kind as keyof typeof registryRuntimes].checkSettings(kind, { [key]: keys[key] });
            } catch (err) {
                throw err instanceof InvalidArgumentError
                    ? new InvalidArgumentError(`${namespace}:${err.field.slice(kind.length + 1)}`, err.detail)
                    : err;
            }
            notices.push(
                `${namespace}:${key} is read as ${namespace}:${kind}.${key}; move it there (\`pulumi config set --path ${kind}.${key} ...\`)`,
            );
        }
        values[kind] = { ...nested, ...keys };
    }
    return notices;
}

/** A plain config value as YAML would type it: a whole number, a boolean, or the string. */
function scalar(raw: string): unknown {
    if (/^-?[0-9]+$/.test(raw)) return Number(raw);
    if (raw === "true" || raw === "false") return raw === "true";
    return raw;
}

/** A runtime's settings key: an object its runtime checks, naming the config key. */
function runtimeSettings(field: string, kind: string, value: unknown): Record<string, unknown> {
    registryRuntimes[kind as keyof typeof registryRuntimes].checkSettings(field, value);
    return value as Record<string, unknown>;
}

function splitKey(fullKey: string): [string, string] {
    const i = fullKey.indexOf(":");
    return i < 0 ? ["", fullKey] : [fullKey.slice(0, i), fullKey.slice(i + 1)];
}

function parseValue(field: string, kind: Kind, raw: string): unknown {
    switch (kind) {
        case "string":
            return raw;
        case "integer":
            return integer(field, raw);
        case "boolean":
            if (raw !== "true" && raw !== "false") {
                throw new InvalidArgumentError(field, `${JSON.stringify(raw)} is not a boolean; expected true or false`);
            }
            return raw === "true";
        case "stringList":
            return stringList(field, json(field, raw, "a list of strings"));
        case "users":
            return users(field, json(field, raw, "a list of {username, password?} objects"));
        case "tls":
            return tlsSettings(field, json(field, raw, "an object such as {mode: generated}"));
        case "storage": {
            const value = json(field, raw, "an object such as {kind: s3, bucket: registry, ...}");
            validateStorage(field, value);
            return value;
        }
        case "runtimeSettings":
            return runtimeSettings(field, splitKey(field)[1], json(field, raw, "an object such as {publishMode: host}"));
        case "moved":
            return scalar(raw);
        case "auth": {
            const value = json(field, raw, "an object such as {mode: token}");
            // Checked here to name the config key; the component fills in the defaults.
            validateAuth(field, value);
            return value;
        }
        case "notifications":
            return validateNotifications(field, json(field, raw, "a list such as [{name: ci, url: https://ci.example.com/events}]"));
        case "mirrors": {
            const value = json(field, raw, "a list such as [{name: hub, remoteUrl: https://registry-1.docker.io}]");
            // Checked here to name the config key; the component checks it again and marks the password secret.
            validateMirrors(field, value);
            return value;
        }
        case "retention":
            return validateRetention(field, json(field, raw, "a list such as [{repositories: [team-a/**], keepNewest: 10}]"));
        case "immutableTags":
            return validateImmutableTags(field, json(field, raw, "a list such as [{repositories: [prod/**], tags: [v*]}]"));
        case "loginThrottle": {
            const value = json(field, raw, "an object such as {maxFailures: 10}");
            validateLoginThrottle(field, value);
            return value;
        }
    }
}

function json(field: string, raw: string, expected: string): unknown {
    try {
        return JSON.parse(raw);
    } catch {
        throw new InvalidArgumentError(field, `is not structured config; expected ${expected}`);
    }
}

function integer(field: string, raw: unknown): number {
    const text = String(raw);
    if (!/^-?[0-9]+$/.test(text)) {
        throw new InvalidArgumentError(field, `${JSON.stringify(text)} is not an integer; expected a whole number`);
    }
    return Number(text);
}

function stringList(field: string, value: unknown): string[] {
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
        throw new InvalidArgumentError(field, "is not a list of strings; expected e.g. [localhost, registry.internal]");
    }
    return value;
}

function users(field: string, value: unknown): RegistryUser[] {
    if (!Array.isArray(value)) {
        throw new InvalidArgumentError(field, "is not a list; expected a list of {username, password?} objects");
    }
    return value.map((entry, i) => {
        const at = `${field}[${i}]`;
        const { username, password, access, catalog } = checkKnownKeys(
            at,
            entry,
            registryUserKeys,
            "a known user setting",
            "{username: NAME, password?: SECRET}",
        );
        if (typeof username !== "string") {
            throw new InvalidArgumentError(`${at}.username`, "is missing or not a string; expected the user's login name");
        }
        if (password !== undefined && typeof password !== "string") {
            throw new InvalidArgumentError(
                `${at}.password`,
                "is not a string; set it with `pulumi config set --secret --path 'users[N].password'`",
            );
        }
        // access and catalog are checked, naming the field, by the component's validateUserAccess.
        return {
            username,
            ...(password === undefined ? {} : { password }),
            ...(access === undefined ? {} : { access: access as AccessGrant[] }),
            ...(catalog === undefined ? {} : { catalog: catalog as boolean }),
        };
    });
}

function tlsSettings(field: string, value: unknown): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new InvalidArgumentError(field, "is not an object; expected e.g. {mode: generated, ipAddresses: [127.0.0.1]}");
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(checkKnownKeys(field, value, Object.keys(tlsKeys), "a known TLS setting", "{mode: generated}"))) {
        const kind = tlsKeys[key as keyof typeof tlsKeys];
        const at = `${field}.${key}`;
        if (kind === "integer") {
            out[key] = integer(at, v);
        } else if (kind === "stringList") {
            out[key] = stringList(at, v);
        } else if (typeof v !== "string") {
            throw new InvalidArgumentError(at, "is not a string");
        } else {
            out[key] = v;
        }
    }
    if (out.mode !== undefined && !Object.values(TlsMode).includes(out.mode as TlsMode)) {
        throw new InvalidArgumentError(`${field}.mode`, `${JSON.stringify(out.mode)} is not a TLS mode; expected generated or supplied`);
    }
    return out;
}
