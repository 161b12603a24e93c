/**
 * The kubernetes runtime on a real single-node cluster of this machine (scripts/kube-node.sh,
 * which the suite brings up, building its programs the first time, and takes down if it started
 * it). Too slow for CI's main run: its first run builds Kubernetes, etcd, CoreDNS and the Pulumi
 * Kubernetes provider from their Go modules. Run it on its own: `npm run test:kubernetes`. CI
 * proves every manifest under mocks (test/kubernetesRuntime.test.ts) regardless.
 */
/** @type {import('jest').Config} */
module.exports = {
    preset: "ts-jest",
    // Token-mode stacks upload the bundled token service; it is rebuilt from the sources first.
    globalSetup: "<rootDir>/scripts/bundle-token-service.js",
    testEnvironment: "node",
    roots: ["<rootDir>/test/kubernetes"],
    testMatch: ["**/*.kubernetes.test.ts"],
    testTimeout: 30 * 60 * 1000,
    bail: false,
};
