/** @type {import('jest').Config} */
module.exports = {
    preset: "ts-jest",
    // Token-mode stacks upload the bundled token service; it is rebuilt from the sources first.
    globalSetup: "<rootDir>/scripts/bundle-token-service.js",
    testEnvironment: "node",
    roots: ["<rootDir>/test", "<rootDir>/policy"],
    testMatch: ["**/*.test.ts"],
    testPathIgnorePatterns: ["/node_modules/", "/test/e2e/"],
    testTimeout: 60000,
};
