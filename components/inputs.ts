import * as pulumi from "@pulumi/pulumi";
import { InvalidArgumentError } from "./validation";

/** The package name that prefixes every component's type token. */
export const packageName = "authenticated-registry";

/** `authenticated-registry:index:<Name>`, the type token of a component. */
export function typeToken(component: string): string {
    return `${packageName}:index:${component}`;
}

/**
 * Runs `validate` on an argument and rethrows a refusal as a `ResourceError` on `resource`, so
 * the engine reports it against the component. Plain values are checked at once, in the
 * constructor; values that are still Outputs (secrets from config, say) are checked as they
 * resolve, which the engine also does during preview.
 */
export function checked<T, R = T>(
    resource: pulumi.Resource,
    value: pulumi.Input<T>,
    validate: (value: T) => R,
): pulumi.Output<R> {
    const run = (v: T): R => {
        try {
            return validate(v);
        } catch (err) {
            throw err instanceof InvalidArgumentError ? new pulumi.ResourceError(err.message, resource, true) : err;
        }
    };
    if (pulumi.Output.isInstance(value) || value instanceof Promise) {
        return pulumi.output(value).apply((v) => run(v as T)) as pulumi.Output<R>;
    }
    return pulumi.output(run(value as T)) as pulumi.Output<R>;
}

/** Runs a synchronous validator on a plain value, turning a refusal into a `ResourceError`. */
export function checkNow<R>(resource: pulumi.Resource, validate: () => R): R {
    try {
        return validate();
    } catch (err) {
        throw err instanceof InvalidArgumentError ? new pulumi.ResourceError(err.message, resource, true) : err;
    }
}
