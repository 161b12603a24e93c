import * as pulumi from "@pulumi/pulumi";

/** A file a role needs in its container, whichever runtime puts it there. */
export interface RoleFile {
    /** The absolute path inside the container. */
    readonly path: string;
    /** The file's content. */
    readonly content: pulumi.Input<string>;
    /**
     * Whether the content is a secret: a container upload marked secret, or a Swarm secret
     * (a Swarm config otherwise).
     */
    readonly secret: boolean;
    /** The file's permissions, e.g. `0644`; keys are `0600`. */
    readonly mode: string;
}

/**
 * How a process takes new files without being restarted. A runtime that can change the files
 * under a running process (the single-host runtime, through a volume) uses it; a runtime that
 * rolls new processes onto new files (Swarm) has no need of it.
 */
export interface RoleReload {
    /** The directory every one of the role's files is in (none in a subdirectory). */
    readonly directory: string;
    /** The process's own start command, in the foreground; the runtime starts it after its watcher. */
    readonly start: string[];
    /** Checks the files where they are; exits 0 when the process would accept them. */
    readonly check: string[];
    /**
     * Makes the running process read its files again without dropping a request. The new files
     * are in effect once the process has started a new child after it (nginx: its new workers).
     */
    readonly reload: string[];
    /**
     * Keys of the role's labels that describe its files (grants, say): they go with the files,
     * so that a change of them changes what carries the files rather than the process.
     */
    readonly fileLabels: readonly string[];
}

/**
 * What one process of the registry is, independent of how it runs: its image, command,
 * environment, files, health probe and labels. A runtime (`runtimes/container.ts`,
 * `runtimes/swarm.ts`) turns it into Docker resources; the roles themselves create nothing.
 */
export interface RoleSpec {
    /** The `authenticated-registry.role` label value. */
    readonly role: string;
    /** The image, by ID or reference. */
    readonly image: pulumi.Input<string>;
    /** The command, when the image's default is not the one. */
    readonly command?: string[];
    /** `NAME=value` entries: plain strings, or secret Outputs for values that are secrets. */
    readonly env: pulumi.Input<string>[];
    /**
     * The image's own start command (entrypoint and arguments), for runtimes that keep secret
     * environment out of the service's definition: they start a shell that reads it from a
     * secret file and then runs this. Required of roles with secret environment.
     * @default undefined
     */
    readonly start?: string[];
    /** Files put into the container before it starts. */
    readonly files: RoleFile[];
    /** The health probe, run inside the container: a command that exits 0 when healthy. */
    readonly healthCommand: string[];
    /** The port the process listens on inside its container. */
    readonly listenPort: number;
    /** Labels beside the instance and role labels. */
    readonly labels: { label: string; value: string }[];
    /**
     * The signal that stops the process gracefully (nginx finishes its requests on SIGQUIT).
     * The Swarm runtime sets it, where tasks are replaced while others serve; the official
     * nginx image stops on SIGQUIT already, so containers keep the image's.
     * @default the image's
     */
    readonly stopSignal?: string;
    /**
     * How the process takes new files in place; runtimes that can, use it.
     * @default undefined (a change of files replaces the process)
     */
    readonly reload?: RoleReload;
}
