/**
 * The `authenticated-registry` policy pack: `pulumi preview --policy-pack policy`.
 *
 * How it loads, with nothing but `npm ci` at the repository root:
 * - The CLI starts the pack through the nodejs language host (or the legacy
 *   `pulumi-analyzer-policy` shim), which resolves `@pulumi/pulumi/cmd/run-policy-pack` from this
 *   directory and runs it with node, working directory `policy/`. Node's resolution walks up to
 *   the root `node_modules`, so this directory needs no `node_modules` of its own, and the pack,
 *   the SDK and the program share the root's single `@pulumi/pulumi`.
 * - `run-policy-pack` always registers ts-node (type-checking), taking `typescript` and `ts-node`
 *   from the root devDependencies and compiler options from `policy/tsconfig.json`, so the pack
 *   runs from its TypeScript sources; there is no build step and no compiled output to go stale.
 * - `PolicyPack` reads the pack's version from `policy/package.json` in the working directory,
 *   which is why that file exists; it lists no dependencies on purpose.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("authenticated-registry", {
    description:
        "Guards the authenticated registry: loopback-only registry, unpublished token service, TLS 1.2/1.3, pinned images, retained data, secret credentials, bcrypt cost.",
    enforcementLevel: "mandatory",
    policies,
});
