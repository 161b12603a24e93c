/**
 * Who may do what: the grant model, its validation, and the one place where a repository
 * pattern becomes a regular expression. Pure: nginx's config is rendered from it, and anything
 * else that enforces access must use the same functions, so two enforcement points cannot
 * disagree.
 */
import { HtpasswdUser } from "./htpasswdCredentials";
import { describe, InvalidArgumentError } from "./validation";

/** What a grant allows on the repositories it names. */
export const AccessAction = {
    /** `GET`/`HEAD` of manifests, blobs, tags and referrers. */
    Pull: "pull",
    /** Uploads (`POST`/`PATCH`/`PUT`) and manifest `PUT`. */
    Push: "push",
    /** `DELETE` of manifests and blobs; turns the registry's delete API on. */
    Delete: "delete",
} as const;
export type AccessAction = (typeof AccessAction)[keyof typeof AccessAction];

/** One grant: the actions a user may take on the repositories its patterns match. */
export interface AccessGrant {
    /**
     * Repository name patterns: `*` matches within one path segment, `**` any number of
     * segments, e.g. `team-a/**`, `base/*`, `**`. Otherwise the registry's name grammar.
     */
    readonly repositories: string[];
    /** The actions granted; `push` and `delete` need `pull` in the same grant. */
    readonly actions: AccessAction[];
}

/** A user's access as the proxy enforces it. */
export interface UserAccess {
    readonly username: string;
    /**
     * The user's grants; `undefined` keeps the behaviour from before grants existed: pull and
     * push on every repository, and the catalog.
     */
    readonly access?: AccessGrant[];
    /**
     * May list every repository name with `GET /v2/_catalog`.
     * @default false with `access` (the catalog names repositories the user may not read), true without
     */
    readonly catalog?: boolean;
}

/** A user of an {@link AuthenticatedRegistry}: credentials and what they may do. */
export interface RegistryUser extends HtpasswdUser, Omit<UserAccess, "username"> {}

/** The grants of a user without `access`: what every user could do before grants existed. */
export const unrestrictedGrants: readonly AccessGrant[] = [{ repositories: ["**"], actions: [AccessAction.Pull, AccessAction.Push] }];

/** One path component of a repository name, from the distribution spec (regular expression source). */
export const repositoryComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
/**
 * The separator of a name's components where the registry decodes the name first (a query
 * parameter): "/" or its percent-encoding, and nothing else encoded.
 */
export const encodedSlash = "(?:/|%2[Ff])";
/** A repository name, as the distribution spec's grammar defines it. */
const repositoryNamePattern = new RegExp(`^${repositoryComponent}(?:/${repositoryComponent})*$`);

/**
 * Checks a repository pattern: wildcards stand for name characters, so with each `**` and `*`
 * replaced by a letter the pattern must be a repository name; three stars in a row mean nothing.
 */
function validatePattern(field: string, value: unknown): string {
    if (typeof value !== "string" || /\*\*\*/.test(value) || !repositoryNamePattern.test(value.replace(/\*\*?/g, "x"))) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not a repository pattern; expected a repository name (lower-case letters and digits, ` +
                `separated by ".", "_", "__" or "-", in "/"-separated segments) in which "*" matches within one segment ` +
                `and "**" any number of segments, e.g. team-a/**, base/*, **`,
        );
    }
    return value;
}

function validateGrant(field: string, value: unknown): AccessGrant {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not a grant; expected {repositories: [PATTERN...], actions: [pull|push|delete...]}`,
        );
    }
    for (const key of Object.keys(value)) {
        if (key !== "repositories" && key !== "actions") {
            throw new InvalidArgumentError(`${field}.${key}`, "is not a grant setting; expected repositories or actions");
        }
    }
    const { repositories, actions } = value as Record<string, unknown>;
    if (!Array.isArray(repositories) || repositories.length === 0) {
        throw new InvalidArgumentError(`${field}.repositories`, "must be a non-empty list of repository patterns, e.g. [team-a/**]");
    }
    if (!Array.isArray(actions) || actions.length === 0) {
        throw new InvalidArgumentError(`${field}.actions`, "must be a non-empty list of actions: pull, push, delete");
    }
    const known = Object.values(AccessAction) as string[];
    actions.forEach((action, i) => {
        if (!known.includes(action)) {
            throw new InvalidArgumentError(
                `${field}.actions[${i}]`,
                `${describe(action)} is not an action; expected one of ${known.join(", ")}`,
            );
        }
    });
    for (const needsPull of [AccessAction.Push, AccessAction.Delete]) {
        if (actions.includes(needsPull) && !actions.includes(AccessAction.Pull)) {
            throw new InvalidArgumentError(
                `${field}.actions`,
                `grants ${needsPull} without pull; add pull to the same grant (clients read what they ${needsPull})`,
            );
        }
    }
    return {
        repositories: repositories.map((p, i) => validatePattern(`${field}.repositories[${i}]`, p)),
        actions: [...new Set(actions as AccessAction[])],
    };
}

/**
 * Checks each user's `access` and `catalog`; `field` is the users' field (`users`). Returns the
 * users with their effective grants and catalog right filled in.
 */
export function validateUserAccess(field: string, users: readonly UserAccess[]): Required<UserAccess>[] {
    return users.map((user, i) => {
        const at = `${field}[${i}]`;
        if (user.catalog !== undefined && typeof user.catalog !== "boolean") {
            throw new InvalidArgumentError(`${at}.catalog`, `${describe(user.catalog)} is not a boolean; expected true or false`);
        }
        if (user.access === undefined) {
            return { username: user.username, access: [...unrestrictedGrants], catalog: user.catalog ?? true };
        }
        if (!Array.isArray(user.access) || user.access.length === 0) {
            throw new InvalidArgumentError(
                `${at}.access`,
                "must be a non-empty list of grants, e.g. [{repositories: [team-a/**], actions: [pull, push]}]; leave it out for pull and push everywhere",
            );
        }
        return {
            username: user.username,
            access: user.access.map((grant, j) => validateGrant(`${at}.access[${j}]`, grant)),
            catalog: user.catalog ?? false,
        };
    });
}

/** True when any user may delete: the registry's delete API is on only then. */
export function anyDeleteGranted(users: readonly Required<UserAccess>[]): boolean {
    return users.some((u) => u.access.some((g) => g.actions.includes(AccessAction.Delete)));
}

/**
 * The regular expression (source, unanchored) for a repository pattern. A name may arrive with
 * its slashes percent-encoded as `%2F` (a `from=` query parameter, which the registry decodes);
 * the expression accepts either form and nothing else that is encoded. It uses no backslash
 * escape but `\.`, so it can be written into nginx's config as it is.
 */
export function patternRegex(pattern: string): string {
    const slash = encodedSlash;
    const segmentChar = "[a-z0-9._-]";
    return pattern
        .split(/(\*\*|\*|\/)/)
        .filter((part) => part !== "")
        .map((part) => {
            switch (part) {
                case "**":
                    return `(?:${segmentChar}|${slash})+`;
                case "*":
                    return `${segmentChar}+`;
                case "/":
                    return slash;
                default:
                    return part.replace(/\./g, "\\.");
            }
        })
        .join("");
}

/** The patterns of a user's grants that include `action`. */
export function patternsFor(user: Required<UserAccess>, action: AccessAction): string[] {
    return [...new Set(user.access.filter((g) => g.actions.includes(action)).flatMap((g) => g.repositories))];
}
