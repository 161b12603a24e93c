/**
 * What the inspections of both Docker runtimes read alike. Plain functions, importing no
 * provider SDK (`docker.ts` is what they make, with it).
 */

/** The data volume and a role's files volume, in both Docker runtimes. */
export const dockerVolumeType = "docker:index/volume:Volume";

/** The value of a Docker label (`labels: [{ label, value }]`); reads only the matching entry's value. */
export function dockerLabel(labels: unknown, key: string): string | undefined {
    if (!Array.isArray(labels)) {
        return undefined;
    }
    for (const entry of labels) {
        if (typeof entry === "object" && entry !== null && entry.label === key) {
            return typeof entry.value === "string" ? entry.value : undefined;
        }
    }
    return undefined;
}

/** The entries of a list input; none when it is unset or not a list. */
export function listEntries(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}

/** A field of an object input, or undefined; reads only that field. */
export function field(value: unknown, key: string): unknown {
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
