/**
 * The rules of the `authenticated-registry` policy pack as pure functions of one resource: its
 * type, its inputs and the options the engine shows a policy pack. `policies.ts` wires them to
 * `@pulumi/policy`; here nothing depends on the policy SDK, so every rule is unit-tested with
 * plain objects.
 *
 * How the policy SDK (1.21.0) presents a resource, which these functions rely on:
 * - Inputs arrive as plain JSON. The engine sends secret inputs marked as secret, but the SDK's
 *   `validateResource` path unwraps them (`deserializeProperties(..., proxySecrets=false)`), so a
 *   rule sees secret values in plain text and cannot tell which values were secret.
 * - Inputs that are not known yet (a preview before a dependency exists) are wrapped so that
 *   *reading* them throws the SDK's `UnknownValueError`; the SDK then reports an advisory
 *   "can't run policy ... during preview" instead of running the rule, and the rule runs for real
 *   when `pulumi up` registers the resource with known inputs. The rules therefore read only the
 *   fields they need (e.g. a label's value only once its key matched), so an unrelated unknown
 *   field, such as a container's image ID on a first preview, does not stop them.
 * - Options carry `protect`, `ignoreChanges`, `deleteBeforeReplace`, `aliases`, `customTimeouts`,
 *   `additionalSecretOutputs` and `parent`, but not `retainOnDelete`: neither the engine
 *   (3.248.0, `AnalyzerResourceOptions`) nor the SDK passes it on.
 */
import { defaults, labelKeys, roles } from "../components/defaults";
import { nginxPaths } from "../components/nginxConfig";
import { tokenServiceFiles } from "../components/tokenService/files";
import { runtimeInspections } from "../components/runtimes/inspection";
import { isLoopback, isPinnedImageReference } from "../components/validation";

/** Shared with the components, which put these labels on what they create. */
export { labelKeys, roles };

/** The Pulumi types the rules look at. */
export const resourceTypes = {
    container: "docker:index/container:Container",
    remoteImage: "docker:index/remoteImage:RemoteImage",
    volume: "docker:index/volume:Volume",
    service: "docker:index/service:Service",
    secret: "docker:index/secret:Secret",
    serviceConfig: "docker:index/serviceConfig:ServiceConfig",
} as const;

/** The types that run a role in any runtime: a container on one host, a service on a swarm. */
const processTypes: readonly string[] = runtimeInspections.flatMap((runtime) => runtime.processTypes);
/** The types that carry one file of a role, in the runtimes that keep files apart (a swarm's secrets and configs). */
const fileTypes: readonly string[] = runtimeInspections.flatMap((runtime) => runtime.fileTypes);

/** The TLS versions nginx may offer. */
export const allowedTlsProtocols = ["TLSv1.2", "TLSv1.3"] as const;

/** The bcrypt cost floor when the policy config sets none; the components' default cost. */
export const defaultMinimumBcryptCost: number = defaults.bcryptCost;

/** What a rule sees of a resource; `props` are its inputs, as the policy SDK presents them. */
export interface ResourceView {
    readonly type: string;
    readonly props: Record<string, unknown>;
    readonly opts?: ResourceOptionsView;
}

/** The resource options a policy pack is shown, plus `retainOnDelete` should an engine send it. */
export interface ResourceOptionsView {
    readonly protect?: boolean;
    readonly additionalSecretOutputs?: readonly string[];
    /** Not sent by the 3.248.0 engine nor exposed by @pulumi/policy 1.21.0; read if ever present. */
    readonly retainOnDelete?: boolean;
}

/** A rule's answer: the resource is none of its business, or these are the violations (none = passes). */
export type RuleResult = { readonly notApplicable: string } | { readonly violations: readonly string[] };

const notApplicable = (reason: string): RuleResult => ({ notApplicable: reason });
const checked = (violations: readonly string[]): RuleResult => ({ violations });

/** The value of a docker label (`[{ label, value }]`); reads only the matching entry's value. */
export function labelValue(labels: unknown, key: string): string | undefined {
    if (!Array.isArray(labels)) {
        return undefined;
    }
    for (const entry of labels) {
        if (typeof entry === "object" && entry !== null && entry.label === key) {
            return typeof entry.value === "string" ? entry.value : undefined;
        }
    }
    return undefined;
}

