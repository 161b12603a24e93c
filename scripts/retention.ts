/**
 * The retention rules of a stack, applied through the registry API (scripts/retention.sh runs
 * it; see there). Reads the stack's outputs on stdin (`pulumi stack output --json
 * --show-secrets`): the URL, the CA, the passwords, and the rules as deployed (`retention`,
 * `immutableTags`).
 *
 *   retention.ts [--apply] [--user NAME] SUMMARY_FILE
 *
 * Prints every tag of the repositories a rule covers, kept or deleted and why; with --apply
 * deletes the tags it would. Writes `{"deleted": N, "deleteUntagged": BOOL}` to SUMMARY_FILE for
 * the collection that follows.
 */
import * as fs from "fs";
import * as https from "https";
import { validateImmutableTags } from "../components/immutableTags";
import { manifestMediaTypes } from "../components/nginxConfig";
import { deletesUntagged, HeldTag, planRepository, TagDecision, validateRetention } from "../components/retention";

interface Answer {
    readonly status: number;
    readonly headers: Record<string, string | string[] | undefined>;
    readonly body: string;
}

function fail(message: string): never {
    console.error(`error: ${message}`);
    process.exit(1);
}

let apply = false;
let chosenUser: string | undefined;
const positional: string[] = [];
for (const [i, arg] of process.argv.slice(2).entries()) {
    if (arg === "--apply") apply = true;
    else if (arg === "--user") chosenUser = process.argv[i + 3];
    else if (process.argv[i + 1] !== "--user") positional.push(arg);
}
const summaryFile = positional[0] ?? fail("usage: retention.ts [--apply] [--user NAME] SUMMARY_FILE");

const outputs = JSON.parse(fs.readFileSync(0, "utf8")) as {
    url: string;
    host: string;
    caCertificatePem: string;
    passwords: Record<string, string>;
    retention?: unknown;
    immutableTags?: unknown;
};
const rules = validateRetention("retention", outputs.retention);
if (rules.length === 0) fail("the stack has no retention rules (authenticated-registry:retention): set them and run ./scripts/up.sh");
const immutable = validateImmutableTags("immutableTags", outputs.immutableTags);
const users = Object.keys(outputs.passwords);
const user =
    chosenUser ?? (users.length === 1 ? users[0] : fail(`name the user to act as with --user: the stack has ${users.length} users`));
const password = outputs.passwords[user] ?? fail(`the stack has no user ${user}`);
const { url, host, caCertificatePem: ca } = outputs;

function request(method: string, path: string, headers: Record<string, string>): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const req = https.request(`${url}${path}`, { method, ca, headers, agent: false }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk) => (body += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on("error", reject);
        req.end();
    });
}

const basic = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
/** Whether the registry wants tokens: its challenge to an anonymous request names a Bearer realm. */
let token = false;
/** Credentials for `scope`: the password in basic mode, a token from the token service in token mode. */
async function authorization(scope: string): Promise<string> {
    if (!token) return basic;
    const answer = await request("GET", `/token?service=${encodeURIComponent(host)}&scope=${encodeURIComponent(scope)}`, {
        Authorization: basic,
    });
    if (answer.status !== 200) fail(`no token for ${scope} as ${user}: HTTP ${answer.status}`);
    return `Bearer ${JSON.parse(answer.body).token}`;
}

async function json(method: string, path: string, scope: string, accept = "application/json"): Promise<Answer> {
    const answer = await request(method, path, { Authorization: await authorization(scope), Accept: accept });
    if (answer.status !== 200) fail(`${method} ${path} as ${user}: HTTP ${answer.status} ${answer.body.trim()}`);
    return answer;
}

/** Every entry of a paged list (`/v2/_catalog`, tags/list), following the registry's `Link: <...>; rel="next"`. */
async function paged(path: string, key: "repositories" | "tags", scope: string): Promise<string[]> {
    const entries: string[] = [];
    let next: string | undefined = `${path}?n=1000`;
    while (next !== undefined) {
        const answer = await json("GET", next, scope);
        entries.push(...((JSON.parse(answer.body) as Record<string, string[] | null>)[key] ?? []));
        const link = answer.headers.link;
        next = typeof link === "string" ? /^<([^>]+)>;\s*rel="next"/.exec(link)?.[1] : undefined;
    }
    return entries;
}

