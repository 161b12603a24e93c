import { CheckedMirror, RegistryMirror, validateMirrors } from "./mirrors";
import { CheckedNotificationEndpoint, NotificationEndpoint, validateNotifications } from "./notifications";
import { RetentionRule, validateRetention } from "./retention";
import { ImmutableTagRule, validateImmutableTags } from "./immutableTags";
import { RegistryUser, validateUserAccess } from "./access";
import { anyDeleteGranted, UserAccess } from "./grants";
import { AuthMode, CheckedAuth, defaultBcryptCostFor, RegistryAuth, validateAuth } from "./auth";
import { auditLogDefault, defaults } from "./defaults";
import { LoginThrottle, validateLoginThrottle, validateWriteHoldSeconds } from "./guard";
import type { LoginThrottleSettings } from "./tokenService/loginThrottle";
import { checkHtpasswdArgs } from "./htpasswdCredentials";
import { CheckedStorage, RegistryStorage, StorageKind, validateStorage } from "./storage";
import { checkTlsMaterialArgs, TlsSettings } from "./tlsMaterial";
import { InvalidArgumentError, validateBoolean, validateDomain, validateImageReference, validatePort } from "./validation";

/**
 * The arguments every runtime of the registry shares: who may log in and do what, how they
 * authenticate, TLS, images and storage. `AuthenticatedRegistryArgs` adds which runtime runs the
 * processes, and that runtime's settings.
 */
