/** The container runtime's settings: where one Docker host publishes the registry, and how it restarts it. */
import { defaults } from "../../defaults";
import { checkKnownKeys, keysOf, validateIpAddress, validateLoopbackAddress, validateOneOf, validatePort } from "../../validation";

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
/** One of {@link RestartPolicy}'s values. */
export type RestartPolicy = (typeof RestartPolicy)[keyof typeof RestartPolicy];

/** Settings of the `container` runtime: the registry's containers on one Docker host. */
export interface ContainerRuntime {
    /**
     * The host address the HTTPS port is published on.
     * @default "0.0.0.0"
     */
    readonly bindAddress?: string;
    /**
     * Also publish the registry without authentication on this loopback port, for local
     * tooling and benchmarks.
     * @default undefined (not published)
     */
    readonly directAccessPort?: number;
    /**
     * The loopback address of `directAccessPort`.
     * @default "127.0.0.1"
     */
    readonly directAccessAddress?: string;
    /**
     * Publish metrics on this loopback port: the registry's Prometheus metrics at `/metrics`
     * and nginx's connection and request counters at `/nginx_status`. Never on the HTTPS port.
     * @default undefined (no metrics)
     */
    readonly metricsPort?: number;
    /**
     * The loopback address of `metricsPort`.
     * @default "127.0.0.1"
     */
    readonly metricsAddress?: string;
    /**
     * When Docker restarts the containers.
     * @default "unless-stopped"
     */
    readonly restart?: RestartPolicy;
}

/** @deprecated Renamed {@link ContainerRuntime} in 0.3, which every Pulumi language's schema names without a doubled `Args`. */
export type ContainerRuntimeArgs = ContainerRuntime;

/** Every key of {@link ContainerRuntime}. */
export const containerSettingsKeys = keysOf<ContainerRuntime>()([
    "bindAddress",
    "directAccessPort",
    "directAccessAddress",
    "metricsPort",
    "metricsAddress",
    "restart",
]);

/** A host port published on an address. */
export interface PublishedPort {
    readonly port: number;
    readonly address: string;
}

/** {@link ContainerRuntime} checked, with defaults. */
export interface CheckedContainerSettings {
    readonly bindAddress: string;
    /** The registry's own port; loopback only. */
    readonly directAccess: PublishedPort | undefined;
    /** The metrics port; loopback only. */
    readonly metrics: PublishedPort | undefined;
    readonly restart: RestartPolicy;
}

/** A restart policy Docker knows; Docker itself would refuse others only at `pulumi up`. */
export function validateRestartPolicy(field: string, value: unknown): RestartPolicy {
    return validateOneOf(field, value, RestartPolicy, "a restart policy");
}

/** A loopback port and its address; the address alone is still checked when no port is set. */
function loopbackPort(field: string, port: unknown, addressField: string, address: unknown, defaultAddress: string) {
    if (port === undefined) {
        if (address !== undefined) validateLoopbackAddress(addressField, address);
        return undefined;
    }
    return { port: validatePort(field, port), address: validateLoopbackAddress(addressField, address ?? defaultAddress) };
}

/** Checks the container runtime's settings (named `field`), filling in the defaults. */
export function checkContainerSettings(field: string, value: unknown): CheckedContainerSettings {
    const given = checkKnownKeys(field, value ?? {}, containerSettingsKeys, "a container runtime setting", "{bindAddress?, restart?, ...}");
    const at = (key: string) => `${field}.${key}`;
    return {
        bindAddress: validateIpAddress(at("bindAddress"), given.bindAddress ?? defaults.bindAddress),
        directAccess: loopbackPort(
            at("directAccessPort"),
            given.directAccessPort,
            at("directAccessAddress"),
            given.directAccessAddress,
            defaults.directAccessAddress,
        ),
        metrics: loopbackPort(at("metricsPort"), given.metricsPort, at("metricsAddress"), given.metricsAddress, defaults.metricsAddress),
        restart: validateRestartPolicy(at("restart"), given.restart ?? defaults.restart),
    };
}
