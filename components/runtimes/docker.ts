/** What both Docker runtimes (containers on one host, services on a swarm) give every role alike. */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { labelKeys } from "../defaults";
import type { CheckedDataVolume } from "../registryArgs";

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
 * processes also carry their role (`registry` or `proxy`), which the policy pack reads.
 */
export function componentLabels(instance: string, role?: string): { label: string; value: string }[] {
    const labels = [{ label: labelKeys.instance, value: instance }];
    return role === undefined ? labels : [...labels, { label: labelKeys.role, value: role }];
}

/**
 * The data volume of filesystem storage, kept on destroy unless `deleteOnDestroy`: a local
 * volume on the host (or, on a swarm, the node) every registry process runs on. A switch to
 * object storage leaves it on the host, with its images.
 */
export function dataVolume(name: string, volume: CheckedDataVolume, parent: pulumi.Resource): docker.Volume {
    return new docker.Volume(
        `${name}-data`,
        { name: volume.name ?? `${name}-data`, labels: componentLabels(name) },
        { parent, retainOnDelete: !volume.deleteOnDestroy, deleteBeforeReplace: true },
    );
}
