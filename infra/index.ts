/**
 * The stack program: one authenticated registry per stack (dev, staging, prod), configured by
 * `Pulumi.<stack>.yaml`. Configuration is parsed and checked before anything is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { AuthenticatedRegistry, InvalidArgumentError, SwarmRegistry } from "../components";
import { parseStackConfig, Runtime, StackSettings } from "./config";

function readSettings(): StackSettings {
    try {
        return parseStackConfig(pulumi.runtime.allConfig());
    } catch (err) {
        // A configuration mistake, not a bug: report the message alone, without a stack trace.
        throw err instanceof InvalidArgumentError ? new pulumi.RunError(err.message) : err;
    }
}

// Passwords and keys arrive as plain text so the components can check them before creating
// anything; every output derived from them is marked secret by the component that makes it.
const { runtime, swarm, ...settings } = readSettings();
const name = `registry-${pulumi.getStack()}`;
const registry = runtime === Runtime.Swarm ? new SwarmRegistry(name, { ...settings, ...swarm }) : new AuthenticatedRegistry(name, settings);

/** The stack's outputs: what both runtimes have, and the names of this runtime's processes. */
const common = {
    url: registry.url,
    host: registry.host,
    port: registry.port,
    caCertificatePem: registry.caCertificatePem,
    htpasswd: registry.htpasswd,
    passwords: registry.passwords,
    networkName: registry.networkName,
    volumeName: registry.volumeName,
};
const outputs: Record<string, pulumi.Output<unknown>> = registry instanceof SwarmRegistry
    ? {
          ...common,
          proxyServiceName: registry.proxyServiceName,
          registryServiceName: registry.registryServiceName,
          guardServiceName: registry.guardServiceName,
          ...(registry.edgeServiceName === undefined ? {} : { edgeServiceName: registry.edgeServiceName }),
          ...(registry.tokenServiceName === undefined ? {} : { tokenServiceName: registry.tokenServiceName }),
      }
    : {
          ...common,
          proxyContainerName: registry.proxyContainerName,
          registryContainerName: registry.registryContainerName,
          guardContainerName: registry.guardContainerName,
      };
export = outputs;
