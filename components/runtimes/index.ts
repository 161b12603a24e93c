/** Every runtime the registry can run on, by the name `AuthenticatedRegistryArgs.runtime` gives it. */
import { containerRuntime } from "./container/runtime";
import { RegistryRuntime, RuntimeKind } from "./runtime";
import { swarmRuntime } from "./swarm/runtime";
import { kubernetesRuntime } from "./kubernetes/runtime";

/** The runtimes, the default first. */
export const registryRuntimes: Readonly<Record<RuntimeKind, RegistryRuntime>> = {
    [RuntimeKind.Container]: containerRuntime,
    [RuntimeKind.Swarm]: swarmRuntime,
    [RuntimeKind.Kubernetes]: kubernetesRuntime,
};

/** The runtime used when none is named. */
export const defaultRuntime: RuntimeKind = RuntimeKind.Container;
