/**
 * What the policy pack needs to know of each runtime: which resource types run a role and which
 * carry one of its files. Plain data, importing nothing, so the policy pack reads it without
 * loading a provider SDK.
 */
import { containerInspection } from "./container/inspection";
import { swarmInspection } from "./swarm/inspection";

/** The resource types of one runtime that the policy pack judges. */
export interface RuntimeInspection {
    /**
     * Types whose resources run a role: each carries the role label, its files as uploads (a
     * container) or names them (a service), its environment and published ports.
     */
    readonly processTypes: readonly string[];
    /**
     * Types whose resources carry one file of a role, base64 in `data`, its path in the
     * `authenticated-registry.file` label.
     */
    readonly fileTypes: readonly string[];
}

/** Every runtime's inspection, in the order of `runtimes/index.ts`. */
export const runtimeInspections: readonly RuntimeInspection[] = [containerInspection, swarmInspection];
