/**
 * The rules of the `authenticated-registry` policy pack as pure functions of one resource: its
 * type, its inputs and the options the engine shows a policy pack. `policies.ts` wires them to
 * `@pulumi/policy`; here nothing depends on the policy SDK, so every rule is unit-tested with
 * plain objects.
 *
 * The rules know roles and files, not runtimes: they loop over `runtimeInspections`
 * (components/runtimes/inspection.ts), take the inspection whose types include the resource's
 * type, and read the resource through it (its role, published ports, files, secret inputs,
 * images). A new runtime adds its own inspection to that list; nothing here changes.
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
import { defaults, labelKeys, mirrorRolePrefix, roleKind, roles } from "../components/defaults";
import { nginxPaths } from "../components/nginxConfig";
import { tokenServiceFiles } from "../components/tokenService/files";
import {
    CarriedFile,
    CarriedFiles,
    InspectedResource,
    RuntimeInspection,
    runtimeInspections,
    SecretMaterial,
} from "../components/runtimes/inspection";
import { isPinnedImageReference } from "../components/validation";

/** Shared with the components, which put these labels on what they create. */
export { labelKeys, roles };

/** The TLS versions nginx may offer. */
export const allowedTlsProtocols = ["TLSv1.2", "TLSv1.3"] as const;

/** The bcrypt cost floor when the policy config sets none; the components' default cost. */
export const defaultMinimumBcryptCost: number = defaults.bcryptCost;