/** When the image of `manifest` was made: its config's `created`, through the first manifest of an index. */
async function createdOf(
    repository: string,
    manifest: { config?: { digest: string }; manifests?: { digest: string }[] },
): Promise<Date | undefined> {
    const scope = `repository:${repository}:pull`;
    if (manifest.manifests !== undefined && manifest.manifests.length > 0) {
        const first = await json("GET", `/v2/${repository}/manifests/${manifest.manifests[0].digest}`, scope, manifestMediaTypes);
        return createdOf(repository, JSON.parse(first.body));
    }
    if (manifest.config === undefined) return undefined;
    const config = await json("GET", `/v2/${repository}/blobs/${manifest.config.digest}`, scope, "*/*");
    const created = (JSON.parse(config.body) as { created?: string }).created;
    return created === undefined ? undefined : new Date(created);
}

async function heldTags(repository: string): Promise<HeldTag[]> {
    const scope = `repository:${repository}:pull`;
    const tags = await paged(`/v2/${repository}/tags/list`, "tags", scope);
    const held: HeldTag[] = [];
    for (const tag of tags) {
        const manifest = await json("GET", `/v2/${repository}/manifests/${tag}`, scope, manifestMediaTypes);
        const digest = manifest.headers["docker-content-digest"];
        held.push({
            tag,
            digest: typeof digest === "string" ? digest : "",
            created: await createdOf(repository, JSON.parse(manifest.body)),
        });
    }
    return held;
}

/**
 * Deletes a tag and, when no tag that stays points to its manifest, the manifest too (by its
 * digest), so that the collection frees its layers. A manifest that a tag that stays points to is
 * kept, and only the tag goes (by tag, which registry 3 does and 2.8 does not). Where nginx
 * refuses a delete by digest (a repository under an immutable tag rule), by tag. Returns what
 * happened, in words.
 */
async function deleteTag(decision: TagDecision, staying: ReadonlySet<string>): Promise<string> {
    const scope = `repository:${decision.repository}:pull,delete`;
    const remove = async (reference: string) =>
        request("DELETE", `/v2/${decision.repository}/manifests/${reference}`, { Authorization: await authorization(scope) });
    if (!staying.has(decision.digest)) {
        const byDigest = await remove(decision.digest);
        if (byDigest.status === 202) return "deleted (with its manifest)";
        // Another tag of the same manifest took it already.
        if (byDigest.status === 404) return "deleted (with its manifest, by an earlier tag)";
        if (byDigest.status !== 403) return `not deleted: HTTP ${byDigest.status} ${byDigest.body.trim()}`;
    }
    const byTag = await remove(decision.tag);
    if (byTag.status === 202) return staying.has(decision.digest) ? "untagged (a tag that stays has its manifest)" : "untagged";
    return `not deleted: HTTP ${byTag.status} ${byTag.body.trim()}`;
}

async function main(): Promise<void> {
    const challenge = (await request("GET", "/v2/", {})).headers["www-authenticate"];
    token = typeof challenge === "string" && challenge.startsWith("Bearer ");
    const repositories = await paged("/v2/_catalog", "repositories", "registry:catalog:*");
    const now = new Date();
    let deleted = 0;
    let planned = 0;
    for (const repository of repositories) {
        const decisions = planRepository(repository, await heldTags(repository), rules, immutable, now);
        if (decisions.length === 0) continue;
        const staying = new Set(decisions.filter((d) => !d.delete).map((d) => d.digest));
        console.log(`${repository}:`);
        for (const decision of decisions) {
            let outcome = decision.delete ? "delete" : "keep  ";
            if (decision.delete) {
                planned++;
                if (apply) {
                    const result = await deleteTag(decision, staying);
                    if (/^(deleted|untagged)/.test(result)) deleted++;
                    outcome = result;
                }
            }
            console.log(`  ${outcome}  ${decision.tag}  (${decision.reason})`);
        }
    }
    console.log(apply ? `${deleted} of ${planned} tags deleted` : `${planned} tags would be deleted (a dry run: --apply deletes them)`);
    fs.writeFileSync(summaryFile, JSON.stringify({ deleted, deleteUntagged: deletesUntagged(rules) }));
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