/**
 * The role label of a container or Swarm service of this package, or undefined for anything
 * else: the rules judge the single-host and the swarm runtime alike.
 */
export function containerRole(resource: ResourceView): string | undefined {
    return processTypes.includes(resource.type) ? labelValue(resource.props.labels, labelKeys.role) : undefined;
}

/** The role of a Swarm secret or config of this package, or undefined for anything else. */
function swarmFileRole(resource: ResourceView): string | undefined {
    return fileTypes.includes(resource.type) ? labelValue(resource.props.labels, labelKeys.role) : undefined;
}

/**
 * Whether a resource is judged as the carrier of nginx's files: on one host the files container
 * (role `proxy-files`), which has them as uploads and writes them into the proxy's volume, or a
 * proxy container that has them as uploads itself, as stacks of earlier releases ran it.
 */
function carriesProxyFiles(resource: ResourceView): boolean {
    const role = containerRole(resource);
    return (
        (role === roles.proxy && !readsFilesFromVolume(resource)) ||
        (role === roles.proxyFiles && resource.type === resourceTypes.container)
    );
}

/** A proxy container that mounts a volume at nginx's directory reads the files its files container wrote there. */
function readsFilesFromVolume(resource: ResourceView): boolean {
    const volumes = resource.type === resourceTypes.container ? resource.props.volumes : undefined;
    return (
        Array.isArray(volumes) &&
        volumes.some(
            (v) => typeof v === "object" && v !== null && (v as { containerPath?: unknown }).containerPath === nginxPaths.directory,
        )
    );
}

/** Why a proxy container that reads its files from its volume is not judged by a rule on the files. */
const filesInVolume =
    `the proxy reads its files from the volume at ${nginxPaths.directory}; its files container ` +
    "(label authenticated-registry.role=proxy-files), which has them as uploads, is checked instead";

/** The files a resource carries: a container's uploads, or the one file of a Swarm secret or config. */
function filesOf(resource: ResourceView): Upload[] {
    if (!fileTypes.includes(resource.type)) return uploadsOf(resource.props);
    const file = labelValue(resource.props.labels, labelKeys.file);
    if (file === undefined) return [];
    return [
        {
            file,
            content: () => {
                const data = resource.props.data;
                return typeof data === "string" ? Buffer.from(data, "base64").toString("utf8") : data;
            },
        },
    ];
}

interface Upload {
    readonly file: string;
    /** Reads the content; throws the SDK's UnknownValueError if it is not known yet. */
    content(): unknown;
}

/** The container's uploads by file; reading `file` only, so unknown contents are not touched. */
function uploadsOf(props: Record<string, unknown>): Upload[] {
    const uploads = props.uploads;
    if (!Array.isArray(uploads)) {
        return [];
    }
    return uploads
        .filter((u) => typeof u === "object" && u !== null && typeof u.file === "string")
        .map((u) => ({ file: u.file as string, content: () => u.content }));
}

/** A service's published ports (`endpointSpec.ports`); none when unset. */
function servicePorts(props: Record<string, unknown>): ({ targetPort?: unknown } | null | undefined)[] {
    const endpoint = props.endpointSpec as { ports?: unknown } | undefined;
    return Array.isArray(endpoint?.ports) ? endpoint.ports : [];
}

/** A container's `ports` entries, as the provider takes them; none when unset. */
function publishedPorts(props: Record<string, unknown>): ({ ip?: unknown; internal?: unknown } | null | undefined)[] {
    return Array.isArray(props.ports) ? props.ports : [];
}

// ---------------------------------------------------------------------------------------------
// 1. The registry is published on loopback only.
// ---------------------------------------------------------------------------------------------

/**
 * The registry container answers without authentication, so nothing may reach it from outside
 * the host: every published port must bind a loopback address (127.0.0.0/8 or ::1). A port with
 * no `ip` binds 0.0.0.0. Host networking and `publishAllPorts` expose it without a `ports` entry.
 */
