/**
 * The end-to-end suites run two at a time (scripts/test.sh), each publishing its stacks on ports of
 * its own: a port two suites name would be taken when both run. Every port-like number a suite
 * names beside the word "port" must be its alone.
 */
import * as fs from "fs";
import * as path from "path";

const dir = path.join(__dirname, "e2e");

test("no two end-to-end suites name the same port", () => {
    const owners = new Map<number, string[]>();
    for (const file of fs.readdirSync(dir).filter((name) => name.endsWith(".e2e.test.ts"))) {
        const ports = new Set<number>();
        for (const line of fs.readFileSync(path.join(dir, file), "utf8").split("\n")) {
            if (!/port/i.test(line)) continue;
            for (const match of line.matchAll(/\b(1[0-9]{4}|2[0-9]{4}|3[0-9]{4})\b/g)) ports.add(Number(match[1]));
        }
        for (const port of ports) owners.set(port, [...(owners.get(port) ?? []), file]);
    }
    expect(owners.size).toBeGreaterThan(20);
    expect([...owners].filter(([, files]) => files.length > 1)).toEqual([]);
});
