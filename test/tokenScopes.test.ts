/**
 * The token service's scope parsing and granting, from the attacker's side: every scope a user
 * must not get is asked for here, next to the one the user does get.
 */
import { validateUserAccess } from "../components/access";
import {
    grantScopes,
    InvalidScopeError,
    maxScopesPerRequest,
    parseScope,
    parseScopes,
    ResourceAccess,
} from "../components/tokenService/scopes";
import { accessExample } from "./accessExample";

const [ci, node, teamA, auditor] = validateUserAccess("users", accessExample);
const repo = (name: string, ...actions: string[]): ResourceAccess => ({ type: "repository", name, actions });

describe("parseScope", () => {
    test.each([
        ["repository:team-a/app:pull,push", repo("team-a/app", "pull", "push")],
        ["repository:app:pull,pull", repo("app", "pull")],
        ["repository:a.b/c__d/e-f:delete", repo("a.b/c__d/e-f", "delete")],
        ["registry:catalog:*", { type: "registry", name: "catalog", actions: ["*"] }],
        ["repository(plugin):vieux/sshfs:pull", { type: "repository(plugin)", name: "vieux/sshfs", actions: ["pull"] }],
    ])("reads %s", (scope, expected) => {
        expect(parseScope(scope)).toEqual(expected);
    });

    test.each([
        [""],
        ["repository"],
        ["repository:app"],
        [":app:pull"],
        ["repository::pull"],
        ["repository:app:"],
        ["repository:app:pull,"],
        ["repository:app:PULL"],
        ["repository:app:pull;push"],
        ["repository:App:pull"],
        ["repository:a//b:pull"],
        ["repository:../etc:pull"],
        ["repository:/app:pull"],
        ["repository:app/:pull"],
        ["repository:app%2Fother:pull"],
        ["repository:localhost:5000/app:pull"],
        ["repository:team-a/**:pull"],
        ["Repository:app:pull"],
    ])("refuses %j, naming it", (scope) => {
        expect(() => parseScope(scope)).toThrow(InvalidScopeError);
        expect(() => parseScope(scope)).toThrow(JSON.stringify(scope));
    });
});

describe("parseScopes", () => {
    test("reads repeated parameters and space-separated scopes alike", () => {
        expect(parseScopes(["repository:a:pull repository:b:push", "registry:catalog:*"])).toEqual([
            repo("a", "pull"),
            repo("b", "push"),
            { type: "registry", name: "catalog", actions: ["*"] },
        ]);
    });

    test("no scope is no access asked for (docker login)", () => {
        expect(parseScopes([])).toEqual([]);
    });

    test(`refuses more than ${maxScopesPerRequest} scopes in one request`, () => {
        const many = Array.from({ length: maxScopesPerRequest + 1 }, (_, i) => `repository:r${i}:pull`);
        expect(parseScopes(many.slice(0, maxScopesPerRequest))).toHaveLength(maxScopesPerRequest);
        expect(() => parseScopes(many)).toThrow(`${maxScopesPerRequest + 1} scopes requested; at most ${maxScopesPerRequest}`);
        expect(() => parseScopes([many.join(" ")])).toThrow(InvalidScopeError);
    });

    test("one malformed scope refuses the whole request", () => {
        expect(() => parseScopes(["repository:a:pull", "repository:B:pull"])).toThrow(
            '"B" in scope "repository:B:pull" is not a repository name',
        );
    });
});

describe("grantScopes", () => {
    type Case = [string, (typeof ci)[], ResourceAccess[], ResourceAccess[]];
    test.each<Case>([
        ["a user without grants: pull and push anywhere", [ci], [repo("any/thing", "pull", "push")], [repo("any/thing", "pull", "push")]],
        ["a user without grants: no delete", [ci], [repo("app", "delete")], []],
        ["a pull-only node: pull", [node], [repo("team-a/app", "pull")], [repo("team-a/app", "pull")]],
        ["a pull-only node asking to push: pull only", [node], [repo("team-a/app", "pull", "push")], [repo("team-a/app", "pull")]],
        ["a pull-only node asking to delete: nothing", [node], [repo("team-a/app", "delete")], []],
        [
            "a team in its space: pull, push, delete",
            [teamA],
            [repo("team-a/x/y", "pull", "push", "delete")],
            [repo("team-a/x/y", "pull", "push", "delete")],
        ],
        ["a team on the shared base: pull only", [teamA], [repo("base/debian", "pull", "push")], [repo("base/debian", "pull")]],
        ["a team below base/*'s one segment: nothing", [teamA], [repo("base/debian/slim", "pull")], []],
        ["a team in another team's space: nothing", [teamA], [repo("team-b/app", "pull", "push")], []],
        ["a team on a name that only starts like its space: nothing", [teamA], [repo("team-ab/app", "pull")], []],
        ["a team on its space's bare name: nothing", [teamA], [repo("team-a", "pull")], []],
        [
            "the catalog for a user with the right",
            [auditor],
            [{ type: "registry", name: "catalog", actions: ["*"] }],
            [{ type: "registry", name: "catalog", actions: ["*"] }],
        ],
        ["the catalog for a user without it: nothing", [teamA], [{ type: "registry", name: "catalog", actions: ["*"] }], []],
        ["another registry resource: nothing", [ci], [{ type: "registry", name: "config", actions: ["*"] }], []],
        ["a wildcard action: nothing", [ci], [repo("app", "*")], []],
        ["an unknown action: nothing", [ci], [repo("app", "admin")], []],
        ["an unknown resource type: nothing", [ci], [{ type: "repository(plugin)", name: "app", actions: ["pull"] }], []],
        [
            "a mount: push on the target, pull on the source",
            [teamA],
            [repo("team-a/app", "pull", "push"), repo("base/debian", "pull")],
            [repo("team-a/app", "pull", "push"), repo("base/debian", "pull")],
        ],
        [
            "a mount out of another team's space: the target only",
            [teamA],
            [repo("team-a/app", "pull", "push"), repo("team-b/secret", "pull")],
            [repo("team-a/app", "pull", "push")],
        ],
        [
            "scopes of one repository merged",
            [teamA],
            [repo("team-a/app", "pull"), repo("team-a/app", "push")],
            [repo("team-a/app", "pull", "push")],
        ],
    ])("%s", (...[, [user], requested, expected]: Case) => {
        expect(grantScopes(user, requested)).toEqual(expected);
    });
});