export function checkRegistryPortsLoopback(resource: ResourceView): RuleResult {
    if (containerRole(resource) !== roles.registry) {
        return notApplicable("only the registry container (label authenticated-registry.role=registry)");
    }
    if (resource.type === resourceTypes.service) {
        return checked(
            servicePorts(resource.props).map(
                (port, i) =>
                    `endpointSpec.ports[${i}] publishes the registry's port ${port?.targetPort} on every node of the swarm; ` +
                    `the registry answers without authentication, so its service publishes no port`,
            ),
        );
    }
    const { props } = resource;
    const violations: string[] = [];
    const ports = publishedPorts(props);
    ports.forEach((port, i) => {
        const ip = typeof port?.ip === "string" && port.ip !== "" ? port.ip : undefined;
        if (ip === undefined || !isLoopback(ip)) {
            const where = ip === undefined ? "0.0.0.0 (no ip given)" : ip;
            violations.push(
                `ports[${i}] publishes container port ${port?.internal} on ${where}; the registry answers without ` +
                    `authentication, so it may only be published on 127.0.0.0/8 or ::1`,
            );
        }
    });
    if (props.networkMode === "host") {
        violations.push(`networkMode "host" puts the registry's port on every host interface; use a bridge network`);
    }
    if (props.publishAllPorts === true) {
        violations.push(`publishAllPorts publishes the registry's exposed ports on 0.0.0.0; publish on loopback with ports[].ip`);
    }
    return checked(violations);
}

/**
 * The token service reads users' passwords in plain HTTP on the private network; clients reach
 * it only through nginx's TLS at `/token`. So it publishes no port at all, and does not share the
 * host's network.
 */
export function checkTokenServiceUnpublished(resource: ResourceView): RuleResult {
    if (containerRole(resource) !== roles.tokenService) {
        return notApplicable("only the token service container (label authenticated-registry.role=token-service)");
    }
    if (resource.type === resourceTypes.service) {
        return checked(
            servicePorts(resource.props).map(
                (port, i) =>
                    `endpointSpec.ports[${i}] publishes the token service's port ${port?.targetPort}; it reads passwords over ` +
                    `plain HTTP and is reached through nginx's /token only, so it publishes no port`,
            ),
        );
    }
    const { props } = resource;
    const violations: string[] = [];
    const ports = publishedPorts(props);
    ports.forEach((port, i) => {
        violations.push(
            `ports[${i}] publishes container port ${port?.internal}; the token service reads passwords over plain HTTP ` +
                `and is reached through nginx's /token only, so it publishes no port`,
        );
    });
    if (props.networkMode === "host") {
        violations.push(`networkMode "host" puts the token service's port on every host interface; use the registry's network`);
    }
    if (props.publishAllPorts === true) {
        violations.push(`publishAllPorts publishes the token service's port; it publishes none`);
    }
    return checked(violations);
}

// ---------------------------------------------------------------------------------------------
// 2. nginx offers TLS 1.2 and 1.3 only.
// ---------------------------------------------------------------------------------------------

/** A directive of an nginx config: its name and arguments, quotes removed, comments skipped. */
export interface NginxDirective {
    readonly name: string;
    readonly args: readonly string[];
}

/**
 * Splits nginx configuration into simple directives (`name args...;`), following nginx's lexer
 * closely enough for the rules: `#` comments, single and double quotes with backslash escapes,
 * and `{`/`}` ending a directive. Block directives (`server {`) are returned without args' block.
 */
export function nginxDirectives(text: string): NginxDirective[] {
    const directives: NginxDirective[] = [];
    let words: string[] = [];
    let word = "";
    let inWord = false;
    const endWord = () => {
        if (inWord) {
            words.push(word);
        }
        word = "";
        inWord = false;
    };
    const endDirective = () => {
        endWord();
        if (words.length > 0) {
            directives.push({ name: words[0], args: words.slice(1) });
        }
        words = [];
    };
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c === "#" && !inWord) {
            while (i < text.length && text[i] !== "\n") {
                i++;
            }
        } else if (c === '"' || c === "'") {
            inWord = true;
            for (i++; i < text.length && text[i] !== c; i++) {
                if (text[i] === "\\" && i + 1 < text.length) {
                    i++;
                }
                word += text[i];
            }
        } else if (c === ";" || c === "{" || c === "}") {
            endDirective();
        } else if (/\s/.test(c)) {
            endWord();
        } else {
            inWord = true;
            word += c;
        }
    }
    endDirective();
    return directives;
}

/**
 * The proxy's `registry.conf` upload (on one host, its files container's) must contain at least
 * one `ssl_protocols` directive, and every `ssl_protocols` in any uploaded `.conf` file may list
 * only TLSv1.2 and TLSv1.3 (nginx compares the names without regard to case). Without the directive nginx uses its build's
 * default, which for nginx before 1.23.4 includes TLSv1 and TLSv1.1.
 */
