/**
 * Tag retention: per repository pattern, which tags to keep and which to delete, and whether
 * manifests no tag points to go too. The rules are checked at preview like every argument;
 * `npm run retention -- [--apply] STACK` (scripts/retention.ts) applies them through the
 * registry API and then collects the garbage. Planning is a pure function of the rules and what
 * the registry holds, so every decision is unit-tested.
 */
import { validatePattern } from "./access";
import { repositoryMatches } from "./grants";
import { ImmutableTagRule, tagMatches, validateTagPattern } from "./immutableTags";
import { checkKnownKeys, describe, InvalidArgumentError, keysOf, validateBoolean } from "./validation";

/** One rule: in the repositories matching `repositories`, what is kept. */
export interface RetentionRule {
    /** Repository patterns, in the grants' grammar (`team-a/**`, `*`). The first rule a repository matches applies to it. */
    readonly repositories: string[];
    /**
     * Keep the newest N tags, by their image's creation time; older ones are deleted.
     * @default undefined (no limit by count)
     */
    readonly keepNewest?: number;
    /**
     * Delete tags whose image is older than this many days.
     * @default undefined (no limit by age)
     */
    readonly maxAgeDays?: number;
    /**
     * Tag patterns that are always kept (`v*`), `*` matching any characters.
     * @default []
     */
    readonly keepTags?: string[];
    /**
     * Delete manifests no tag points to, when the garbage is collected.
     * @default false
     */
    readonly deleteUntagged?: boolean;
}

const ruleKeys = keysOf<RetentionRule>()(["repositories", "keepNewest", "maxAgeDays", "keepTags", "deleteUntagged"]);

function wholeNumber(field: string, value: unknown, max: number, what: string): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
        throw new InvalidArgumentError(field, `${describe(value)} is not ${what}; expected an integer from 1 to ${max}`);
    }
    return value;
}

/** Checks the rules (named `field`); none when unset. */
export function validateRetention(field: string, value: unknown): RetentionRule[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not a list; expected rules such as [{repositories: [team-a/**], keepNewest: 10}]`,
        );
    }
    return value.map((rule, i) => {
        const at = `${field}[${i}]`;
        const given = checkKnownKeys(
            at,
            rule,
            ruleKeys,
            "a retention setting",
            "a rule, {repositories: [PATTERN...], keepNewest?, maxAgeDays?, keepTags?, deleteUntagged?}",
        );
        if (!Array.isArray(given.repositories) || given.repositories.length === 0) {
            throw new InvalidArgumentError(`${at}.repositories`, "must be a non-empty list of repository patterns, e.g. [team-a/**]");
        }
        if (given.keepTags !== undefined && !Array.isArray(given.keepTags)) {
            throw new InvalidArgumentError(
                `${at}.keepTags`,
                `${describe(given.keepTags)} is not a list; expected tag patterns such as [v*]`,
            );
        }
        const checked: RetentionRule = {
            repositories: given.repositories.map((p, j) => validatePattern(`${at}.repositories[${j}]`, p)),
            ...(given.keepNewest === undefined
                ? {}
                : { keepNewest: wholeNumber(`${at}.keepNewest`, given.keepNewest, 100_000, "a count of tags") }),
            ...(given.maxAgeDays === undefined
                ? {}
                : { maxAgeDays: wholeNumber(`${at}.maxAgeDays`, given.maxAgeDays, 36_500, "a number of days") }),
            ...(given.keepTags === undefined
                ? {}
                : { keepTags: (given.keepTags as unknown[]).map((p, j) => validateTagPattern(`${at}.keepTags[${j}]`, p)) }),
            ...(given.deleteUntagged === undefined
                ? {}
                : { deleteUntagged: validateBoolean(`${at}.deleteUntagged`, given.deleteUntagged) }),
        };
        if (checked.keepNewest === undefined && checked.maxAgeDays === undefined && checked.deleteUntagged !== true) {
            throw new InvalidArgumentError(at, "deletes nothing; set keepNewest, maxAgeDays or deleteUntagged: true");
        }
        return checked;
    });
}

/** A tag as the registry holds it. */
export interface HeldTag {
    readonly tag: string;
    /** The manifest's digest. */
    readonly digest: string;
    /** When its image was made (the image config's `created`); undefined when it has none. */
    readonly created: Date | undefined;
}

/** What becomes of one tag, and why. */
export interface TagDecision {
    readonly repository: string;
    readonly tag: string;
    readonly digest: string;
    readonly delete: boolean;
    /** Why, in words for the plan's listing: `newest 5`, `matches v*`, `older than 30 days`, `immutable`. */
    readonly reason: string;
}

/**
 * What the rules keep and delete of `repository`'s tags, newest first; none when no rule covers
 * it. A tag an immutable tag rule covers is never deleted (nginx would refuse it anyway).
 */
export function planRepository(
    repository: string,
    tags: readonly HeldTag[],
    rules: readonly RetentionRule[],
    immutable: readonly ImmutableTagRule[],
    now: Date,
): TagDecision[] {
    const rule = rules.find((r) => repositoryMatches(repository, r.repositories));
    if (rule === undefined) return [];
    // Newest first; a tag without a time counts as the oldest, and ties go by name.
    const time = (t: HeldTag) => t.created?.getTime() ?? -Infinity;
    const ordered = [...tags].sort((a, b) => time(b) - time(a) || a.tag.localeCompare(b.tag));
    const dayMs = 24 * 60 * 60 * 1000;
    return ordered.map((held, rank) => {
        const decide = (deleteIt: boolean, reason: string): TagDecision => ({
            repository,
            tag: held.tag,
            digest: held.digest,
            delete: deleteIt,
            reason,
        });
        const immutableRule = immutable.findIndex((r) => repositoryMatches(repository, r.repositories) && tagMatches(held.tag, r.tags));
        if (immutableRule >= 0) return decide(false, `immutable (immutableTags[${immutableRule}])`);
        const kept = (rule.keepTags ?? []).find((pattern) => tagMatches(held.tag, [pattern]));
        if (kept !== undefined) return decide(false, `matches ${kept}`);
        if (rule.keepNewest !== undefined && rank >= rule.keepNewest) return decide(true, `not among the newest ${rule.keepNewest}`);
        if (
            rule.maxAgeDays !== undefined &&
            (held.created === undefined || now.getTime() - held.created.getTime() > rule.maxAgeDays * dayMs)
        ) {
            return decide(true, held.created === undefined ? "no creation time" : `older than ${rule.maxAgeDays} days`);
        }
        return decide(
            false,
            rule.keepNewest !== undefined ? `among the newest ${rule.keepNewest}` : `younger than ${rule.maxAgeDays} days`,
        );
    });
}

/** Whether any rule asks for manifests no tag points to to be deleted. */
export function deletesUntagged(rules: readonly RetentionRule[]): boolean {
    return rules.some((rule) => rule.deleteUntagged === true);
}