export interface RegistryArgs {
    /** The host name clients use, e.g. `registry.example.com` or `localhost`. */
    readonly domain: string;
    /**
     * The HTTPS port published on the host.
     * @default 5043
     */
    readonly port?: number;
    /**
     * The users who may log in, at least one, and what each may do: a user without `access`
     * may pull and push every repository and list the catalog.
     */
    readonly users: RegistryUser[];
    /**
     * The bcrypt cost of the password hashes, 4 to 31.
     * @default 8 in basic mode, where nginx checks a hash on every request; 12 in token mode, where it is checked once per token
     */
    readonly bcryptCost?: number;
    /**
     * How clients authenticate: `basic` (nginx checks the password on every request) or
     * `token` (a token service checks it once and issues short-lived tokens the registry
     * verifies). Grants apply alike in both; switching keeps every image.
     * @default { mode: "basic" }
     */
    readonly auth?: RegistryAuth;
    /**
     * TLS material: generated (default) or supplied. The domain is taken from `domain`.
     * @default { mode: "generated" }
     */
    readonly tls?: TlsSettings;
    /**
     * The nginx image reference; pin a tag or digest.
     * @default "nginx:1.28.0"
     */
    readonly nginxImage?: string;
    /**
     * The registry image reference; pin a tag or digest.
     * @default "registry:3.0.0" (registry 2 stays selectable: "registry:2.8.3")
     */
    readonly registryImage?: string;
    /**
     * Where images are kept: a Docker volume on this host, or an S3 bucket (AWS, or an
     * S3-compatible server such as MinIO). `dataVolumeName` and `deleteDataOnDestroy` apply to
     * filesystem storage only. Switching kinds does not move images: the volume is kept.
     * @default { kind: "filesystem" }
     */
    readonly storage?: RegistryStorage;
    /**
     * The name of the Docker volume holding the images; name an existing volume to adopt its data.
     * @default "<name>-data"
     */
    readonly dataVolumeName?: string;
    /**
     * Delete the data volume, and every pushed image in it, on `pulumi destroy` or replacement.
     * @default false (the volume is kept and a later `up` serves its images again)
     */
    readonly deleteDataOnDestroy?: boolean;
    /**
     * Turns on the registry's delete API (`DELETE` of manifests and blobs), which garbage
     * collection needs; who may use it is still up to each user's grants. A grant of `delete`
     * turns it on by itself; `false` with such a grant is refused.
     * @default false, or true when a user has a grant of delete
     */
    readonly deleteEnabled?: boolean;
    /**
     * Limits on failed logins, in both auth modes: past them an address is refused with 429 and
     * `Retry-After` before any password is checked.
     * @default { enabled: true, maxFailures: 10, maxFailuresPerAddress: 30, windowSeconds: 60, cooldownSeconds: 60, maxCooldownSeconds: 3600 }
     */
    readonly loginThrottle?: LoginThrottle;
    /**
     * How long a write waits while garbage collection holds the registry (`scripts/gc.sh`), in
     * seconds, 1 to 3600, before it gets 503 with `Retry-After`.
     * @default 120
     */
    readonly writeHoldSeconds?: number;
    /**
     * The image of the guard, which limits failed logins and holds writes during garbage
     * collection: any Node.js 20 or later with `node` on the PATH; pin a tag or digest. In token
     * mode the token service is the guard, and runs on this image unless `auth.tokenServiceImage`
     * names another.
     * @default "node:22.23.5-bookworm-slim"
     */
    readonly guardImage?: string;
    /**
     * Tags that never change once pushed, per repository pattern: a push of such a tag that
     * exists already, a delete of it, and a delete by digest in such a repository are refused
     * with `denied`, naming the rule. Enforced by nginx in both auth modes.
     * @default [] (every tag may move)
     */
    readonly immutableTags?: ImmutableTagRule[];
    /**
     * Tag retention per repository pattern: how many tags to keep, how old they may grow, which
     * are always kept, and whether untagged manifests go. Checked here; applied by `npm run
     * retention -- --apply STACK`, never by `pulumi up`.
     * @default [] (every tag is kept)
     */
    readonly retention?: RetentionRule[];
    /**
     * Webhooks: endpoints the registry POSTs an event to for every push, pull and delete, from a
     * queue of their own, retried with back-off, so that a receiver that is down never holds up a
     * client. Registry 3 reads them; 2.8 ignores them.
     * @default [] (none)
     */
    readonly notifications?: NotificationEndpoint[];
    /**
     * Pull-through mirrors: each serves an upstream registry's repositories under its name
     * (`HOST/hub/library/debian:12` pulls `library/debian:12` from the upstream once, then from
     * its cache), behind the same TLS and users; the grants apply to the names as clients write
     * them, and writes are refused. Each is a registry of its own in proxy mode, with its cache
     * under `mirrors/NAME` in the registry's storage.
     * @default [] (none)
     */
    readonly mirrors?: RegistryMirror[];
    /**
     * The audit trail: nginx writes one JSON line per manifest pulled, pushed or deleted, blob
     * deleted, and login, refused or not (time, user, client address, action, repository, tag
     * or digest, status, bytes), to its output, which the runtime keeps in rotated log files.
     * In token mode a line names the user of the request's token, which nginx asks the token
     * service to verify and read.
     * @default false
     */
    readonly auditLog?: boolean;
}

/** The data volume of filesystem storage. */
export interface CheckedDataVolume {
    /** The volume's name; undefined for the runtime's default, `<name>-data`. */
    readonly name: string | undefined;
    readonly deleteOnDestroy: boolean;
}

/** {@link RegistryArgs} checked, with defaults. */
export interface CheckedRegistryArgs {
    /** The host name clients use. */
    readonly domain: string;
    /** The data volume; undefined with object storage. */
    readonly dataVolume: CheckedDataVolume | undefined;
    readonly nginxImage: string;
    readonly registryImage: string;
    /** The users' grants, checked. */
    readonly users: Required<UserAccess>[];
    readonly deleteEnabled: boolean;
    readonly auth: CheckedAuth;
    readonly port: number;
    readonly storage: CheckedStorage;
    readonly bcryptCost: number;
    /** The failed-login limits; undefined when turned off. */
    readonly loginThrottle: LoginThrottleSettings | undefined;
    readonly writeHoldSeconds: number;
    /** The guard's image: basic mode's guard, and in token mode the token service unless `auth.tokenServiceImage` says. */
    readonly guardImage: string;
    /** The immutable tag rules, checked; none when unset. */
    readonly immutableTags: readonly ImmutableTagRule[];
    /** The retention rules, checked; none when unset. */
    readonly retention: readonly RetentionRule[];
    /** The webhook endpoints, checked; none when unset. */
    readonly notifications: readonly CheckedNotificationEndpoint[];
    /** The pull-through mirrors, checked; none when unset. */
    readonly mirrors: readonly CheckedMirror[];
    readonly auditLog: boolean;
}