export function checkNginxTlsProtocols(resource: ResourceView): RuleResult {
    const swarmFile = swarmFileRole(resource) === roles.proxy;
    const role = containerRole(resource);
    if (role !== roles.proxy && role !== roles.proxyFiles && !swarmFile) {
        return notApplicable(
            "only the nginx container (label authenticated-registry.role=proxy), its files container and its Swarm configs",
        );
    }
    if (resource.type === resourceTypes.service) {
        return notApplicable("a Swarm service's nginx config is a Swarm config, checked on its own");
    }
    if (!swarmFile && !carriesProxyFiles(resource)) {
        return notApplicable(filesInVolume);
    }
    const uploads = filesOf(resource);
    if (swarmFile && !uploads.some((u) => u.file === nginxPaths.config)) {
        return notApplicable(`only the Swarm config that holds ${nginxPaths.config}`);
    }
    const violations: string[] = [];
    const allowed = new Set(allowedTlsProtocols.map((p) => p.toLowerCase()));
    let registryConf: "missing" | "unreadable" | number = "missing";
    for (const upload of uploads.filter((u) => u.file.endsWith(".conf"))) {
        const content = upload.content();
        const isRegistryConf = upload.file === nginxPaths.config;
        if (typeof content !== "string") {
            if (isRegistryConf) {
                registryConf = "unreadable";
            }
            continue;
        }
        const directives = nginxDirectives(content).filter((d) => d.name === "ssl_protocols");
        if (isRegistryConf) {
            registryConf = directives.length;
        }
        for (const directive of directives) {
            const refused = directive.args.filter((p) => !allowed.has(p.toLowerCase()));
            if (directive.args.length === 0) {
                violations.push(`${upload.file}: ssl_protocols lists no protocol; list TLSv1.2 and TLSv1.3`);
            } else if (refused.length > 0) {
                violations.push(
                    `${upload.file}: "ssl_protocols ${directive.args.join(" ")}" enables ${refused.join(", ")}; ` +
                        `only TLSv1.2 and TLSv1.3 are allowed`,
                );
            }
        }
    }
    if (registryConf === "missing") {
        violations.push(`no upload to ${nginxPaths.config}; the nginx server configuration is missing`);
    } else if (registryConf === "unreadable") {
        violations.push(`${nginxPaths.config} has no text content; its ssl_protocols cannot be checked`);
    } else if (registryConf === 0) {
        violations.push(`${nginxPaths.config} has no ssl_protocols directive; nginx would offer its default protocols`);
    }
    return checked(violations);
}

// ---------------------------------------------------------------------------------------------
// 3. Images are pinned.
// ---------------------------------------------------------------------------------------------

/** A pulled image names a tag other than `latest`, or a digest (components/validation.ts). */
export function checkImagePinned(resource: ResourceView): RuleResult {
    if (resource.type !== resourceTypes.remoteImage && resource.type !== resourceTypes.service) {
        return notApplicable("only docker RemoteImage and Service resources");
    }
    const name =
        resource.type === resourceTypes.service
            ? (resource.props.taskSpec as { containerSpec?: { image?: unknown } } | undefined)?.containerSpec?.image
            : resource.props.name;
    if (typeof name !== "string" || !isPinnedImageReference(name)) {
        return checked([
            `image ${JSON.stringify(name)} is not pinned; name a tag other than latest (e.g. nginx:1.28.0) or a digest (@sha256:...)`,
        ]);
    }
    return checked([]);
}

// ---------------------------------------------------------------------------------------------
// 4. The data volume is retained.
// ---------------------------------------------------------------------------------------------

/**
 * The registry's data volume (a volume labelled `authenticated-registry.instance`, and no role)
 * must survive `pulumi destroy` and replacement. `retainOnDelete: true` is checked whenever the engine sends
 * it; `protect: true` (which refuses the delete outright) also satisfies the rule. The 3.248.0
 * engine does not send `retainOnDelete` to policy packs, so for an unprotected volume the rule
 * cannot decide and says so (not applicable) instead of passing or failing silently; the
 * component's unit tests assert the option (test/authenticatedRegistry.test.ts).
 */
