import type { RuntimeInspection } from "../inspection";

/** On one host a role is a container, its files uploads of it (or of its files writer). */
export const containerInspection = {
    processTypes: ["docker:index/container:Container"],
    fileTypes: [],
} as const satisfies RuntimeInspection;
