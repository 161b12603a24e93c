/**
 * The contract between the registry's plan and the places it runs. The plan (`plan/`) says what
 * runs: the roles, their files, the shared secrets and the routes between them, computed once
 * from the checked arguments. A runtime says how: its settings, the network and storage the
 * roles share, how one role becomes processes, and what it reports. `AuthenticatedRegistry`,
 * the stack config and the policy pack loop over the runtimes in `runtimes/index.ts`; none of
 * them branches on one.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CheckedRegistryArgs } from "../registryArgs";
import type { RegistryPlan, PlannedRole, PlanAddressing, SharedResource } from "../plan/registryPlan";
import type { RuntimeInspection } from "./inspection";

/** Where the registry's processes run. */
export const RuntimeKind = {
    /** Docker containers on one host, the default. */
    Container: "container",
    /** Replicated Docker Swarm services. */
    Swarm: "swarm",
    /** Deployments on a Kubernetes cluster. */
    Kubernetes: "kubernetes",
} as const;
/** One of {@link RuntimeKind}'s values. */
export type RuntimeKind = (typeof RuntimeKind)[keyof typeof RuntimeKind];

/** What the roles share in one runtime: their network, and with filesystem storage the data volume. */
export interface RuntimeFoundation {
    /** The network the roles reach one another on. */
    readonly networkName: pulumi.Output<string>;
    /** The data volume's name; undefined with object storage. */
    readonly volumeName: pulumi.Output<string> | undefined;
}

/** One role as it runs: its process's name in the runtime, and what waits on it. */
export interface RoleProcess {
    /** The container's or service's name. */
    readonly name: pulumi.Output<string>;
    /** The resource that is ready once the role serves; roles that send it requests depend on it. */
    readonly resource: pulumi.Resource;
    /**
     * Processes the runtime adds to carry this role (the swarm's TCP edge in front of the proxy),
     * by role label.
     * @default none
     */
    readonly companions?: Readonly<Record<string, pulumi.Output<string>>>;
}

/** What a runtime is given to deploy one registry. */
export interface RuntimeContext {
    /** The component's name, which prefixes every resource's. */
    readonly name: string;
    /** The component; every resource is its child. */
    readonly parent: pulumi.Resource;
    /** The settings' field in the arguments (`swarm`), for refusals. */
    readonly field: string;
    /** The runtime's settings as given (`AuthenticatedRegistryArgs[kind]`), unchecked. */
    readonly settings: unknown;
    /** The shared arguments, checked. */
    readonly shared: CheckedRegistryArgs;
}

/** A runtime bound to one registry with its settings checked: what `AuthenticatedRegistry` deploys the plan with. */
export interface RuntimeDeployment {
    /** How the roles name one another, and what the plan serves in this runtime. */
    readonly addressing: PlanAddressing;
    /**
     * Where releases before this one kept the plan's shared resources, as aliases, so that an
     * upgrade moves them in state instead of replacing them.
     */
    previousLocations(): Partial<Record<SharedResource, pulumi.Alias[]>>;
    /** Makes the network and, with filesystem storage, the data volume. */
    foundation(): RuntimeFoundation;
    /** Runs one role of the plan, after the roles it sends requests to (`dependsOn`). */
    runRole(role: PlannedRole, plan: RegistryPlan, foundation: RuntimeFoundation, dependsOn: pulumi.Resource[]): RoleProcess;
    /** The runtime's own outputs, named as its stacks have always named them (`proxyContainerName`, say). */
    outputs(processes: Readonly<Record<string, pulumi.Output<string>>>): Record<string, pulumi.Output<string>>;
}

/** A place the registry runs: what `AuthenticatedRegistryArgs.runtime` names. */
export interface RegistryRuntime {
    readonly kind: RuntimeKind;
    /** One line for the config schema and error messages. */
    readonly description: string;
    /** The keys of its settings object (`AuthenticatedRegistryArgs[kind]`), from their type. */
    readonly settingsKeys: readonly string[];
    /**
     * Stack config keys that releases before 0.2 read at the top level and are now this
     * runtime's settings; still read there, with a warning.
     * @default none
     */
    readonly movedConfigKeys?: readonly string[];
    /**
     * The component's type when this runtime had a component of its own (0.1's `SwarmRegistry`),
     * aliased so that such stacks upgrade in place.
     * @default undefined
     */
    readonly previousComponentType?: string;
    /** The resource types the policy pack judges in this runtime, and how it reads them; also in `runtimeInspections`. */
    readonly inspection: RuntimeInspection;
    /**
     * Checks the settings' shape and values without creating anything, each refusal naming its
     * field under `field` (`swarm.replicas.proxy`); the stack config uses it too. With `shared`,
     * also against the shared arguments, as `prepare` does.
     */
    checkSettings(field: string, settings: unknown, shared?: CheckedRegistryArgs): void;
    /** Checks the settings against the shared arguments, creating nothing, and binds the runtime to the registry. */
    prepare(context: RuntimeContext): RuntimeDeployment;
}
