/**
 * Serves the components over the provider protocol: Pulumi's plugin runner calls the function
 * that index.js exports. No component class is exported on purpose: the runner would then infer
 * the schema from the code at every start (seconds of TypeScript analysis), where the committed
 * schema is served instead.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { RegistryProvider } from "./provider";
import { RegistrySchema, schemaPath } from "./packageSchema";

export = function serve(): Promise<void> {
    const schemaText = fs.readFileSync(schemaPath, "utf8");
    const schema = JSON.parse(schemaText) as RegistrySchema;
    return pulumi.provider.main(new RegistryProvider(schema, schemaText), process.argv.slice(2));
};
