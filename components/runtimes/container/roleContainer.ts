import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { RoleReload, RoleSpec } from "../../roles/spec";
import { componentLabels, healthCheck, logSettings } from "../docker";
import { filesCarrierRole } from "./inspection";
import { RestartPolicy } from "./settings";

/**
 * Options for a container with a fixed name or host port: the new one cannot start beside the
 * old one, so the old one is deleted first. Container uploads may carry secrets, so the
 * provider's echo of them is stored as secret. Docker cannot change a running container's
 * health check, yet the provider reports such a change as an update it never makes; a change
 * of health check therefore replaces the container.
 */
export function containerOptions(parent: pulumi.Resource): pulumi.CustomResourceOptions {
    return { parent, deleteBeforeReplace: true, additionalSecretOutputs: ["uploads", "envs"], replaceOnChanges: ["healthcheck"] };
}

/** Where and how one role's container runs on a single Docker host. */
export interface ContainerPlacement {
    /** The container's name on the Docker host. */
    readonly containerName: pulumi.Input<string>;
    /** The `authenticated-registry.instance` label value. */
    readonly instance: string;
    /** The networks it joins, with its aliases there. */
    readonly networks: docker.types.input.ContainerNetworksAdvanced[];
    /** Host ports; left out of the container's inputs when undefined. */
    readonly ports?: docker.types.input.ContainerPort[];
    /** Named volumes; left out of the container's inputs when undefined. */
    readonly volumes?: docker.types.input.ContainerVolume[];
    readonly restart: RestartPolicy;
    /**
     * The URN of the component that held these resources in an earlier release, aliased so
     * that an upgrade moves them in state rather than replacing them.
     * @default undefined (no earlier place)
     */
    readonly previousParent?: pulumi.Input<string>;
}

/** The options of every resource of a role: its parent, and where it was before. */
function roleOptions(parent: pulumi.Resource, placement: ContainerPlacement): pulumi.CustomResourceOptions {
    return { parent, ...(placement.previousParent === undefined ? {} : { aliases: [{ parent: placement.previousParent }] }) };
}

/**
 * One role as a `docker.Container`: files as uploads (secret ones stored as secrets), the
 * role's probe as Docker's health check, which `pulumi up` waits on. Inputs a role leaves
 * empty are left out rather than set empty, so containers made before roles existed keep
 * their state unchanged. `dependsOn` orders its creation after other resources.
 */
export function roleContainer(
    name: string,
    spec: RoleSpec,
    placement: ContainerPlacement,
    parent: pulumi.Resource,
    dependsOn?: pulumi.Resource[],
): docker.Container {
    return new docker.Container(
        name,
        {
            name: placement.containerName,
            image: spec.image,
            ...(spec.command === undefined ? {} : { command: spec.command }),
            ...(spec.env.length === 0 ? {} : { envs: spec.env }),
            ...(spec.files.length === 0
                ? {}
                : { uploads: spec.files.map((file) => ({ file: file.path, content: file.content, permissions: file.mode })) }),
            ...(placement.volumes === undefined ? {} : { volumes: placement.volumes }),
            networksAdvanced: placement.networks,
            ...(placement.ports === undefined ? {} : { ports: placement.ports }),
            restart: placement.restart,
            healthcheck: healthCheck(spec.healthCommand),
            wait: true,
            waitTimeout: 60,
            labels: [...componentLabels(placement.instance, spec.role), ...spec.labels],
            ...logSettings,
        },
        { ...containerOptions(parent), ...roleOptions(parent, placement), ...(dependsOn === undefined ? {} : { dependsOn }) },
    );
}

/** Where the writer container mounts the files volume: a path no image uses, so Docker copies nothing into it. */
export const filesWriterMountPath = "/role-files";

/**
 * The files by which the writer and the watcher speak, in the volume beside the role's files;
 * hidden, so that no `*.conf` include reads them.
 */
export const filesMarkers = {
    /**
     * The set in effect: the checksum of its files and a token of the writer's run. The writer
     * writes it last, after every file, so the watcher never acts on half a set.
     */
    generation: ".generation",
    /** The generation the running process has taken, written by its watcher. */
    applied: ".applied",
    /** A generation the running process refused: its first line, then why. */
    failed: ".failed",
    /** Touched by the watcher every second, so the writer knows whether a process will take the files. */
    heartbeat: ".watcher",
} as const;

/** Seconds the writer waits for the running process to take the files before it fails. */
export const filesAppliedTimeoutSeconds = 60;

