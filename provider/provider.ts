import * as pulumi from "@pulumi/pulumi";
import { checkAuthenticatedRegistryArgs } from "../components/authenticatedRegistry";
import { checkHtpasswdArgs } from "../components/htpasswdCredentials";
import { checkTlsMaterialArgs } from "../components/tlsMaterial";
import type { RegistrySchema } from "./packageSchema";
import * as served from "./components";

type ServedName = keyof typeof served;

/**
 * Each served component's check of its arguments, without creating anything: run before the
 * component is constructed, so that a refusal leaves nothing behind, not even the component's own
 * entry in the stack's state.
 */
const checks: { readonly [N in ServedName]: (args: ConstructorParameters<(typeof served)[N]>[1]) => unknown } = {
    AuthenticatedRegistry: checkAuthenticatedRegistryArgs,
    HtpasswdCredentials: checkHtpasswdArgs,
    TlsMaterial: checkTlsMaterialArgs,
};

/**
 * The component provider: it serves the committed schema and constructs the components that
 * programs in other languages declare, with the inputs the engine passes. Values the schema marks
 * plain arrive as they were written, so the components check them at preview exactly as in a
 * TypeScript program, and a refusal names the same field.
 */
export class RegistryProvider implements pulumi.provider.Provider {
    public readonly version: string;

    constructor(
        private readonly spec: RegistrySchema,
        private readonly schemaText: string,
    ) {
        this.version = spec.version;
    }

    async getSchema(): Promise<string> {
        return this.schemaText;
    }

    async construct(
        name: string,
        type: string,
        inputs: pulumi.Inputs,
        options: pulumi.ComponentResourceOptions,
    ): Promise<pulumi.provider.ConstructResult> {
        const spec = this.spec.resources[type];
        const componentName = type.split(":")[2] as ServedName;
        if (spec === undefined || !Object.prototype.hasOwnProperty.call(served, componentName)) {
            throw new Error(`${type} is not a component of this package; it serves ${Object.keys(this.spec.resources).join(", ")}`);
        }
        (checks[componentName] as (args: pulumi.Inputs) => unknown)(inputs);
        // Each served constructor takes (name, args, opts); the engine's inputs are its args.
        const Component = served[componentName] as unknown as new (
            name: string,
            args: pulumi.Inputs,
            opts: pulumi.ComponentResourceOptions,
        ) => pulumi.ComponentResource & Record<string, unknown>;
        const component = new Component(name, inputs, options);
        // The outputs are the public properties the schema lists, as the component set them.
        const state = Object.fromEntries(Object.keys(spec.properties ?? {}).map((key) => [key, component[key]]));
        return { urn: component.urn, state };
    }
}
