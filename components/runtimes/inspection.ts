/**
 * What the policy pack needs to know of each runtime: the resource types it makes for the roles,
 * and how to read them. Plain functions and data that load no provider SDK, so the policy pack
 * reads them beside the rules (`policy/rules.ts`), which loop over {@link runtimeInspections}
 * and never name a runtime's type.
 *
 * The readers take a resource as the policy SDK presents it: its type and its inputs as plain
 * JSON, in which a value not known yet (a preview before a dependency exists) throws when it is
 * *read*. Each reader therefore reads only the fields its answer needs (a label's value only
 * once its key matched, a file's content only when asked), so that an unrelated unknown field
 * does not stop a rule.
 */
import { containerInspection } from "./container/inspection";
import { kubernetesInspection } from "./kubernetes/inspection";
import { swarmInspection } from "./swarm/inspection";

/** A resource as the policy SDK presents it: its Pulumi type and its inputs. */
export interface InspectedResource {
    readonly type: string;
    readonly props: Record<string, unknown>;
}

/** A port a process publishes outside its runtime's network. */
export interface PublishedPort {
    /** Where it is set, for messages: `ports[0]`, `endpointSpec.ports[0]`. */
    readonly path: string;
    /** The process's own port it publishes, as given. */
    readonly port: unknown;
    /** Where it is reachable, for messages: an address, `0.0.0.0 (no ip given)`, `every node of the swarm`. */
    readonly where: string;
    /** Whether only the host itself can reach it there (127.0.0.0/8 or ::1). */
    readonly loopbackOnly: boolean;
}

/** A setting that puts every port of a process on the host's network, without a published port. */
export interface HostNetworkSetting {
    /** The setting as set, for messages: `networkMode "host"`, `publishAllPorts`. */
    readonly setting: string;
    /** Where it puts the ports: `on every host interface`. */
    readonly where: string;
    /** What to do instead: `use a bridge network`. */
    readonly fix: string;
}

/** A setting that gives a process more than an unprivileged container has. */
export interface PrivilegeSetting {
    /** The setting as set, for messages: `privileged`, `spec.template.spec.containers[0].securityContext.capabilities.add`. */
    readonly setting: string;
    /** What it gives, for messages: `every device and capability of the host`. */
    readonly grants: string;
}

/** One file of a role that a resource carries. */
export interface CarriedFile {
    /** Where the role reads it. */
    readonly path: string;
    /** Reads the content: text, or anything else when it has none; throws the SDK's UnknownValueError if it is not known yet. */
    content(): unknown;
}

/** The files of its role a process or file resource carries. */
export type CarriedFiles =
    /** Every file of its role, and the labels that describe them (a container's uploads). */
    | {
          readonly carries: "all";
          readonly files: readonly CarriedFile[];
          /** The input that holds them, for messages: `uploads`. */
          readonly property: string;
      }
    /** Some of its role's files (a Swarm secret or config carries one); its process has the rest. */
    | { readonly carries: "some"; readonly files: readonly CarriedFile[] }
    /** None: they are elsewhere. */
    | {
          readonly carries: "none";
          /** Where they are and what is judged instead, as a sentence. */
          readonly elsewhere: string;
          /**
           * Whether the resource still has the labels that describe its role's files (the
           * grants): a Swarm service does, a container that reads its files from a volume does not.
           */
          readonly keepsFileLabels: boolean;
      };

/** What of a role must be stored only encrypted, in words for messages; what is left out holds no secret. */
export interface SecretMaterial {
    /** What its secret files hold: `the htpasswd file and the TLS private key`. */
    readonly files?: string;
    /** What its secret environment holds: `REGISTRY_HTTP_SECRET`. */
    readonly environment?: string;
}

/** An input of a resource that holds secret material, so its output must be in `additionalSecretOutputs`. */
export interface StoredSecret {
    /** The input's name: `uploads`, `data`. */
    readonly property: string;
    /** What it holds, for messages. */
    readonly holds: string;
}

/** An image a resource pulls. */
export interface ImageReference {
    /** Where it is set, for messages: `name`, `taskSpec.containerSpec.image`. */
    readonly path: string;
    /** The reference, as given. */
    readonly reference: unknown;
}

/** What the policy pack judges in one runtime, and how it reads it. */
export interface RuntimeInspection {
    /**
     * Types whose resources run a role: each has the role label, its environment and published
     * ports, and its files or the names of the resources that carry them.
     */
    readonly processTypes: readonly string[];
    /** Types whose resources carry files of a role, apart from its process. */
    readonly fileTypes: readonly string[];
    /** Types whose resources keep data beyond a process: the data volume, a role's files volume. */
    readonly volumeTypes: readonly string[];
    /** Types whose resources name an image to pull. */
    readonly imageTypes: readonly string[];
    /**
     * Types it makes beside a role's process and files that carry nothing the rules judge:
     * Kubernetes' disruption budgets and network policies.
     */
    readonly supportTypes: readonly string[];
    /** The value of one of a resource's labels (`authenticated-registry.role`, say); undefined without it. */
    label(resource: InspectedResource, key: string): string | undefined;
    /**
     * The role a process or file resource serves: its role label, or for a resource the runtime
     * adds to carry a role's files (the container runtime's files container), that role.
     */
    role(resource: InspectedResource): string | undefined;
    /** The ports a process publishes outside its runtime's network; none for other resources. */
    publishedPorts(resource: InspectedResource): readonly PublishedPort[];
    /** The settings that put a process on the host's network; none for other resources. */
    hostNetworkSettings(resource: InspectedResource): readonly HostNetworkSetting[];
    /** The settings that give a process privileges beyond an unprivileged container's; none for other resources. */
    privileges(resource: InspectedResource): readonly PrivilegeSetting[];
    /**
     * The files of its role a process or file resource carries. `directory` is where the role
     * reads its files; a process that mounts a volume there has them from the volume.
     */
    carriedFiles(resource: InspectedResource, directory: string): CarriedFiles;
    /**
     * The inputs of a process or file resource that hold secret material, given what of its
     * role is secret; their outputs must be in `additionalSecretOutputs`.
     */
    storedSecrets(resource: InspectedResource, secret: SecretMaterial): readonly StoredSecret[];
    /** The images a resource of an image type pulls. */
    images(resource: InspectedResource): readonly ImageReference[];
}

/** Every type an inspection names. */
export function inspectedTypes(inspection: RuntimeInspection): readonly string[] {
    return [
        ...inspection.processTypes,
        ...inspection.fileTypes,
        ...inspection.volumeTypes,
        ...inspection.imageTypes,
        ...inspection.supportTypes,
    ];
}

/** Every runtime's inspection, in the order of `runtimes/index.ts`. */
export const runtimeInspections: readonly RuntimeInspection[] = [containerInspection, swarmInspection, kubernetesInspection];
