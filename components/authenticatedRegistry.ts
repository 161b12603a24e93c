import * as pulumi from "@pulumi/pulumi";
import { AuthMode } from "./auth";
import { checkNow, typeToken } from "./inputs";
import { planRegistry } from "./plan/registryPlan";
import { checkRegistryArgs, RegistryArgs } from "./registryArgs";
import { ContainerRuntime } from "./runtimes/container/settings";
import { defaultRuntime, registryRuntimes } from "./runtimes/index";
import { RegistryRuntime, RuntimeKind } from "./runtimes/runtime";
import { KubernetesRuntime } from "./runtimes/kubernetes/settings";
import { SwarmRuntime } from "./runtimes/swarm/settings";
import { InvalidArgumentError, validateOneOf } from "./validation";

/** Arguments of {@link AuthenticatedRegistry}: what it serves, and where its processes run. */
export interface AuthenticatedRegistryArgs extends RegistryArgs {
    /**
     * Where the registry's processes run: `container` (containers on one Docker host), `swarm`
     * (replicated Docker Swarm services) or `kubernetes` (Deployments on a Kubernetes cluster).
     * Each has its settings under its own name.
     * @default "container"
     */
    readonly runtime?: RuntimeKind;
    /**
     * Settings of the container runtime.
     * @default {} (the HTTPS port on every interface; no direct, no metrics port; restart unless-stopped)
     */
    readonly container?: ContainerRuntime;
    /**
     * Settings of the swarm runtime.
     * @default {} (two tasks of each role, any node, the routing mesh)
     */
    readonly swarm?: SwarmRuntime;
    /**
     * Settings of the kubernetes runtime. The cluster is the Kubernetes provider's: the default
     * one (`KUBECONFIG`, or the stack's `kubernetes:kubeconfig`), or one given in the
     * component's `providers` option.
     * @default {} (a namespace named after the component, two pods of each role, a ClusterIP Service)
     */
    readonly kubernetes?: KubernetesRuntime;
}

/** The runtime `args` name, or undefined when the name is not one (refused once the component exists). */
function runtimeOf(args: AuthenticatedRegistryArgs): RegistryRuntime | undefined {
    return Object.values(registryRuntimes).find((runtime) => runtime.kind === (args.runtime ?? defaultRuntime));
}

/**
 * Checks which runtime `args` name and that no other runtime's settings are given; returns the
 * runtime. Each refusal names its field.
 */
export function checkRuntimeChoice(args: Pick<AuthenticatedRegistryArgs, RuntimeKind | "runtime">, prefix = ""): RegistryRuntime {
    const kind = validateOneOf(`${prefix}runtime`, args.runtime ?? defaultRuntime, RuntimeKind, "a runtime");
    for (const other of Object.values(registryRuntimes)) {
        if (other.kind !== kind && args[other.kind] !== undefined) {
            throw new InvalidArgumentError(
                `${prefix}${other.kind}`,
                `applies to runtime ${other.kind} only; set runtime: ${other.kind} or remove it`,
            );
        }
    }
    return registryRuntimes[kind];
}

/**
 * Checks {@link AuthenticatedRegistryArgs} without creating anything, each refusal an
 * {@link InvalidArgumentError} naming its field: what the component checks before it makes its
 * first resource, for programs that check their own configuration first.
 */
export function checkAuthenticatedRegistryArgs(args: AuthenticatedRegistryArgs): void {
    const runtime = checkRuntimeChoice(args);
    runtime.checkSettings(runtime.kind, args[runtime.kind], checkRegistryArgs(args));
}

/**
 * A private Docker registry only authenticated users can reach: the distribution registry on a
 * private network with retained storage, behind nginx terminating TLS and checking every
 * request against each user's grants, with basic auth or registry tokens, as in the registry
 * documentation's compose recipe with its known defects fixed. One plan (`plan/`) says what
 * runs; the runtime named by `runtime` (`runtimes/`) runs it.
 */
