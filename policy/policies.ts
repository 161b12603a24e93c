/**
 * The pack's policies: each wires one pure rule from `rules.ts` to the policy SDK. Kept apart
 * from `index.ts` because constructing a `PolicyPack` starts the analyzer's gRPC server; tests
 * import this module and drive the policies without one.
 */
import { Policies, ResourceValidationArgs, ResourceValidationPolicy, ReportViolation } from "@pulumi/policy";
import {
    checkBcryptCost,
    checkDeleteEverywhere,
    checkSomeoneOnlyPulls,
    checkCredentialsSecret,
    checkDataVolumeRetained,
    checkImagePinned,
    checkNginxTlsProtocols,
    checkNoPrivilegedProcess,
    checkRegistryPortsLoopback,
    checkTokenServiceUnpublished,
    defaultMinimumBcryptCost,
    minimumBcryptCost,
    ResourceView,
    RuleResult,
} from "./rules";

/** Runs a rule on the resource under validation: reports each violation, or marks it not applicable. */
function apply(rule: (resource: ResourceView, args: ResourceValidationArgs) => RuleResult) {
    return (args: ResourceValidationArgs, reportViolation: ReportViolation): void => {
        const result = rule({ type: args.type, props: args.props, opts: args.opts }, args);
        if ("notApplicable" in result) {
            return args.notApplicable(result.notApplicable);
        }
        for (const message of result.violations) {
            reportViolation(message);
        }
    };
}

function policy(
    p: Omit<ResourceValidationPolicy, "enforcementLevel">,
    enforcementLevel: "mandatory" | "advisory" = "mandatory",
): ResourceValidationPolicy {
    return { ...p, enforcementLevel };
}

export const policies: Policies = [
    policy({
        name: "registry-port-loopback-only",
        description: "The registry, which answers without authentication, is published on loopback addresses only.",
        severity: "critical",
        validateResource: apply(checkRegistryPortsLoopback),
    }),
    policy({
        name: "token-service-unpublished",
        description: "The token service, which reads passwords over plain HTTP, publishes no port: clients reach it through nginx.",
        severity: "critical",
        validateResource: apply(checkTokenServiceUnpublished),
    }),
    policy({
        name: "no-privileged-processes",
        description:
            "No process of the registry runs privileged, adds a capability, may escalate its privileges, or shares its node's process or IPC namespace.",
        severity: "critical",
        validateResource: apply(checkNoPrivilegedProcess),
    }),
    policy({
        name: "nginx-tls-1.2-1.3-only",
        description: "The nginx proxy's registry.conf allows TLS 1.2 and TLS 1.3 only, with an explicit ssl_protocols directive.",
        severity: "high",
        validateResource: apply(checkNginxTlsProtocols),
    }),
    policy({
        name: "images-pinned",
        description: "Every pulled image names a tag other than latest, or a digest.",
        severity: "medium",
        validateResource: apply(checkImagePinned),
    }),
    policy({
        name: "data-volume-retained",
        description: "The registry's data volume survives pulumi destroy and replacement (retainOnDelete or protect).",
        severity: "high",
        validateResource: apply(checkDataVolumeRetained),
    }),
    policy({
        name: "credentials-secret",
        description:
            "The proxy's and token service's secret files (htpasswd, TLS key, hashes, signing key) and the registry's secret environment (REGISTRY_HTTP_SECRET) are secret outputs.",
        severity: "high",
        validateResource: apply(checkCredentialsSecret),
    }),
    policy({
        name: "bcrypt-cost-floor",
        description: "Every htpasswd entry is a bcrypt hash whose cost is at least minimumBcryptCost.",
        severity: "high",
        configSchema: {
            properties: {
                minimumBcryptCost: {
                    type: "integer",
                    minimum: 4,
                    maximum: 31,
                    default: defaultMinimumBcryptCost,
                    description: "The lowest bcrypt cost (log2 of the rounds) an htpasswd entry may use.",
                },
            },
        },
        validateResource: apply((resource, args) =>
            checkBcryptCost(resource, minimumBcryptCost(args.getConfig<{ minimumBcryptCost?: number }>())),
        ),
    }),
    policy({
        name: "no-delete-everywhere",
        description: 'No user may delete on "**" (every repository) unless allowDeleteEverywhere is set.',
        severity: "high",
        configSchema: {
            properties: {
                allowDeleteEverywhere: {
                    type: "boolean",
                    default: false,
                    description: 'Allow a grant of delete on "**", e.g. for a garbage-collection account.',
                },
            },
        },
        validateResource: apply((resource, args) =>
            checkDeleteEverywhere(resource, args.getConfig<{ allowDeleteEverywhere?: boolean }>().allowDeleteEverywhere === true),
        ),
    }),
    policy(
        {
            name: "some-user-pull-only",
            description: "With more than one user, at least one may not push.",
            severity: "low",
            validateResource: apply(checkSomeoneOnlyPulls),
        },
        "advisory",
    ),
];
