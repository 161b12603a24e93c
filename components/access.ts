/**
 * Who may do what, as users write it: the validation of grants, on top of the grant model in
 * `grants.ts`.
 */
import { HtpasswdUser } from "./htpasswdCredentials";
import { AccessAction, AccessGrant, isRepositoryName, unrestrictedGrants, UserAccess, UserGrants } from "./grants";
import { checkKnownKeys, describe, InvalidArgumentError, keysOf, validateBoolean } from "./validation";

/** A user of an {@link AuthenticatedRegistry}: credentials and what they may do. */
export interface RegistryUser extends HtpasswdUser, UserGrants {}

/** The settings of a user, as the stack config and the components accept them. */
export const registryUserKeys = keysOf<RegistryUser>()(["username", "password", "access", "catalog"]);

const grantKeys = keysOf<AccessGrant>()(["repositories", "actions"]);

/**
 * Checks a repository pattern: wildcards stand for name characters, so with each `**` and `*`
 * replaced by a letter the pattern must be a repository name; three stars in a row mean nothing.
 */
export function validatePattern(field: string, value: unknown): string {
    if (typeof value !== "string" || /\*\*\*/.test(value) || !isRepositoryName(value.replace(/\*\*?/g, "x"))) {
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
    const { repositories, actions } = checkKnownKeys(
        field,
        value,
        grantKeys,
        "a grant setting",
        "a grant, {repositories: [PATTERN...], actions: [pull|push|delete...]}",
    );
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
        if (user.catalog !== undefined) validateBoolean(`${at}.catalog`, user.catalog);
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
