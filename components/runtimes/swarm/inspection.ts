import type { RuntimeInspection } from "../inspection";

/** On a swarm a role is a service, each of its files a Swarm secret or config. */
export const swarmInspection = {
    processTypes: ["docker:index/service:Service"],
    fileTypes: ["docker:index/secret:Secret", "docker:index/serviceConfig:ServiceConfig"],
} as const satisfies RuntimeInspection;
