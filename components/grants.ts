/**
 * The grant model: who may do what on which repositories, and the one place where a repository
 * pattern becomes a regular expression. It imports nothing, so every enforcement point (nginx's
 * rendered config, the token service in its own container) uses the same definitions and two
 * of them cannot disagree. Validation of user input is in `access.ts`.
 */
/** What a grant allows on the repositories it names. */
export const AccessAction = {
    /** `GET`/`HEAD` of manifests, blobs, tags and referrers. */
    Pull: "pull",
    /** Uploads (`POST`/`PATCH`/`PUT`) and manifest `PUT`. */
    Push: "push",
    /** `DELETE` of manifests and blobs; turns the registry's delete API on. */
    Delete: "delete",
} as const;
/** One of {@link AccessAction}'s values. */
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

/** What a user may do: the grants and the catalog right, as users write them. */
export interface UserGrants {
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

/** A user's access as the proxy enforces it. */
export interface UserAccess extends UserGrants {
    /** The user's login name. */
    readonly username: string;
}

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

/** Whether `name` is a repository name in the distribution spec's grammar (no wildcards). */
export function isRepositoryName(name: string): boolean {
    return repositoryNamePattern.test(name);
}

/** Whether repository `name` (a plain name, slashes unencoded) matches one of `patterns`. */
export function repositoryMatches(name: string, patterns: readonly string[]): boolean {
    return isRepositoryName(name) && patterns.some((p) => new RegExp(`^${patternRegex(p)}$`).test(name));
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
