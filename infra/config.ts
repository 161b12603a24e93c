/**
 * The stack's configuration schema, parsed and checked before any resource exists. Each
 * refusal names the config key (`authenticated-registry:port`, `...:users[1].username`) and the
 * accepted form, so a bad `Pulumi.<stack>.yaml` fails `pulumi preview` with nothing created.
 */
import {
    defaults,
    AuthenticatedRegistryArgs,
    AccessGrant,
    InvalidArgumentError,
    RegistryUser,
    TlsMaterialArgs,
    TlsMode,
    validateRestartPolicy,
    validateAuth,
    validateLoginThrottle,
    validateWriteHoldSeconds,
    validateStorage,
    validateUserAccess,
    SwarmRegistryArgs,
    defaultSwarmReplicas,
    validateSwarmReplicas,
    validateConstraints,
    validatePublishMode,
    validateImageReference,
    validateOneOf,
} from "../components";

/** The config namespace: the project name in Pulumi.yaml. */
export const configNamespace = "authenticated-registry";

type Kind = "string" | "integer" | "boolean" | "stringList" | "users" | "tls" | "auth" | "storage" | "swarm" | "loginThrottle";

/** Every key the stack reads, with its type and whether it may be left out. */
export const configSchema: Record<string, { kind: Kind; required?: boolean; description: string }> = {
    domain: { kind: "string", required: true, description: "host name clients use" },
    port: { kind: "integer", description: `published HTTPS port (default ${defaults.port})` },
    bindAddress: { kind: "string", description: `host address of the HTTPS port (default ${defaults.bindAddress})` },
    users: { kind: "users", required: true, description: "list of {username, password?, access?, catalog?}" },
    bcryptCost: {
        kind: "integer",
        description: `bcrypt cost, 4 to 31 (default ${defaults.bcryptCost} in basic mode, ${defaults.tokenBcryptCost} in token mode)`,
    },
    auth: { kind: "auth", description: `authentication mode and token settings (default {mode: ${defaults.auth.mode}})` },
    tls: { kind: "tls", description: `TLS mode and material (default ${defaults.tls.mode})` },
    nginxImage: { kind: "string", description: `nginx image reference (default ${defaults.nginxImage})` },
    registryImage: { kind: "string", description: `registry image reference (default ${defaults.registryImage})` },
    directAccessPort: { kind: "integer", description: "unauthenticated loopback port of the registry (default off)" },
    directAccessAddress: { kind: "string", description: `loopback address of directAccessPort (default ${defaults.directAccessAddress})` },
    storage: {
        kind: "storage",
        description:
            "where images are kept: {kind: filesystem} (default) or {kind: s3, bucket, region?, endpoint?, accessKey, secretKey, rootDirectory?, network?}",
    },
    metricsPort: { kind: "integer", description: "loopback port of the registry's and nginx's metrics (default off)" },
    metricsAddress: { kind: "string", description: `loopback address of metricsPort (default ${defaults.metricsAddress})` },
    dataVolumeName: { kind: "string", description: "Docker volume holding the images" },
    deleteEnabled: { kind: "boolean", description: "turn on the registry's delete API (default: on when a user has a delete grant)" },
    deleteDataOnDestroy: { kind: "boolean", description: `delete the data volume on destroy (default ${defaults.deleteDataOnDestroy})` },
    restart: { kind: "string", description: `container restart policy (default ${defaults.restart})` },
    loginThrottle: {
        kind: "loginThrottle",
        description: `failed-login limits: {enabled?, maxFailures?, maxFailuresPerAddress?, windowSeconds?, cooldownSeconds?, maxCooldownSeconds?} (default on: ${defaults.loginThrottle.maxFailures} per user and address per ${defaults.loginThrottle.windowSeconds} s)`,
    },
    writeHoldSeconds: {
        kind: "integer",
        description: `how long a write waits during garbage collection (default ${defaults.writeHoldSeconds})`,
    },
    guardImage: { kind: "string", description: `basic mode's guard image, Node.js (default ${defaults.guardImage})` },
    runtime: { kind: "string", description: "where the registry runs: container (one Docker host, the default) or swarm" },
    swarm: {
        kind: "swarm",
        description:
            "the swarm runtime's settings: {replicas?: {proxy?, registry?, tokenService?}, constraints?, publishMode?, edgeImage?}",
    },
};

/** Where the stack's registry runs. */
export const Runtime = { Container: "container", Swarm: "swarm" } as const;
export type Runtime = (typeof Runtime)[keyof typeof Runtime];

