/**
 * Immutable tags: per repository pattern, a tag that exists cannot be pushed again (moved to
 * other content) or deleted; new tags may be pushed. nginx enforces it in both auth modes, before
 * a write reaches the registry: it asks the registry whether the tag exists (a `HEAD` of the
 * manifest, with the writer's own credentials) and refuses the push with `denied` naming the
 * rule. A manifest of such a repository is deleted by tag only, and never by an immutable tag:
 * a delete by digest, which would take every tag of that manifest with it, is refused there.
 */
import { validatePattern } from "./access";
import { patternRegex } from "./grants";
import { checkKnownKeys, describe, InvalidArgumentError, keysOf } from "./validation";

/** One rule: the tags matching `tags` in the repositories matching `repositories` never change once pushed. */
export interface ImmutableTagRule {
    /**
     * Repository patterns, in the grants' grammar: `*` matches within one segment, `**` any
     * number of segments (`prod/**`).
     */
    readonly repositories: string[];
    /** Tag patterns, `*` matching any characters of a tag (`v*`, `release-*`, `*`). */
    readonly tags: string[];
}

const ruleKeys = keysOf<ImmutableTagRule>()(["repositories", "tags"]);

/** A tag, as the distribution spec's grammar allows it, with `*` for any characters of one. */
const tagPattern = /^[A-Za-z0-9_*][A-Za-z0-9._*-]{0,127}$/;

/** A tag pattern, else a refusal naming `field`. */
export function validateTagPattern(field: string, value: unknown): string {
    if (typeof value !== "string" || !tagPattern.test(value)) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not a tag pattern; expected a tag (letters, digits, "_", "." and "-", not starting with "." or "-") ` +
                `in which "*" matches any characters, e.g. v*, release-*, *`,
        );
    }
    return value;
}

function nonEmptyList(field: string, value: unknown, example: string): unknown[] {
    if (!Array.isArray(value) || value.length === 0) {
        throw new InvalidArgumentError(field, `must be a non-empty list of patterns, e.g. ${example}`);
    }
    return value;
}

/** Checks the rules (named `field`); none when unset. */
export function validateImmutableTags(field: string, value: unknown): ImmutableTagRule[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not a list; expected rules such as [{repositories: [prod/**], tags: [v*]}]`,
        );
    }
    return value.map((rule, i) => {
        const at = `${field}[${i}]`;
        const given = checkKnownKeys(at, rule, ruleKeys, "a rule setting", "a rule, {repositories: [PATTERN...], tags: [PATTERN...]}");
        return {
            repositories: nonEmptyList(`${at}.repositories`, given.repositories, "[prod/**]").map((p, j) =>
                validatePattern(`${at}.repositories[${j}]`, p),
            ),
            tags: nonEmptyList(`${at}.tags`, given.tags, "[v*]").map((p, j) => validateTagPattern(`${at}.tags[${j}]`, p)),
        };
    });
}

/** What nginx does with a write under the rules: `allowed`, `tag_check` (a push of a rule's tag) or `immutable_refused`. */
export const ImmutableGate = {
    Allowed: "allowed",
    TagCheck: "tag_check",
    Refused: "immutable_refused",
} as const;

/** A tag pattern as a regular expression of the tag's characters. */
function tagRegex(pattern: string): string {
    return pattern
        .split("*")
        .map((part) => part.replace(/\./g, "\\."))
        .join("[A-Za-z0-9._-]*");
}

/** Whether `tag` matches one of the tag patterns. */
export function tagMatches(tag: string, patterns: readonly string[]): boolean {
    return patterns.some((pattern) => new RegExp(`^${tagRegex(pattern)}$`).test(tag));
}

/** How a refusal names rule `index`: where it is set, and what it covers. */
export function ruleDescription(rule: ImmutableTagRule, index: number): string {
    return `immutableTags[${index}]: tags ${rule.tags.join(", ")} in ${rule.repositories.join(", ")}`;
}

/**
 * nginx `map` entries from `"$request_method $request_uri"` to the gate and to the rule's
 * description, in the rules' order (nginx takes the first regex that matches).
 */
export function immutableMapEntries(rules: readonly ImmutableTagRule[]): { regex: string; gate: string; rule: string }[] {
    return rules.flatMap((rule, i) => {
        const repositories = `(?:${rule.repositories.map(patternRegex).join("|")})`;
        const tags = `(?:${rule.tags.map(tagRegex).join("|")})`;
        const manifest = (reference: string) => `/v2/${repositories}/manifests/${reference}(?:\\?.*)?$`;
        const description = ruleDescription(rule, i);
        return [
            { regex: `^PUT ${manifest(tags)}`, gate: ImmutableGate.TagCheck, rule: description },
            { regex: `^DELETE ${manifest(tags)}`, gate: ImmutableGate.Refused, rule: description },
            { regex: `^DELETE ${manifest("[A-Za-z0-9_+.-]+:[A-Fa-f0-9]+")}`, gate: ImmutableGate.Refused, rule: description },
        ];
    });
}