export function checkDataVolumeRetained(resource: ResourceView): RuleResult {
    if (resource.type !== resourceTypes.volume || labelValue(resource.props.labels, labelKeys.instance) === undefined) {
        return notApplicable("only docker volumes labelled authenticated-registry.instance");
    }
    const role = labelValue(resource.props.labels, labelKeys.role);
    if (role !== undefined) {
        return notApplicable(`only the data volume; this is the ${role} volume, rewritten from the stack's state on every change`);
    }
    const opts = resource.opts ?? {};
    if (opts.retainOnDelete === false && opts.protect !== true) {
        return checked([
            `the data volume is deleted with the stack (retainOnDelete is false); set retainOnDelete: true so pushed images survive`,
        ]);
    }
    if (opts.retainOnDelete === true || opts.protect === true) {
        return checked([]);
    }
    return notApplicable(
        "the Pulumi engine does not pass retainOnDelete to policy packs, and the volume is not protected; " +
            "retention is asserted by the component's unit tests instead",
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Credential and key material is secret.
// ---------------------------------------------------------------------------------------------

/** What each container keeps that must be stored only encrypted, by role. */
const secretProperties: Record<string, { property: string; holds: string }> = {
    [roles.proxy]: { property: "uploads", holds: "the htpasswd file and the TLS private key" },
    [roles.proxyFiles]: { property: "uploads", holds: "the htpasswd file and the TLS private key" },
    [roles.registry]: { property: "envs", holds: "REGISTRY_HTTP_SECRET" },
    [roles.tokenService]: { property: "uploads", holds: "the users' password hashes and the token signing key" },
};

/**
 * The `uploads` of the proxy and of its files container and the registry's `envs` must be listed
 * in `additionalSecretOutputs`, so the provider's copy of them in the state is encrypted whatever the inputs were marked. This
 * is what a policy can check: the SDK unwraps secret inputs before a rule sees them, so whether
 * the inputs themselves were `pulumi.secret` is invisible here (the component tests assert it).
 */
export function checkCredentialsSecret(resource: ResourceView): RuleResult {
    if (resource.type === resourceTypes.secret && swarmFileRole(resource) !== undefined) {
        return checked(
            (resource.opts?.additionalSecretOutputs ?? []).includes("data")
                ? []
                : [`data holds ${labelValue(resource.props.labels, labelKeys.file)} but is not in additionalSecretOutputs`],
        );
    }
    if (resource.type !== resourceTypes.container) {
        return notApplicable("only the containers and the Swarm secrets of this package");
    }
    const role = containerRole(resource);
    const wanted = role === undefined ? undefined : secretProperties[role];
    if (wanted === undefined) {
        return notApplicable("only the registry, nginx, nginx files and token service containers");
    }
    const secretOutputs = resource.opts?.additionalSecretOutputs ?? [];
    if (!secretOutputs.includes(wanted.property)) {
        return checked([
            `${wanted.property} holds ${wanted.holds} but is not in additionalSecretOutputs, ` +
                `so the state is not guaranteed to store it encrypted`,
        ]);
    }
    return checked([]);
}

// ---------------------------------------------------------------------------------------------
// 6. bcrypt cost at or above a floor.
// ---------------------------------------------------------------------------------------------

/** One htpasswd entry: the user, and the bcrypt cost if the hash is bcrypt. */
export interface HtpasswdEntry {
    readonly line: number;
    readonly username: string;
    readonly bcryptCost?: number;
}

const bcryptHash = /^\$2[abxy]\$(\d{2})\$[./A-Za-z0-9]{53}$/;

/** Parses `user:hash` lines; blank lines and `#` comments are skipped, as nginx does. */
export function parseHtpasswd(text: string): HtpasswdEntry[] {
    const entries: HtpasswdEntry[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) {
            return;
        }
        const colon = line.indexOf(":");
        const username = colon < 0 ? line : line.slice(0, colon);
        const match = colon < 0 ? null : bcryptHash.exec(line.slice(colon + 1));
        entries.push({ line: i + 1, username, bcryptCost: match ? Number(match[1]) : undefined });
    });
    return entries;
}

/** The floor from the policy config (`minimumBcryptCost`), checked; the default when unset. */
export function minimumBcryptCost(config: { minimumBcryptCost?: unknown }): number {
    const value = config.minimumBcryptCost ?? defaultMinimumBcryptCost;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 4 || value > 31) {
        throw new Error(`minimumBcryptCost: ${JSON.stringify(value)} is not a bcrypt cost; expected an integer from 4 to 31`);
    }
    return value;
}

