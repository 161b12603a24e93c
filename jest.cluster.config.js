/**
 * The swarm suites, too slow for CI's main run (.ci/run) to stay within its time: the swarm
 * runtime on a single-node swarm of this machine's engine (swarm.cluster.test.ts, about 3 min),
 * and on a swarm of three Docker engines in containers on this host (drain.cluster.test.ts;
 * scripts/swarm-cluster.sh, which it brings up and removes). Run them on their own:
 * `npm run test:cluster`. CI still deploys a swarm stack, in the upgrade suite.
 */
/** @type {import('jest').Config} */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/test/cluster"],
    testMatch: ["**/*.cluster.test.ts"],
    testTimeout: 30 * 60 * 1000,
    bail: false,
};
