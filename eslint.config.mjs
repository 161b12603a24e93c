// ESLint over the TypeScript sources (components/, infra/, test/, policy/, provider/) and the Node.js
// scripts (bench/*.js, scripts/*.js, scripts/toolchain/*.js, provider/*.js). `npm run lint` runs it after tsc and prettier.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
    {
        ignores: ["node_modules/", "bin/", "coverage/", "bench/results/", "test/golden/"],
    },
    {
        files: ["components/**/*.ts", "infra/**/*.ts", "test/**/*.ts", "policy/**/*.ts", "provider/**/*.ts", "scripts/**/*.ts"],
        extends: [js.configs.recommended, tseslint.configs.recommended],
        plugins: { "@pulumi": pulumi },
        languageOptions: {
            // The root tsconfig.json covers all five directories (policy/tsconfig.json leaves out its tests).
            parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname },
        },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },
    {
        files: ["bench/*.js", "scripts/*.js", "scripts/toolchain/*.js", "provider/*.js"],
        extends: [js.configs.recommended],
        languageOptions: { sourceType: "commonjs", globals: globals.node },
    },
);
