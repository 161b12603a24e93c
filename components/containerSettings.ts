import * as pulumi from "@pulumi/pulumi";
import { defaults, labelKeys } from "./defaults";
import { validateOneOf } from "./validation";

/** When Docker restarts a container; the docker provider's own default is "no". */
export const RestartPolicy = {
    /** Never restart. */
    No: "no",
    /** Restart after a non-zero exit. */
    OnFailure: "on-failure",
    /** Always restart, also when the daemon starts. */
    Always: "always",
    /** Restart unless someone stopped the container on purpose. */
    UnlessStopped: "unless-stopped",
} as const;
export type RestartPolicy = (typeof RestartPolicy)[keyof typeof RestartPolicy];

/** A restart policy Docker knows; Docker itself would refuse others only at `pulumi up`. */
export function validateRestartPolicy(field: string, value: unknown): RestartPolicy {
    return validateOneOf(field, value, RestartPolicy, "a restart policy");
}

/** The restart policy both containers use unless told otherwise. */
export const defaultRestartPolicy: RestartPolicy = defaults.restart;

/**
 * A health check Docker runs inside the container; `pulumi up` waits until it passes. Docker
 * runs the first check one interval after the start (engines before 25 have no faster
 * `start_interval`), and the provider looks every second, so the interval bounds how long `up`
 * waits for each container: 1 s, at the price of one cheap probe a second (BENCHMARKS.md).
 */
export function healthCheck(command: string[]): {
    tests: string[];
    interval: string;
    timeout: string;
    retries: number;
    startPeriod: string;
} {
    return { tests: ["CMD", ...command], interval: "1s", timeout: "5s", retries: 3, startPeriod: "10s" };
}

/** Bounded json-file logs: Docker's default keeps container logs without limit. */
export const logSettings = {
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "3" },
} as const;

/**
 * Labels that mark a resource as part of one registry, for `docker ps --filter label=...`;
 * containers also carry their role (`registry` or `proxy`), which the policy pack reads.
 */
export function componentLabels(instance: string, role?: string): { label: string; value: string }[] {
    const labels = [{ label: labelKeys.instance, value: instance }];
    return role === undefined ? labels : [...labels, { label: labelKeys.role, value: role }];
}

/**
 * Options for a container with a fixed name or host port: the new one cannot start beside the
 * old one, so the old one is deleted first. Container uploads may carry secrets, so the
 * provider's echo of them is stored as secret. Docker cannot change a running container's
 * health check, yet the provider reports such a change as an update it never makes; a change
 * of health check therefore replaces the container.
 */
export function containerOptions(parent: pulumi.Resource): pulumi.CustomResourceOptions {
    return { parent, deleteBeforeReplace: true, additionalSecretOutputs: ["uploads", "envs"], replaceOnChanges: ["healthcheck"] };
}
