/** @type {import('jest').Config} */
module.exports = {
    preset: "ts-jest",
    // Token-mode stacks upload the bundled token service; it is rebuilt from the sources first.
    globalSetup: "<rootDir>/scripts/bundle-token-service.js",
    testEnvironment: "node",
    roots: ["<rootDir>/test", "<rootDir>/policy"],
    testMatch: ["**/*.test.ts"],
    // The end-to-end, multi-node and Kubernetes suites have their own configs (jest.e2e.config.js,
    // jest.cluster.config.js, jest.kubernetes.config.js).
    testPathIgnorePatterns: ["/node_modules/", "/test/e2e/", "/test/cluster/", "/test/kubernetes/"],
    testTimeout: 60000,
};
