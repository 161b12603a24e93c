/** The end-to-end suite: real Pulumi CLI, Docker engine, nginx and registry. Run by .ci/run. */
/** @type {import('jest').Config} */
module.exports = {
    preset: "ts-jest",
    // Token-mode stacks upload the bundled token service; it is rebuilt from the sources first.
    globalSetup: "<rootDir>/scripts/bundle-token-service.js",
    testEnvironment: "node",
    roots: ["<rootDir>/test/e2e"],
    testMatch: ["**/*.e2e.test.ts"],
    testTimeout: 20 * 60 * 1000,
    bail: false,
};