/**
 * The token service's users, from its settings upload: each hash must be bcrypt of cost
 * `minimumCost` or more. Messages name users and costs, never hashes.
 */
function checkTokenServiceHashes(resource: ResourceView, minimumCost: number): RuleResult {
    const file = tokenServiceFiles.settings;
    const upload = filesOf(resource).find((u) => u.file === file);
    const content = upload?.content();
    if (typeof content !== "string") {
        return checked([`${file} has no text content; the users' hashes cannot be checked`]);
    }
    let users: unknown;
    try {
        users = (JSON.parse(content) as { users?: unknown }).users;
    } catch {
        return checked([`${file} is not JSON; the users' hashes cannot be checked`]);
    }
    if (!Array.isArray(users) || users.length === 0) {
        return checked([`${file} has no users; expected one entry per user`]);
    }
    const violations: string[] = [];
    users.forEach((user: { username?: unknown; passwordHash?: unknown }, i) => {
        const who = `users[${i}] (user ${JSON.stringify(user?.username)})`;
        const match = typeof user?.passwordHash === "string" ? bcryptHash.exec(user.passwordHash) : null;
        if (match === null) {
            violations.push(`${file} ${who} has no bcrypt hash; only $2y$ (or $2a$/$2b$) hashes are allowed`);
        } else if (Number(match[1]) < minimumCost) {
            violations.push(`${file} ${who} has bcrypt cost ${Number(match[1])}; the minimum is ${minimumCost}`);
        }
    });
    return checked(violations);
}

/**
 * Wherever the password hashes are, they must be bcrypt (`$2a$`, `$2b$`, `$2x$` or `$2y$`) of
 * cost `minimumCost` or more: in basic mode the htpasswd upload of the proxy's files container
 * (or of a proxy container that has its files itself), which must have at least
 * one entry; in token mode the token service's settings (the proxy then checks no password).
 * Messages name users and costs, never hashes.
 */
export function checkBcryptCost(resource: ResourceView, minimumCost: number): RuleResult {
    if (resource.type === resourceTypes.secret) {
        return checkSwarmSecretHashes(resource, minimumCost);
    }
    if (resource.type !== resourceTypes.container) {
        return notApplicable("only the nginx, nginx files and token service containers, and the Swarm secrets that hold hashes");
    }
    const role = containerRole(resource);
    if (role === roles.tokenService) {
        return checkTokenServiceHashes(resource, minimumCost);
    }
    if (role !== roles.proxy && role !== roles.proxyFiles) {
        return notApplicable("only the nginx, nginx files and token service containers");
    }
    if (!carriesProxyFiles(resource)) {
        return notApplicable(filesInVolume);
    }
    const config = uploadsOf(resource.props)
        .find((u) => u.file === nginxPaths.config)
        ?.content();
    const directives = typeof config === "string" ? nginxDirectives(config) : [];
    const tokenMode =
        directives.some((d) => d.name === "set" && d.args[0] === "$token_upstream") &&
        !directives.some((d) => d.name === "auth_basic_user_file");
    if (tokenMode) {
        return notApplicable("token mode: nginx checks no password; the token service's hashes are checked on it");
    }
    const upload = uploadsOf(resource.props).find((u) => u.file === nginxPaths.htpasswd);
    if (upload === undefined) {
        return checked([`no upload to ${nginxPaths.htpasswd}; nginx would have no user file to check passwords against`]);
    }
    return checkHtpasswdHashes(upload, minimumCost);
}

/**
 * On a swarm the hashes are Swarm secrets of their own: the proxy's htpasswd file (basic mode;
 * without one, nginx serves token mode) and the token service's settings.
 */
function checkSwarmSecretHashes(resource: ResourceView, minimumCost: number): RuleResult {
    const role = swarmFileRole(resource);
    const [file] = filesOf(resource);
    if (role === roles.proxy && file?.file === nginxPaths.htpasswd) return checkHtpasswdHashes(file, minimumCost);
    if (role === roles.tokenService && file?.file === tokenServiceFiles.settings) return checkTokenServiceHashes(resource, minimumCost);
    return notApplicable("only the Swarm secrets that hold the htpasswd file or the token service's settings");
}

