import * as pulumi from "@pulumi/pulumi";
import { defaultRestartPolicy, RestartPolicy, validateRestartPolicy } from "./containerSettings";
import { guardSettings, LoginThrottleArgs, validateLoginThrottle, validateWriteHoldSeconds } from "./guard";
import { checkNow, typeToken } from "./inputs";
import { guardRole } from "./roles/tokenService";
import { roleContainer } from "./runtimes/container";
import { tokenServicePort } from "./tokenService/files";
import { tokenServiceProgram } from "./tokenServer";

/** Arguments of {@link RegistryGuard}. */
export interface RegistryGuardArgs {
    /** The image to run the guard on: Node.js 20 or later, `node` on the PATH. */
    readonly image: pulumi.Input<string>;
    /** The private network nginx reaches the guard on. */
    readonly networkName: pulumi.Input<string>;
    /**
     * Limits on failed logins: past them an address gets 429 before nginx checks its password.
     * @default on, with the defaults of {@link LoginThrottleArgs}
     */
    readonly loginThrottle?: LoginThrottleArgs;
    /**
     * How long a write waits while garbage collection holds the registry, in seconds.
     * @default 120
     */
    readonly writeHoldSeconds?: number;
    /**
     * The guard's name on the private network; nginx's upstream is `ALIAS:5001`.
     * @default "guard"
     */
    readonly networkAlias?: string;
    /**
     * The `authenticated-registry.instance` label value.
     * @default the component's name
     */
    readonly instance?: string;
    /**
     * When Docker restarts the container.
     * @default "unless-stopped"
     */
    readonly restart?: RestartPolicy;
}

/**
 * Basic mode's guard, in its own container beside nginx: nginx asks it before each password
 * check whether the client's address may try, tells it of each refused password, and asks it
 * before each write, which it holds while garbage collection runs. It sees no password.
 */
export class RegistryGuard extends pulumi.ComponentResource {
    /** `host:port` at which nginx reaches the guard. */
    public readonly upstream: string;
    /** Whether failed logins are limited. */
    public readonly loginThrottle: boolean;
    /** How long a write waits during garbage collection, in seconds. */
    public readonly writeHoldSeconds: number;
    /** The container's name on the Docker host. */
    public readonly containerName: pulumi.Output<string>;

    constructor(name: string, args: RegistryGuardArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("RegistryGuard"), name, {}, opts);
        const alias = args.networkAlias ?? "guard";
        const [settings, restart] = checkNow(
            this,
            () =>
                [
                    guardSettings(
                        validateLoginThrottle("loginThrottle", args.loginThrottle),
                        validateWriteHoldSeconds("writeHoldSeconds", args.writeHoldSeconds),
                    ),
                    validateRestartPolicy("restart", args.restart ?? defaultRestartPolicy),
                ] as const,
        );
        const spec = guardRole({ image: args.image, program: tokenServiceProgram(), settings: JSON.stringify(settings, null, 2) });
        const container = roleContainer(
            `${name}-container`,
            spec,
            { containerName: name, instance: args.instance ?? name, networks: [{ name: args.networkName, aliases: [alias] }], restart },
            this,
        );
        this.upstream = `${alias}:${tokenServicePort}`;
        this.loginThrottle = settings.loginThrottle !== undefined;
        this.writeHoldSeconds = settings.writeHoldSeconds;
        this.containerName = container.name;
        this.registerOutputs({ upstream: this.upstream, containerName: this.containerName });
    }
}