/** What a rule sees of a resource; `props` are its inputs, as the policy SDK presents them. */
export interface ResourceView extends InspectedResource {
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

// ---------------------------------------------------------------------------------------------
// What each runtime makes, read through its inspection (components/runtimes/inspection.ts).
// ---------------------------------------------------------------------------------------------

type TypeList = "processTypes" | "fileTypes" | "volumeTypes" | "imageTypes";

/** The inspection of the runtime that makes resources of this type as `list` says, if any does. */
function inspecting(resource: InspectedResource, ...lists: TypeList[]): RuntimeInspection | undefined {
    return runtimeInspections.find((inspection) => lists.some((list) => inspection[list].includes(resource.type)));
}

/** A process or file resource of a role, with its runtime's inspection. */
interface RoleResource {
    readonly inspection: RuntimeInspection;
    readonly role: string | undefined;
}

/** The role a process or file resource of any runtime serves, and its inspection; undefined for anything else. */
function roleResource(resource: InspectedResource): RoleResource | undefined {
    const inspection = inspecting(resource, "processTypes", "fileTypes");
    return inspection === undefined ? undefined : { inspection, role: inspection.role(resource) };
}

/** Where each role whose files the rules read keeps them. */
const filesDirectories: Readonly<Record<string, string>> = {
    [roles.proxy]: nginxPaths.directory,
    [roles.tokenService]: tokenServiceFiles.directory,
};

/** The files of `role` a resource carries, if it is a process or file resource of that role. */
function filesOf(resource: InspectedResource, role: string): CarriedFiles | undefined {
    const found = roleResource(resource);
    return found?.role === role ? found.inspection.carriedFiles(resource, filesDirectories[role]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// 1. The registry is published on loopback only.
// ---------------------------------------------------------------------------------------------

/**
 * The registry answers without authentication, so nothing may reach it from outside the host:
 * every port its process publishes must bind a loopback address (127.0.0.0/8 or ::1), and no
 * setting may put it on the host's network (a container's host networking or
 * `publishAllPorts`). A container's port with no `ip` binds 0.0.0.0; a swarm publishes on
 * every node, so there the registry's service publishes none.
 */
export function checkRegistryPortsLoopback(resource: ResourceView): RuleResult {
    const inspection = inspecting(resource, "processTypes");
    const role = inspection?.role(resource);
    if (inspection === undefined || role === undefined || roleKind(role) !== roles.registry) {
        return notApplicable(
            `only the registry's and the mirrors' processes (label ${labelKeys.role}=${roles.registry} or ${mirrorRolePrefix}NAME)`,
        );
    }
    const why = "the registry answers without authentication, so it may only be published on 127.0.0.0/8 or ::1";
    return checked([
        ...inspection
            .publishedPorts(resource)
            .filter((port) => !port.loopbackOnly)
            .map((port) => `${port.path} publishes the registry's port ${port.port} on ${port.where}; ${why}`),
        ...inspection
            .hostNetworkSettings(resource)
            .map(
                (host) =>
                    `${host.setting} puts the registry's port ${host.where}; ${host.fix}: it answers without ` +
                    `authentication and is published on 127.0.0.0/8 or ::1 only`,
            ),
    ]);
}

/**
 * The token service reads users' passwords in plain HTTP on the private network; clients reach
 * it only through nginx's TLS at `/token`. So its process publishes no port at all, not even on
 * loopback, and does not share the host's network.
 */
export function checkTokenServiceUnpublished(resource: ResourceView): RuleResult {
    const inspection = inspecting(resource, "processTypes");
    if (inspection === undefined || inspection.role(resource) !== roles.tokenService) {
        return notApplicable(`only the token service's process (label ${labelKeys.role}=${roles.tokenService})`);
    }
    return checked([
        ...inspection
            .publishedPorts(resource)
            .map(
                (port) =>
                    `${port.path} publishes the token service's port ${port.port} on ${port.where}; the token service reads ` +
                    `passwords over plain HTTP and is reached through nginx's /token only, so it publishes no port`,
            ),
        ...inspection
            .hostNetworkSettings(resource)
            .map(
                (host) =>
                    `${host.setting} puts the token service's port ${host.where}; ${host.fix}: it reads passwords over ` +
                    `plain HTTP and publishes no port`,
            ),
    ]);
}

/**
 * No process of the registry runs with privileges beyond an unprivileged container's: none runs
 * privileged, adds a capability, may gain privileges through setuid programs, or shares its
 * node's process or IPC namespace. None needs to, and each would turn a flaw in nginx, the
 * registry or the token service into a hold on the host.
 */
export function checkNoPrivilegedProcess(resource: ResourceView): RuleResult {
    const inspection = inspecting(resource, "processTypes");
    const role = inspection?.role(resource);
    if (inspection === undefined || role === undefined) {
        return notApplicable(`only the registry's processes (label ${labelKeys.role})`);
    }
    return checked(
        inspection
            .privileges(resource)
            .map(
                (privilege) =>
                    `${privilege.setting} gives the ${role} process ${privilege.grants}; no role of the registry needs it: remove it`,
            ),
    );
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
 * The proxy's `registry.conf` must contain at least one `ssl_protocols` directive, and every
 * `ssl_protocols` in any of its `.conf` files may list only TLSv1.2 and TLSv1.3 (nginx compares
 * the names without regard to case). Without the directive nginx uses its build's default, which
 * for nginx before 1.23.4 includes TLSv1 and TLSv1.1. Judged wherever its runtime keeps the
 * files: what carries all of them (a container's uploads; on one host, its files container's)
 * must have `registry.conf`; what carries some (a Swarm config) has its `.conf` files checked.
 */
export function checkNginxTlsProtocols(resource: ResourceView): RuleResult {
    const carried = filesOf(resource, roles.proxy);
    if (carried === undefined) {
        return notApplicable(`only the proxy (label ${labelKeys.role}=${roles.proxy}) and what carries its files`);
    }
    if (carried.carries === "none") {
        return notApplicable(carried.elsewhere);
    }
    const configs = carried.files.filter((file) => file.path.endsWith(".conf"));
    if (carried.carries === "some" && configs.length === 0) {
        return notApplicable("only the proxy's nginx configuration, its .conf files");
    }
    const violations: string[] = [];
    const allowed = new Set(allowedTlsProtocols.map((p) => p.toLowerCase()));
    // What carries some of the files need not carry registry.conf: its other carriers are judged on their own.
    let registryConf: "elsewhere" | "missing" | "unreadable" | number = carried.carries === "all" ? "missing" : "elsewhere";
    for (const file of configs) {
        const content = file.content();
        const isRegistryConf = file.path === nginxPaths.config;
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
                violations.push(`${file.path}: ssl_protocols lists no protocol; list TLSv1.2 and TLSv1.3`);
            } else if (refused.length > 0) {
                violations.push(
                    `${file.path}: "ssl_protocols ${directive.args.join(" ")}" enables ${refused.join(", ")}; ` +
                        `only TLSv1.2 and TLSv1.3 are allowed`,
                );
            }
        }
    }
    if (registryConf === "missing" && carried.carries === "all") {
        violations.push(`${carried.property} has no ${nginxPaths.config}; the nginx server configuration is missing`);
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

/** Every image a resource pulls names a tag other than `latest`, or a digest (components/validation.ts). */
export function checkImagePinned(resource: ResourceView): RuleResult {
    const inspection = inspecting(resource, "imageTypes");
    if (inspection === undefined) {
        const imageTypes = runtimeInspections.flatMap((runtime) => runtime.imageTypes);
        return notApplicable(`only the resources that name an image to pull: ${imageTypes.join(", ")}`);
    }
    return checked(
        inspection
            .images(resource)
            .filter(({ reference }) => typeof reference !== "string" || !isPinnedImageReference(reference))
            .map(
                ({ path, reference }) =>
                    `${path}: image ${JSON.stringify(reference)} is not pinned; ` +
                    "name a tag other than latest (e.g. nginx:1.28.0) or a digest (@sha256:...)",
            ),
    );
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
    const inspection = inspecting(resource, "volumeTypes");
    if (inspection === undefined || inspection.label(resource, labelKeys.instance) === undefined) {
        return notApplicable(`only the volumes labelled ${labelKeys.instance}`);
    }
    const role = inspection.label(resource, labelKeys.role);
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

/** What of each role must be stored only encrypted, whatever stores it. */
const secretMaterial: Readonly<Record<string, SecretMaterial>> = {
    [roles.proxy]: { files: "the htpasswd file and the TLS private key" },
    [roles.registry]: { environment: "REGISTRY_HTTP_SECRET" },
    [roles.tokenService]: { files: "the users' password hashes and the token signing key" },
};

/** What of the role labelled `role` must be stored only encrypted: a mirror's registry also holds its upstream's password. */
function secretMaterialOf(role: string): SecretMaterial {
    return role.startsWith(mirrorRolePrefix)
        ? { environment: "REGISTRY_HTTP_SECRET and the upstream's REGISTRY_PROXY_PASSWORD" }
        : (secretMaterial[role] ?? {});
}

/**
 * Every input that holds a role's secret material (on one host the uploads of the proxy, of its
 * files container and of the token service, and the registry's `envs`; on a swarm the `data`
 * of every Swarm secret) must be listed in `additionalSecretOutputs`, so the provider's copy of
 * it in the state is encrypted whatever the inputs were marked. This is what a policy can check:
 * the SDK unwraps secret inputs before a rule sees them, so whether the inputs themselves were
 * `pulumi.secret` is invisible here (the component tests assert it).
 */
export function checkCredentialsSecret(resource: ResourceView): RuleResult {
    const found = roleResource(resource);
    const stored = found?.role === undefined ? [] : found.inspection.storedSecrets(resource, secretMaterialOf(found.role));
    if (stored.length === 0) {
        return notApplicable(
            "only what stores a secret of this package: the registry's environment, the proxy's and the token service's files",
        );
    }
    const secretOutputs = resource.opts?.additionalSecretOutputs ?? [];
    return checked(
        stored
            .filter(({ property }) => !secretOutputs.includes(property))
            .map(
                ({ property, holds }) =>
                    `${property} holds ${holds} but is not in additionalSecretOutputs, ` +
                    `so the state is not guaranteed to store it encrypted`,
            ),
    );
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
 * The token service's users, from its settings file: each hash must be bcrypt of cost
 * `minimumCost` or more. Messages name users and costs, never hashes.
 */
function checkTokenServiceHashes(settings: CarriedFile | undefined, minimumCost: number): RuleResult {
    const file = tokenServiceFiles.settings;
    const content = settings?.content();
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

/** Why a resource holds no password hash. */
const holdsNoHashes =
    `only the proxy's ${nginxPaths.htpasswd} and the token service's ${tokenServiceFiles.settings}, ` +
    "which hold the password hashes, and what carries them";

/**
 * Wherever the password hashes are, they must be bcrypt (`$2a$`, `$2b$`, `$2x$` or `$2y$`) of
 * cost `minimumCost` or more: in basic mode the proxy's htpasswd file, which must have at least
 * one entry; in token mode the token service's settings (the proxy then checks no password).
 * They are judged where its runtime keeps them: what carries all of a role's files (a
 * container's uploads; on one host, the proxy's files container's) must have the file, what
 * carries some of them (a Swarm secret) is judged if it has it. Messages name users and costs,
 * never hashes.
 */
export function checkBcryptCost(resource: ResourceView, minimumCost: number): RuleResult {
    const tokenService = filesOf(resource, roles.tokenService);
    if (tokenService !== undefined) {
        if (tokenService.carries === "none") {
            return notApplicable(tokenService.elsewhere);
        }
        const settings = tokenService.files.find((file) => file.path === tokenServiceFiles.settings);
        if (tokenService.carries === "some" && settings === undefined) {
            return notApplicable(holdsNoHashes);
        }
        return checkTokenServiceHashes(settings, minimumCost);
    }
    const proxy = filesOf(resource, roles.proxy);
    if (proxy === undefined) {
        return notApplicable(holdsNoHashes);
    }
    if (proxy.carries === "none") {
        return notApplicable(proxy.elsewhere);
    }
    const htpasswd = proxy.files.find((file) => file.path === nginxPaths.htpasswd);
    if (proxy.carries === "some") {
        // Without an htpasswd file, nginx serves token mode; the token service's hashes are checked on it.
        return htpasswd === undefined ? notApplicable(holdsNoHashes) : checkHtpasswdHashes(htpasswd, minimumCost);
    }
    const config = proxy.files.find((file) => file.path === nginxPaths.config)?.content();
    const directives = typeof config === "string" ? nginxDirectives(config) : [];
    const tokenMode =
        directives.some((d) => d.name === "set" && d.args[0] === "$token_upstream") &&
        !directives.some((d) => d.name === "auth_basic_user_file");
    if (tokenMode) {
        return notApplicable("token mode: nginx checks no password; the token service's hashes are checked on it");
    }
    if (htpasswd === undefined) {
        return checked([`${proxy.property} has no ${nginxPaths.htpasswd}; nginx would have no user file to check passwords against`]);
    }
    return checkHtpasswdHashes(htpasswd, minimumCost);
}

/** The entries of an htpasswd file: at least one, each bcrypt of at least `minimumCost`. */
function checkHtpasswdHashes(htpasswd: CarriedFile, minimumCost: number): RuleResult {
    const content = htpasswd.content();
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

/** A user's grants as the access label (of the proxy's process, or of what carries its files) records them. */
interface LabelledUser {
    readonly username: string;
    readonly access: { readonly repositories: readonly string[]; readonly actions: readonly string[] }[];
}

/**
 * The users of the proxy's access label, or a message saying why the resource is not judged:
 * the label is on the proxy's process, unless its runtime moved it, with the files it
 * describes, to what carries them (on one host, the proxy's files container).
 */
function labelledUsers(resource: ResourceView): LabelledUser[] | string {
    const inspection = inspecting(resource, "processTypes");
    if (inspection === undefined || inspection.role(resource) !== roles.proxy) {
        return (
            `only what has the proxy's grants: its process (label ${labelKeys.role}=${roles.proxy}), ` +
            "or what carries its files and the labels that describe them"
        );
    }
    const files = inspection.carriedFiles(resource, nginxPaths.directory);
    if (files.carries === "none" && !files.keepsFileLabels) {
        return `the proxy's grants go with its files: ${files.elsewhere}`;
    }
    const label = inspection.label(resource, labelKeys.access);
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