/**
 * Whether the registry's delete API is on: as asked, else when some of the (checked) users may
 * delete; never off under a delete grant.
 */
export function checkDeleteEnabled(deleteEnabled: unknown, users: readonly Required<UserAccess>[]): boolean {
    const granted = anyDeleteGranted(users);
    const asked = deleteEnabled === undefined ? undefined : validateBoolean("deleteEnabled", deleteEnabled);
    if (asked === false && granted) {
        throw new InvalidArgumentError("deleteEnabled", "is false, but a user has a grant of delete; remove the grant or the setting");
    }
    return asked ?? granted;
}

/** Checks {@link RegistryArgs} without creating anything, each refusal naming its field. */
export function checkRegistryArgs(args: RegistryArgs): CheckedRegistryArgs {
    const auth = validateAuth("auth", args.auth);
    const storage = validateStorage("storage", args.storage);
    if (storage.kind === StorageKind.S3) {
        for (const field of ["dataVolumeName", "deleteDataOnDestroy"] as const) {
            if (args[field] !== undefined) {
                throw new InvalidArgumentError(field, "applies to filesystem storage only; remove it, or use storage kind filesystem");
            }
        }
    }
    const domain = validateDomain("domain", args.domain);
    checkTlsMaterialArgs({ ...args.tls, domain: args.domain }, "tls.");
    const bcryptCost = args.bcryptCost ?? defaultBcryptCostFor(auth.mode);
    checkHtpasswdArgs({ users: args.users, bcryptCost });
    const users = validateUserAccess("users", args.users);
    const guardImage = validateImageReference("guardImage", args.guardImage ?? defaults.guardImage);
    return {
        domain,
        dataVolume:
            storage.kind === StorageKind.Filesystem
                ? {
                      name: args.dataVolumeName,
                      deleteOnDestroy: validateBoolean("deleteDataOnDestroy", args.deleteDataOnDestroy ?? defaults.deleteDataOnDestroy),
                  }
                : undefined,
        nginxImage: validateImageReference("nginxImage", args.nginxImage ?? defaults.nginxImage),
        registryImage: validateImageReference("registryImage", args.registryImage ?? defaults.registryImage),
        users,
        deleteEnabled: checkDeleteEnabled(args.deleteEnabled, users),
        // In token mode the token service is the guard: it runs on guardImage unless told otherwise.
        auth:
            auth.mode === AuthMode.Token && args.auth?.tokenServiceImage === undefined && args.guardImage !== undefined
                ? { ...auth, tokenServiceImage: guardImage }
                : auth,
        port: validatePort("port", args.port ?? defaults.port),
        storage,
        bcryptCost,
        loginThrottle: validateLoginThrottle("loginThrottle", args.loginThrottle),
        writeHoldSeconds: validateWriteHoldSeconds("writeHoldSeconds", args.writeHoldSeconds),
        guardImage,
        immutableTags: validateImmutableTags("immutableTags", args.immutableTags),
        retention: validateRetention("retention", args.retention),
        notifications: validateNotifications("notifications", args.notifications),
        mirrors: validateMirrors("mirrors", args.mirrors),
        auditLog: validateBoolean("auditLog", args.auditLog ?? auditLogDefault),
    };
}

/** `HOST:PORT` as clients write it; the port is left out when it is 443. */
export function registryHost(domain: string, port: number): string {
    return port === 443 ? domain : `${domain}:${port}`;
}