/** Settings of the container runtime only, refused on a swarm. */
const containerOnlyKeys = ["bindAddress", "directAccessPort", "directAccessAddress", "metricsPort", "metricsAddress", "restart"] as const;

/** The `swarm` key's settings. */
export type SwarmStackSettings = Pick<SwarmRegistryArgs, "replicas" | "constraints" | "publishMode" | "edgeImage">;

const tlsKeys: Record<keyof Omit<TlsMaterialArgs, "domain">, "string" | "integer" | "stringList"> = {
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
    readonly runtime?: Runtime;
    readonly swarm?: SwarmStackSettings;
    readonly users: (Omit<RegistryUser, "password"> & { password?: string })[];
    readonly tls?: Omit<TlsMaterialArgs, "domain"> & { certificatePem?: string; privateKeyPem?: string; caCertificatePem?: string };
};

/**
 * Parses the stack's configuration, as `pulumi.runtime.allConfig()` gives it: keys
 * `namespace:key`, values strings (objects and lists as JSON). Keys of other namespaces
 * (providers' `docker:host`, say) are left alone.
 */
export function parseStackConfig(all: Record<string, string>, namespace = configNamespace): StackSettings {
    const values: Record<string, unknown> = {};
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
        values[key] = parseValue(field, spec.kind, raw);
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
    if (values.restart !== undefined) {
        validateRestartPolicy(`${namespace}:restart`, values.restart);
    }
    if (values.writeHoldSeconds !== undefined) {
        validateWriteHoldSeconds(`${namespace}:writeHoldSeconds`, values.writeHoldSeconds);
    }
    checkRuntime(values, namespace);
    return values as unknown as StackSettings;
}

/** The runtime is one of two, and each refuses the other's settings. */
function checkRuntime(values: Record<string, unknown>, namespace: string): void {
    const runtime = validateOneOf(`${namespace}:runtime`, values.runtime ?? Runtime.Container, Runtime, "a runtime");
    if (runtime === Runtime.Container && values.swarm !== undefined) {
        throw new InvalidArgumentError(`${namespace}:swarm`, "applies to runtime swarm only; set runtime: swarm or remove it");
    }
    if (runtime === Runtime.Swarm) {
        const containerOnly = containerOnlyKeys.find((key) => values[key] !== undefined);
        if (containerOnly !== undefined) {
            throw new InvalidArgumentError(
                `${namespace}:${containerOnly}`,
                "applies to runtime container only; remove it, or set runtime: container",
            );
        }
    }
}

/** The `swarm` key: known settings only, each checked as the component checks it. */
function swarmSettings(field: string, value: unknown): SwarmStackSettings {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new InvalidArgumentError(field, "is not an object; expected e.g. {replicas: {proxy: 2, registry: 2}, publishMode: host}");
    }
    const known = ["replicas", "constraints", "publishMode", "edgeImage"];
    const given = value as Record<string, unknown>;
    const unknown = Object.keys(given).find((key) => !known.includes(key));
    if (unknown !== undefined) {
        throw new InvalidArgumentError(`${field}.${unknown}`, `is not a known swarm setting; expected one of ${known.join(", ")}`);
    }
    validateSwarmReplicas(`${field}.replicas`, given.replicas, defaultSwarmReplicas);
    validateConstraints(`${field}.constraints`, given.constraints);
    if (given.publishMode !== undefined) validatePublishMode(`${field}.publishMode`, given.publishMode);
    if (given.edgeImage !== undefined) validateImageReference(`${field}.edgeImage`, given.edgeImage);
    return given as SwarmStackSettings;
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
        case "swarm":
            return swarmSettings(field, json(field, raw, "an object such as {publishMode: host}"));
        case "auth": {
            const value = json(field, raw, "an object such as {mode: token}");
            // Checked here to name the config key; the component fills in the defaults.
            validateAuth(field, value);
            return value;
        }
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
        if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
            throw new InvalidArgumentError(at, "is not an object; expected {username: NAME, password?: SECRET}");
        }
        for (const key of Object.keys(entry)) {
            if (!["username", "password", "access", "catalog"].includes(key)) {
                throw new InvalidArgumentError(
                    `${at}.${key}`,
                    "is not a known user setting; expected username, password, access or catalog",
                );
            }
        }
        const { username, password, access, catalog } = entry as Record<string, unknown>;
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
    for (const [key, v] of Object.entries(value)) {
        const kind = tlsKeys[key as keyof typeof tlsKeys];
        const at = `${field}.${key}`;
        if (!kind) {
            throw new InvalidArgumentError(at, `is not a known TLS setting; expected one of ${Object.keys(tlsKeys).join(", ")}`);
        }
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
