/** Tag retention: the rules' checks, and what the plan keeps and deletes, and why. */
import { validateImmutableTags } from "../components/immutableTags";
import { deletesUntagged, HeldTag, planRepository, validateRetention } from "../components/retention";

const now = new Date("2026-12-06T12:00:00Z");
const daysAgo = (days: number) => new Date(now.getTime() - days * 24 * 60 * 60 * 1000);
/** Twelve tags, one a day, oldest first: b01, v1, b02, b03, v2, b04, b05, b06, v3, b07, b08, b09. */
const twelve: HeldTag[] = ["b01", "v1", "b02", "b03", "v2", "b04", "b05", "b06", "v3", "b07", "b08", "b09"].map((tag, i) => ({
    tag,
    digest: `sha256:${String(i).padStart(64, "0")}`,
    created: daysAgo(12 - i),
}));
const verdicts = (decisions: ReturnType<typeof planRepository>) => decisions.map((d) => [d.tag, d.delete ? "delete" : "keep", d.reason]);

test("newest 5 plus v*: keeps exactly those, newest first, each with its reason", () => {
    const rules = validateRetention("retention", [{ repositories: ["team/**"], keepNewest: 5, keepTags: ["v*"] }]);
    expect(verdicts(planRepository("team/app", twelve, rules, [], now))).toEqual([
        ["b09", "keep", "among the newest 5"],
        ["b08", "keep", "among the newest 5"],
        ["b07", "keep", "among the newest 5"],
        ["v3", "keep", "matches v*"],
        ["b06", "keep", "among the newest 5"],
        ["b05", "delete", "not among the newest 5"],
        ["b04", "delete", "not among the newest 5"],
        ["v2", "keep", "matches v*"],
        ["b03", "delete", "not among the newest 5"],
        ["b02", "delete", "not among the newest 5"],
        ["v1", "keep", "matches v*"],
        ["b01", "delete", "not among the newest 5"],
    ]);
});

test("older than D days goes; an immutable tag never does; a tag without a time counts as the oldest", () => {
    const rules = validateRetention("retention", [{ repositories: ["**"], maxAgeDays: 3 }]);
    const immutable = validateImmutableTags("immutableTags", [{ repositories: ["team/app"], tags: ["b01"] }]);
    const decisions = planRepository(
        "team/app",
        [...twelve, { tag: "odd", digest: "sha256:1", created: undefined }],
        rules,
        immutable,
        now,
    );
    expect(verdicts(decisions).filter(([, verdict]) => verdict === "keep")).toEqual([
        ["b09", "keep", "younger than 3 days"],
        ["b08", "keep", "younger than 3 days"],
        ["b07", "keep", "younger than 3 days"],
        ["b01", "keep", "immutable (immutableTags[0])"],
    ]);
    expect(decisions.find((d) => d.tag === "odd")).toMatchObject({ delete: true, reason: "no creation time" });
    expect(decisions.find((d) => d.tag === "v3")).toMatchObject({ delete: true, reason: "older than 3 days" });
});

test("the first rule a repository matches applies; a repository no rule covers is left alone", () => {
    const rules = validateRetention("retention", [
        { repositories: ["team/keep-all"], deleteUntagged: true },
        { repositories: ["team/*"], keepNewest: 1 },
    ]);
    expect(planRepository("team/keep-all", twelve, rules, [], now).filter((d) => d.delete)).toEqual([]);
    expect(
        planRepository("team/app", twelve, rules, [], now)
            .filter((d) => !d.delete)
            .map((d) => d.tag),
    ).toEqual(["b09"]);
    expect(planRepository("other/app", twelve, rules, [], now)).toEqual([]);
    expect(deletesUntagged(rules)).toBe(true);
    expect(deletesUntagged(rules.slice(1))).toBe(false);
});

test.each([
    [{ repositories: ["team/**"] }, "retention[0]: deletes nothing; set keepNewest, maxAgeDays or deleteUntagged: true"],
    [{ repositories: [], keepNewest: 5 }, "retention[0].repositories: must be a non-empty list of repository patterns"],
    [{ repositories: ["Team"], keepNewest: 5 }, 'retention[0].repositories[0]: "Team" is not a repository pattern'],
    [
        { repositories: ["team/**"], keepNewest: 0 },
        "retention[0].keepNewest: 0 is not a count of tags; expected an integer from 1 to 100000",
    ],
    [{ repositories: ["team/**"], maxAgeDays: 1.5 }, "retention[0].maxAgeDays: 1.5 is not a number of days"],
    [{ repositories: ["team/**"], keepNewest: 5, keepTags: ["v/1"] }, 'retention[0].keepTags[0]: "v/1" is not a tag pattern'],
    [{ repositories: ["team/**"], keepNewest: 5, keepTags: "v*" }, 'retention[0].keepTags: "v*" is not a list'],
    [{ repositories: ["team/**"], keepNewest: 5, keepLast: 2 }, "retention[0].keepLast: is not a retention setting"],
])("refuses %j, naming the field", (rule, message) => {
    expect(() => validateRetention("retention", [rule])).toThrow(message);
});
