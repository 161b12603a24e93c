/** Runs the real command-line tools the tests check against, failing loudly when one is missing. */
import { spawnSync, SpawnSyncReturns } from "child_process";

/** Runs a command; throws with its output when the tool is not installed. */
export function run(command: string, args: string[], input?: string): SpawnSyncReturns<string> {
    const result = spawnSync(command, args, { encoding: "utf8", input });
    if (result.error) {
        throw new Error(`${command} could not run (${result.error.message}); .ci/run installs it`);
    }
    return result;
}
