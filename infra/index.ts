/**
 * The stack program: one authenticated registry per stack (dev, staging, prod), configured by
 * `Pulumi.<stack>.yaml`. Configuration is parsed and checked before anything is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { AuthenticatedRegistry, InvalidArgumentError } from "../components";
import { parseStackConfig, StackSettings } from "./config";

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
const registry = new AuthenticatedRegistry(`registry-${pulumi.getStack()}`, readSettings());

export const url = registry.url;
export const host = registry.host;
export const port = registry.port;
export const caCertificatePem = registry.caCertificatePem;
export const htpasswd = registry.htpasswd;
export const passwords = registry.passwords;
export const networkName = registry.networkName;
export const volumeName = registry.volumeName;
export const proxyContainerName = registry.proxyContainerName;
export const registryContainerName = registry.registryContainerName;
