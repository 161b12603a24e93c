/**
 * Pull-through mirrors: one registry in distribution's proxy mode per mirror, behind the same
 * nginx, TLS and users, serving an upstream registry's repositories under the mirror's name
 * (`HOST/hub/library/debian:12` is the upstream's `library/debian:12`), with its cache under a
 * prefix of its own in the registry's storage. The grants apply to the names as clients write
 * them (`pull` on `hub/**`); a write to a mirror is refused as `denied`.
 */
import * as pulumi from "@pulumi/pulumi";
import { mirrorRolePrefix } from "./defaults";
import { isPending } from "./inputs";
import { checkKnownKeys, describe, InvalidArgumentError, keysOf } from "./validation";

/** A registry this one mirrors: pulls of `NAME/REPOSITORY` fetch `REPOSITORY` from it once and serve it from the cache after. */
export interface RegistryMirror {
    /**
     * The first path component its repositories are served under (`hub` serves
     * `HOST/hub/library/debian`): lower-case letters, digits and inner `-`, at most 32.
     */
    readonly name: string;
    /** The upstream registry, `https://HOST[:PORT]` (`https://registry-1.docker.io`), as the registry's network reaches it. */
    readonly remoteUrl: string;
    /**
     * The user the mirror logs in to the upstream as.
     * @default undefined (anonymous pulls)
     */
    readonly username?: pulumi.Input<string>;
    /**
     * That user's password or access token; pass it as a secret. Required with `username`.
     * @default undefined
     */
    readonly password?: pulumi.Input<string>;
    /**
     * How long cached content is kept after it was last fetched, as a Go duration (`168h`,
     * `30m`). A tag is checked against the upstream on every pull while the upstream answers;
     * the cache serves it when the upstream does not.
     * @default the registry's own, 168h (7 days)
     */
    readonly ttl?: string;
}

/** {@link RegistryMirror} checked. */
export interface CheckedMirror {
    readonly name: string;
    readonly remoteUrl: string;
    /** The login, when the upstream wants one. */
    readonly credentials: { readonly username: pulumi.Input<string>; readonly password: pulumi.Input<string> } | undefined;
    readonly ttl: string | undefined;
}

const mirrorKeys = keysOf<RegistryMirror>()(["name", "remoteUrl", "username", "password", "ttl"]);
/** A repository path component that is also a DNS label, so that it names a container, a Service or a Swarm service. */
const namePattern = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const remoteUrlPattern = /^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?\/?$/;
/** What Go's `time.ParseDuration` reads, in the units a cache lives for. */
const durationPattern = /^(?:[0-9]+(?:h|m|s))+$/;

/** Checks the mirrors (named `field`); none when unset. */
export function validateMirrors(field: string, value: unknown): CheckedMirror[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not a list; expected mirrors such as [{name: hub, remoteUrl: https://registry-1.docker.io}]`,
        );
    }
    const names = new Set<string>();
    return value.map((mirror, i) => {
        const at = `${field}[${i}]`;
        const given = checkKnownKeys(at, mirror, mirrorKeys, "a mirror setting", "a mirror, {name, remoteUrl, username?, password?, ttl?}");
        if (typeof given.name !== "string" || !namePattern.test(given.name)) {
            throw new InvalidArgumentError(
                `${at}.name`,
                `${describe(given.name)} is not a mirror name; expected lower-case letters, digits and inner "-", at most 32, e.g. hub`,
            );
        }
        if (names.has(given.name)) throw new InvalidArgumentError(`${at}.name`, `${describe(given.name)} names an earlier mirror too`);
        names.add(given.name);
        if (typeof given.remoteUrl !== "string" || !remoteUrlPattern.test(given.remoteUrl)) {
            throw new InvalidArgumentError(
                `${at}.remoteUrl`,
                `${describe(given.remoteUrl)} is not a registry URL; expected http(s)://HOST[:PORT], e.g. https://registry-1.docker.io`,
            );
        }
        const username = given.username;
        const password = given.password;
        if ((username === undefined) !== (password === undefined)) {
            const missing = username === undefined ? "username" : "password";
            throw new InvalidArgumentError(`${at}.${missing}`, "is required with the other of username and password");
        }
        for (const [key, credential] of [
            ["username", username],
            ["password", password],
        ] as const) {
            if (credential !== undefined && !isPending(credential) && (typeof credential !== "string" || credential.length === 0)) {
                throw new InvalidArgumentError(`${at}.${key}`, "must be a non-empty string; pass the password as a secret");
            }
        }
        if (given.ttl !== undefined && (typeof given.ttl !== "string" || !durationPattern.test(given.ttl))) {
            throw new InvalidArgumentError(
                `${at}.ttl`,
                `${describe(given.ttl)} is not a duration; expected hours, minutes or seconds, e.g. 168h or 30m`,
            );
        }
        return {
            name: given.name,
            remoteUrl: given.remoteUrl.replace(/\/$/, ""),
            credentials:
                username === undefined
                    ? undefined
                    : { username: username as pulumi.Input<string>, password: password as pulumi.Input<string> },
            ttl: given.ttl as string | undefined,
        };
    });
}

/** The role label of a mirror's registry (`mirror-hub`): also the name others reach it by, and the word its processes are named by. */
export function mirrorRole(name: string): string {
    return `${mirrorRolePrefix}${name}`;
}

/** Where a mirror keeps its cache, under the registry's storage root: beside the registry's own content, never in it. */
export function mirrorCacheDirectory(name: string): string {
    return `mirrors/${name}`;
}

/** The registry's environment that makes it `mirror`'s pull-through cache; the password is a secret entry. */
export function mirrorProxyEnvironment(mirror: CheckedMirror): pulumi.Input<string>[] {
    return [
        `REGISTRY_PROXY_REMOTEURL=${mirror.remoteUrl}`,
        ...(mirror.credentials === undefined
            ? []
            : [
                  pulumi.interpolate`REGISTRY_PROXY_USERNAME=${mirror.credentials.username}`,
                  pulumi.secret(pulumi.interpolate`REGISTRY_PROXY_PASSWORD=${mirror.credentials.password}`),
              ]),
        ...(mirror.ttl === undefined ? [] : [`REGISTRY_PROXY_TTL=${mirror.ttl}`]),
    ];
}