export class AuthenticatedRegistry extends pulumi.ComponentResource {
    /** `https://HOST:PORT`, the registry's address. */
    public readonly url: pulumi.Output<string>;
    /** `HOST:PORT` as it appears in image references and `docker login`. */
    public readonly host: pulumi.Output<string>;
    /** The published HTTPS port. */
    public readonly port: pulumi.Output<number>;
    /** The CA certificate clients must trust (`/etc/docker/certs.d/HOST:PORT/ca.crt`). */
    public readonly caCertificatePem: pulumi.Output<string>;
    /** The htpasswd file content (secret). */
    public readonly htpasswd: pulumi.Output<string>;
    /** Each user's password by user name (secret). */
    public readonly passwords: pulumi.Output<Record<string, string>>;
    /** The network the processes share. */
    public readonly networkName: pulumi.Output<string>;
    /** The data volume's name; undefined with s3 storage. */
    public readonly volumeName: pulumi.Output<string | undefined>;
    /** `basic` or `token`. */
    public readonly authMode: AuthMode;
    /** The runtime the processes run on. */
    public readonly runtime: RuntimeKind;
    /**
     * Each process's name in its runtime (a container's on one host, a service's on a swarm), by
     * role: `proxy`, `registry`, `guard` or `token-service`, and the swarm's `edge` in host mode.
     */
    public readonly processNames: pulumi.Output<Record<string, string>>;
    /**
     * The runtime's own outputs, as its stacks name them: `proxyContainerName`,
     * `registryContainerName`, `guardContainerName` on one host; `proxyServiceName`,
     * `registryServiceName`, `guardServiceName`, `tokenServiceName`, `edgeServiceName` on a swarm.
     */
    public readonly runtimeOutputs: Readonly<Record<string, pulumi.Output<string>>>;

    constructor(name: string, args: AuthenticatedRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        // A runtime that had a component of its own before keeps its stacks' state through an alias.
        const previousType = runtimeOf(args)?.previousComponentType;
        super(
            typeToken("AuthenticatedRegistry"),
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), ...(previousType === undefined ? [] : [{ type: previousType }])],
            },
        );
        // Every argument is checked before the first child exists, so a refusal creates nothing.
        const { shared, runtime, deployment } = checkNow(this, () => {
            const runtime = checkRuntimeChoice(args);
            const shared = checkRegistryArgs(args);
            const deployment = runtime.prepare({ name, parent: this, field: runtime.kind, settings: args[runtime.kind], shared });
            return { shared, runtime, deployment };
        });

        const plan = planRegistry(name, args, shared, deployment.addressing, deployment.previousLocations(), this);
        const foundation = deployment.foundation();
        const resources: Record<string, pulumi.Resource> = {};
        const processes: Record<string, pulumi.Output<string>> = {};
        for (const role of plan.roles) {
            const dependsOn = role.dependsOn.map((upstream) => resources[upstream]);
            const process = deployment.runRole(role, plan, foundation, dependsOn);
            resources[role.spec.role] = process.resource;
            processes[role.spec.role] = process.name;
            Object.assign(processes, process.companions);
        }

        this.url = pulumi.output(`https://${plan.host}`);
        this.host = pulumi.output(plan.host);
        this.port = pulumi.output(shared.port);
        this.caCertificatePem = plan.tls.caCertificatePem;
        this.htpasswd = plan.credentials.htpasswd;
        this.passwords = plan.credentials.passwords;
        this.networkName = foundation.networkName;
        this.volumeName = foundation.volumeName ?? pulumi.output(undefined);
        this.authMode = shared.auth.mode;
        this.runtime = runtime.kind;
        this.processNames = pulumi.all(processes);
        this.runtimeOutputs = deployment.outputs(processes);
        this.registerOutputs({
            url: this.url,
            host: this.host,
            port: this.port,
            caCertificatePem: this.caCertificatePem,
            htpasswd: this.htpasswd,
            passwords: this.passwords,
            networkName: this.networkName,
            volumeName: this.volumeName,
            authMode: this.authMode,
            runtime: this.runtime,
            processNames: this.processNames,
            ...this.runtimeOutputs,
        });
    }
}
