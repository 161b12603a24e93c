/**
 * The token service's decision: which of the requested scopes a user gets. Pure, and built on
 * the same grant model nginx's basic mode renders from, so a user may do the same things in
 * either mode.
 *
 * A scope is `TYPE:NAME:ACTION[,ACTION...]` (the distribution token specification); the name
 * may itself contain `:` (a registry host with a port), so the type ends at the first `:` and
 * the actions start after the last.
 */
import { AccessAction, isRepositoryName, patternsFor, repositoryMatches, UserAccess } from "../grants";

/** One entry of a token's `access` claim, as the registry reads it. */
export interface ResourceAccess {
    readonly type: string;
    readonly name: string;
    readonly actions: string[];
}

/** A scope the service cannot read: the request is refused with 400 and this message. */
export class InvalidScopeError extends Error {}

/** The most scopes one request may ask for; a client asks for one or two per repository. */
export const maxScopesPerRequest = 64;

const actionPattern = /^[a-z*]+$/;

/** Parses one scope; throws {@link InvalidScopeError} naming it when it is not `TYPE:NAME:ACTIONS`. */
export function parseScope(scope: string): ResourceAccess {
    const first = scope.indexOf(":");
    const last = scope.lastIndexOf(":");
    const type = scope.slice(0, first);
    const name = scope.slice(first + 1, last);
    const actions = scope.slice(last + 1).split(",");
    if (first <= 0 || last === first || name === "" || !/^[a-z0-9()]+$/.test(type) || !actions.every((a) => actionPattern.test(a))) {
        throw new InvalidScopeError(`${JSON.stringify(scope)} is not a scope; expected TYPE:NAME:ACTION[,ACTION...]`);
    }
    if (type === "repository" && !isRepositoryName(name)) {
        throw new InvalidScopeError(`${JSON.stringify(name)} in scope ${JSON.stringify(scope)} is not a repository name`);
    }
    return { type, name, actions: [...new Set(actions)] };
}

/**
 * The `scope` parameters of a request: repeated, and each may hold several scopes separated by
 * spaces (both forms are in use by clients).
 */
export function parseScopes(values: readonly string[]): ResourceAccess[] {
    const scopes = values.flatMap((v) => v.split(" ")).filter((s) => s !== "");
    if (scopes.length > maxScopesPerRequest) {
        throw new InvalidScopeError(`${scopes.length} scopes requested; at most ${maxScopesPerRequest} are accepted in one request`);
    }
    return scopes.map(parseScope);
}

/** The actions on repository `name` that `user`'s grants allow. */
function allowedOnRepository(user: Required<UserAccess>, name: string): Set<string> {
    return new Set(Object.values(AccessAction).filter((action) => repositoryMatches(name, patternsFor(user, action))));
}

/**
 * What `user` is granted of the requested scopes: for each, the requested actions the user's
 * grants allow, in the order asked; scopes with nothing allowed are left out, and scopes of the
 * same resource are merged. The catalog is `registry:catalog:*`, granted with the user's
 * catalog right. Unknown types and actions are granted nothing.
 */
export function grantScopes(user: Required<UserAccess>, requested: readonly ResourceAccess[]): ResourceAccess[] {
    const granted = new Map<string, ResourceAccess>();
    for (const scope of requested) {
        let allowed: Set<string>;
        if (scope.type === "repository") {
            allowed = allowedOnRepository(user, scope.name);
        } else if (scope.type === "registry" && scope.name === "catalog") {
            allowed = new Set(user.catalog ? ["*"] : []);
        } else {
            allowed = new Set();
        }
        const actions = scope.actions.filter((a) => allowed.has(a));
        if (actions.length === 0) continue;
        const key = `${scope.type}:${scope.name}`;
        const merged = granted.get(key);
        granted.set(key, { type: scope.type, name: scope.name, actions: [...new Set([...(merged?.actions ?? []), ...actions])] });
    }
    return [...granted.values()];
}