/** One word for `sh`, single-quoted. */
function shellWord(word: string): string {
    return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command as one line of `sh`. */
function shellCommand(words: readonly string[]): string {
    return words.map(shellWord).join(" ");
}

/**
 * The writer's script (POSIX sh; its arguments are the files' names). It has the files as
 * uploads in `reload.directory` of its own file system, where the image's process would read
 * them, so it first runs `reload.check` on them there: a set the process would refuse fails the
 * writer and never reaches the volume. It then copies them into the volume under temporary
 * names, renames each into place, and writes the generation marker last; a running process's
 * watcher acts on the marker only. When a watcher answers (its heartbeat), it waits until the
 * watcher has taken the set, and fails with the watcher's reason if it refused it; when none
 * does, the process reads the files when it starts. Last it removes files the set no longer has
 * (a password file after a switch to token mode), once nothing reads them.
 */
export function filesWriterScript(reload: RoleReload, mountPath: string = filesWriterMountPath): string {
    const m = filesMarkers;
    const polls = filesAppliedTimeoutSeconds * 10;
    return [
        "set -eu",
        `if ! out=$(${shellCommand(reload.check)} 2>&1); then`,
        '  echo "$out" >&2; echo "refused by the check; nothing was written" >&2; exit 1',
        "fi",
        `cd ${shellWord(mountPath)}`,
        "chmod 0755 .",
        `sum=$(cd ${shellWord(reload.directory)} && sha256sum "$@" | sha256sum | cut -c1-64)`,
        'generation="$sum $(cat /proc/sys/kernel/random/uuid)"',
        `watched=false`,
        `if [ -e ${m.heartbeat} ]; then watched=true; rm -f ${m.heartbeat}; fi`,
        `rm -f ${m.applied} ${m.failed}`,
        `for f in "$@"; do cp -p ${shellWord(reload.directory)}/"$f" ".$f.new"; done`,
        'for f in "$@"; do mv -f ".$f.new" "$f"; done',
        `echo "$generation" >${m.generation}.new && mv -f ${m.generation}.new ${m.generation}`,
        'echo "published $generation: $*"',
        "i=0",
        "while $watched; do",
        `  if [ "$(cat ${m.applied} 2>/dev/null || true)" = "$generation" ]; then echo "taken by the running process"; break; fi`,
        `  if [ "$(head -n 1 ${m.failed} 2>/dev/null || true)" = "$generation" ]; then`,
        `    tail -n +2 ${m.failed} >&2; echo "refused by the running process; it goes on with what it had loaded" >&2; exit 1`,
        "  fi",
        `  if [ "$i" -ge 30 ] && [ ! -e ${m.heartbeat} ]; then echo "no process is running; it reads the files when it starts"; break; fi`,
        `  if [ "$i" -ge ${polls} ]; then echo "not taken by the running process within ${filesAppliedTimeoutSeconds} s" >&2; exit 1; fi`,
        "  sleep 0.1",
        "  i=$((i + 1))",
        "done",
        "for f in *; do",
        "  keep=false",
        '  for g in "$@"; do if [ "$f" = "$g" ]; then keep=true; fi; done',
        '  if [ "$keep" = false ]; then rm -rf -- "$f"; fi',
        "done",
    ].join("\n");
}

/**
 * The watcher's script (POSIX sh), run as the process's container command with the process's
 * start command as its arguments: it starts a loop in the background and then execs the
 * process, which keeps the container's PID 1 and its stop signal. Every second the loop touches
 * its heartbeat and reads the generation marker; on a new one it runs `reload.check` and, if the
 * files pass, `reload.reload`, and reports the generation taken once the process has a new
 * child (nginx's new workers), or refused with the check's output. The process's children are
 * read from /proc, which every Linux image has.
 */
export function filesWatcherScript(reload: RoleReload): string {
    const m = filesMarkers;
    return [
        `cd ${shellWord(reload.directory)} || exit 1`,
        `seen=$(cat ${m.generation} 2>/dev/null || true)`,
        `echo "$seen" >${m.applied}.new && mv -f ${m.applied}.new ${m.applied}`,
        "(",
        '  children() { for s in /proc/[0-9]*/stat; do read -r p _ _ pp _ <"$s" && [ "$pp" = "$$" ] && echo "$p"; done 2>/dev/null; }',
        "  while :; do",
        `    : >${m.heartbeat}`,
        `    generation=$(cat ${m.generation} 2>/dev/null || true)`,
        '    if [ -n "$generation" ] && [ "$generation" != "$seen" ]; then',
        "      seen=$generation",
        `      if out=$(${shellCommand(reload.check)} 2>&1); then`,
        `        before=" $(children | tr '\\n' ' ')"`,
        `        if out=$(${shellCommand(reload.reload)} 2>&1); then`,
        "          new=; n=0",
        '          while [ -z "$new" ] && [ "$n" -lt 100 ]; do',
        "            sleep 0.1; n=$((n + 1))",
        '            for p in $(children); do case "$before" in *" $p "*) ;; *) new=$p ;; esac; done',
        "          done",
        '          [ -n "$new" ] || out="no new worker within 10 s of the reload"',
        "        fi",
        "      fi",
        '      if [ -n "${new:-}" ]; then',
        `        echo "$generation" >${m.applied}.new && mv -f ${m.applied}.new ${m.applied}`,
        '        echo "files reloaded: $generation"',
        "      else",
        `        printf '%s\\n%s\\n' "$generation" "$out" >${m.failed}.new && mv -f ${m.failed}.new ${m.failed}`,
        '        echo "files refused: $generation: $out" >&2',
        "      fi",
        "      new=",
        "    fi",
        "    sleep 1",
        "  done",
        ") &",
        'exec "$@"',
    ].join("\n");
}

/** What a role that takes new files in place runs as on one host. */
export interface ReloadingContainer {
    /** The process's container; a change of files leaves it running. */
    readonly container: docker.Container;
    /** The one-shot container that writes the files into the volume; every change of them replaces it. */
    readonly writer: docker.Container;
    /** The volume the process reads its files from. */
    readonly volume: docker.Volume;
    /** True once the writer has put the files in place and the running process took them; an error otherwise. */
    readonly applied: pulumi.Output<boolean>;
}

/**
 * A role whose files change under its running process, without replacing its container
 * (`spec.reload`): the files live in a volume mounted at `reload.directory`, which a one-shot
 * writer container of the same image fills from its uploads (the files, secret ones stored as
 * secrets, and the labels that describe them); the process's container runs a watcher beside
 * the process that reloads it gracefully when the writer has published a new set. A change of
 * files thus replaces the writer, which the preview shows with its (secret) uploads, and leaves
 * the process's container as it is; a change of image, ports or health check still replaces it.
 *
 * Resources, under `parent`: `NAME-files` (the volume, `CONTAINER-files`), `NAME-files-writer`
 * (`CONTAINER-files-writer`, exited once it is done) and `NAME-container` (the process, made
 * after the writer so that it starts with its files).
 */
export function reloadingRoleContainer(
    name: string,
    spec: RoleSpec,
    placement: ContainerPlacement,
    parent: pulumi.Resource,
    dependsOn?: pulumi.Resource[],
): ReloadingContainer {
    const reload = spec.reload;
    if (reload === undefined) {
        throw new Error(`the ${spec.role} role does not say how it reloads its files`);
    }
    const outside = spec.files.filter((file) => path.posix.dirname(file.path) !== reload.directory);
    if (outside.length > 0) {
        throw new Error(`the ${spec.role} role's files ${outside.map((f) => f.path).join(", ")} are not directly in ${reload.directory}`);
    }
    const isFileLabel = (label: { label: string }) => reload.fileLabels.includes(label.label);
    const volume = new docker.Volume(
        `${name}-files`,
        {
            name: pulumi.interpolate`${placement.containerName}-files`,
            labels: componentLabels(placement.instance, filesCarrierRole(spec.role)),
        },
        { ...roleOptions(parent, placement), deleteBeforeReplace: true },
    );
    const writer = new docker.Container(
        `${name}-files-writer`,
        {
            name: pulumi.interpolate`${placement.containerName}-files-writer`,
            image: spec.image,
            command: [
                "/bin/sh",
                "-c",
                filesWriterScript(reload),
                "files-writer",
                ...spec.files.map((file) => path.posix.basename(file.path)),
            ],
            uploads: spec.files.map((file) => ({ file: file.path, content: file.content, permissions: file.mode })),
            volumes: [{ volumeName: volume.name, containerPath: filesWriterMountPath }],
            networkMode: "none",
            // Run once, until it exits: `up` waits for it, and it stays, exited, until the files change.
            restart: "no",
            mustRun: false,
            attach: true,
            labels: [...componentLabels(placement.instance, filesCarrierRole(spec.role)), ...spec.labels.filter(isFileLabel)],
            ...logSettings,
        },
        { ...containerOptions(parent), ...roleOptions(parent, placement), ...(dependsOn === undefined ? {} : { dependsOn }) },
    );
    const container = roleContainer(
        `${name}-container`,
        {
            ...spec,
            files: [],
            command: ["/bin/sh", "-c", filesWatcherScript(reload), "files-watcher", ...reload.start],
            labels: spec.labels.filter((label) => !isFileLabel(label)),
        },
        { ...placement, volumes: [...(placement.volumes ?? []), { volumeName: volume.name, containerPath: reload.directory }] },
        parent,
        [writer],
    );
    const applied = pulumi.all([writer.exitCode, writer.name, writer.urn]).apply(([exitCode, writerName, urn]) => {
        if (exitCode !== undefined && exitCode !== 0) {
            const err = new pulumi.RunError(
                `the ${spec.role} did not take its new files: ${writerName} exited ${exitCode} (\`docker logs ${writerName}\` says why), ` +
                    `and the ${spec.role} goes on with what it had loaded. Once the cause is fixed, write them again: ` +
                    `pulumi up --replace '${urn}'`,
            );
            // The message is the whole story: formatting a stack through the program's source maps
            // would take the language host tens of seconds.
            err.stack = err.message;
            throw err;
        }
        return true;
    });
    return { container, writer, volume, applied };
}
