import * as pulumi from "@pulumi/pulumi";
import type { RegistrySchema } from "./packageSchema";
import * as served from "./components";

type ServedName = keyof typeof served;

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
