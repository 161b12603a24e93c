/**
 * The multi-node suite: SwarmRegistry on a swarm of three Docker engines in containers on this
 * host (scripts/swarm-cluster.sh, which each test file brings up and removes). Too slow for CI's
 * main run (.ci/run); run it on its own: `npm run test:cluster`.
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