/** The entries of an htpasswd file: at least one, each bcrypt of at least `minimumCost`. */
function checkHtpasswdHashes(upload: Upload, minimumCost: number): RuleResult {
    const content = upload.content();
    if (typeof content !== "string") {
        return checked([`${nginxPaths.htpasswd} has no text content; its hashes cannot be checked`]);
    }
    const entries = parseHtpasswd(content);
    if (entries.length === 0) {
        return checked([`${nginxPaths.htpasswd} has no entries; expected one user:bcrypt-hash line per user`]);
    }
    const violations: string[] = [];
    for (const entry of entries) {
        const who = `line ${entry.line} (user ${JSON.stringify(entry.username)})`;
        if (entry.bcryptCost === undefined) {
            violations.push(`${nginxPaths.htpasswd} ${who} is not a bcrypt hash; only $2y$ (or $2a$/$2b$) hashes are allowed`);
        } else if (entry.bcryptCost < minimumCost) {
            violations.push(`${nginxPaths.htpasswd} ${who} has bcrypt cost ${entry.bcryptCost}; the minimum is ${minimumCost}`);
        }
    }
    return checked(violations);
}

// ---------------------------------------------------------------------------------------------
// 7. Grants: nobody deletes everything, and someone only pulls.
// ---------------------------------------------------------------------------------------------

/** A user's grants as the access label (of the proxy's files container, or of the proxy) records them. */
interface LabelledUser {
    readonly username: string;
    readonly access: { readonly repositories: readonly string[]; readonly actions: readonly string[] }[];
}

/** Whether the grants' rules judge the resource: the proxy's files container, a proxy, or a proxy service. */
function carriesGrants(resource: ResourceView): boolean {
    const role = containerRole(resource);
    return role === roles.proxy || (role === roles.proxyFiles && resource.type === resourceTypes.container);
}

/** The users of the proxy's access label, or a message saying why there are none to check. */
function labelledUsers(resource: ResourceView): LabelledUser[] | string {
    if (readsFilesFromVolume(resource)) {
        return `the proxy's grants are on its files container (label authenticated-registry.role=proxy-files), checked there`;
    }
    const label = labelValue(resource.props.labels, labelKeys.access);
    if (label === undefined) {
        return "the proxy has no access label; grants were not configured through this package";
    }
    try {
        const users: unknown = JSON.parse(label);
        if (Array.isArray(users)) {
            return users as LabelledUser[];
        }
    } catch {
        // Reported below.
    }
    return `the ${labelKeys.access} label is not the JSON list of users this package writes`;
}

/**
 * Deleting on `**` lets one credential erase every image in the registry; it is refused unless
 * the pack's config allows it (`allowDeleteEverywhere`), for a garbage-collection account say.
 */
export function checkDeleteEverywhere(resource: ResourceView, allowDeleteEverywhere: boolean): RuleResult {
    if (!carriesGrants(resource)) {
        return notApplicable("only the nginx container (label authenticated-registry.role=proxy) and its files container");
    }
    const users = labelledUsers(resource);
    if (typeof users === "string") {
        return notApplicable(users);
    }
    if (allowDeleteEverywhere) {
        return checked([]);
    }
    return checked(
        users
            .filter((u) => u.access.some((g) => g.actions.includes("delete") && g.repositories.includes("**")))
            .map(
                (u) =>
                    `user ${JSON.stringify(u.username)} may delete on "**", every repository; narrow the pattern or set allowDeleteEverywhere`,
            ),
    );
}

/**
 * With more than one user, at least one should be unable to push: the credentials spread widest
 * (cluster nodes, laptops) should only pull. Advisory.
 */
export function checkSomeoneOnlyPulls(resource: ResourceView): RuleResult {
    if (!carriesGrants(resource)) {
        return notApplicable("only the nginx container (label authenticated-registry.role=proxy) and its files container");
    }
    const users = labelledUsers(resource);
    if (typeof users === "string") {
        return notApplicable(users);
    }
    const pushers = users.filter((u) => u.access.some((g) => g.actions.includes("push")));
    return checked(
        users.length > 1 && pushers.length === users.length
            ? [`all ${users.length} users may push; give the credentials spread widest (cluster nodes) a pull-only grant`]
            : [],
    );
}
