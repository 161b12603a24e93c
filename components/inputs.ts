import * as pulumi from "@pulumi/pulumi";
import { InvalidArgumentError } from "./validation";

/** The package name that prefixes every component's type token. */
export const packageName = "authenticated-registry";

/** `authenticated-registry:index:<Name>`, the type token of a component. */
export function typeToken(component: string): string {
    return `${packageName}:index:${component}`;
}

/** True for an Input that is not plain yet (an Output or a Promise), so it can only be checked as it resolves. */
export function isPending(value: unknown): boolean {
    return pulumi.Output.isInstance(value) || value instanceof Promise;
}

/** Runs a synchronous validator on a plain value, turning a refusal into a `ResourceError`. */
export function checkNow<R>(resource: pulumi.Resource, validate: () => R): R {
    try {
        return validate();
    } catch (err) {
        throw err instanceof InvalidArgumentError ? new pulumi.ResourceError(err.message, resource, true) : err;
    }
}
