/**
 * The stack program: one authenticated registry per stack (dev, staging, prod), configured by
 * `Pulumi.<stack>.yaml`. Configuration is parsed and checked before anything is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { AuthenticatedRegistry, InvalidArgumentError } from "../components/index";
import { parseStackConfig } from "./config";

function readSettings(): ReturnType<typeof parseStackConfig> {
    try {
        return parseStackConfig(pulumi.runtime.allConfig());
    } catch (err) {
        // A configuration mistake, not a bug: report the message alone, without a stack trace.
        throw err instanceof InvalidArgumentError ? new pulumi.RunError(err.message) : err;
    }
}

// Passwords and keys arrive as plain text so the components can check them before creating
// anything; every output derived from them is marked secret by the component that makes it.
const { notices, ...settings } = readSettings();
for (const notice of notices ?? []) {
    pulumi.log.warn(notice);
}
const registry = new AuthenticatedRegistry(`registry-${pulumi.getStack()}`, settings);

/** The stack's outputs: what every runtime has, and the names of this runtime's processes. */
export = {
    url: registry.url,
    host: registry.host,
    port: registry.port,
    caCertificatePem: registry.caCertificatePem,
    htpasswd: registry.htpasswd,
    passwords: registry.passwords,
    networkName: registry.networkName,
    volumeName: registry.volumeName,
    ...registry.runtimeOutputs,
    // What `npm run retention` applies, as deployed (checked when the config was read).
    ...(settings.retention === undefined || settings.retention.length === 0 ? {} : { retention: settings.retention }),
    ...(settings.immutableTags === undefined || settings.immutableTags.length === 0 ? {} : { immutableTags: settings.immutableTags }),
};
