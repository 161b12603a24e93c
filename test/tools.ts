/** Runs the real command-line tools the tests check against, failing loudly when one is missing. */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";

/**
 * The path of a tool: found on PATH, or in the sbin directories, which a user other than root
 * usually lacks on PATH although Debian installs nginx there.
 */
export function toolPath(command: string): string {
    const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), "/usr/local/sbin", "/usr/sbin", "/sbin"];
    const found = dirs.map((dir) => path.join(dir, command)).find((candidate) => fs.existsSync(candidate));
    return found ?? command;
}

/** Runs a command; throws with its output when the tool is not installed. */
export function run(command: string, args: string[], input?: string): SpawnSyncReturns<string> {
    const result = spawnSync(toolPath(command), args, { encoding: "utf8", input });
    if (result.error) {
        throw new Error(`${command} could not run (${result.error.message}); ./scripts/setup.sh --tests installs it`);
    }
    return result;
}
