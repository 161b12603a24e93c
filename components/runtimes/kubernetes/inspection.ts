import { labelKeys } from "../../defaults";
import { field, listEntries } from "../dockerInspection";
import type { InspectedResource, RuntimeInspection } from "../inspection";

const deploymentType = "kubernetes:apps/v1:Deployment";
const serviceType = "kubernetes:core/v1:Service";
const secretType = "kubernetes:core/v1:Secret";
const configMapType = "kubernetes:core/v1:ConfigMap";
const claimType = "kubernetes:core/v1:PersistentVolumeClaim";

/**
 * The annotation of a role's Secret and ConfigMap that says where the role reads each of their
 * keys that is a file, as JSON (`{"domain.key": "/etc/nginx/conf.d/domain.key"}`); the
 * Secret's other keys are secret environment.
 */
export const filePathsAnnotation = "authenticated-registry.files";

const isRoleFiles = (resource: InspectedResource) => resource.type === secretType || resource.type === configMapType;

/** A label or annotation of `metadata`; reads only that key. */
function metadataEntry(resource: InspectedResource, kind: "labels" | "annotations", key: string): string | undefined {
    const value = field(field(resource.props.metadata, kind), key);
    return typeof value === "string" ? value : undefined;
}

/** The containers of a Deployment's pod template. */
function containers(resource: InspectedResource): unknown[] {
    return listEntries(field(field(field(resource.props.spec, "template"), "spec"), "containers"));
}

/**
 * On Kubernetes a role is a Deployment and the Service in front of it, both labelled with the
 * role; its files are a Secret (secret files, and secret environment) and a ConfigMap, whose
 * keys' paths are in their {@link filePathsAnnotation}.
 */
export const kubernetesInspection: RuntimeInspection = {
    processTypes: [deploymentType, serviceType],
    fileTypes: [secretType, configMapType],
    volumeTypes: [claimType],
    imageTypes: [deploymentType],
    supportTypes: ["kubernetes:policy/v1:PodDisruptionBudget", "kubernetes:networking.k8s.io/v1:NetworkPolicy"],

    label: (resource, key) => metadataEntry(resource, "labels", key) ?? metadataEntry(resource, "annotations", key),

    role: (resource) =>
        [deploymentType, serviceType].includes(resource.type) || isRoleFiles(resource)
            ? metadataEntry(resource, "labels", labelKeys.role)
            : undefined,

    publishedPorts(resource) {
        if (resource.type === serviceType) {
            const type = field(resource.props.spec, "type");
            if (type !== "NodePort" && type !== "LoadBalancer") return [];
            return listEntries(field(resource.props.spec, "ports")).map((port, i) => ({
                path: `spec.ports[${i}]`,
                port: field(port, "port"),
                where: type === "NodePort" ? "a port of every node (type NodePort)" : "an external load balancer (type LoadBalancer)",
                loopbackOnly: false,
            }));
        }
        if (resource.type !== deploymentType) return [];
        return containers(resource).flatMap((container, i) =>
            listEntries(field(container, "ports")).flatMap((port, j) =>
                field(port, "hostPort") === undefined
                    ? []
                    : [
                          {
                              path: `spec.template.spec.containers[${i}].ports[${j}]`,
                              port: field(port, "containerPort"),
                              where: `${(field(port, "hostIP") as string | undefined) ?? "0.0.0.0 (no hostIP given)"} of its node`,
                              loopbackOnly: ["127.0.0.1", "::1"].includes(field(port, "hostIP") as string),
                          },
                      ],
            ),
        );
    },

    hostNetworkSettings: (resource) =>
        resource.type === deploymentType && field(field(field(resource.props.spec, "template"), "spec"), "hostNetwork") === true
            ? [{ setting: "spec.template.spec.hostNetwork", where: "on every interface of its node", fix: "remove it" }]
            : [],

    privileges(resource) {
        if (resource.type !== deploymentType) return [];
        const pod = field(field(resource.props.spec, "template"), "spec");
        return [
            ...(["hostPID", "hostIPC"] as const)
                .filter((key) => field(pod, key) === true)
                .map((key) => ({ setting: `spec.template.spec.${key}`, grants: "its node's processes" })),
            ...containers(resource).flatMap((container, i) => {
                const path = `spec.template.spec.containers[${i}].securityContext`;
                const context = field(container, "securityContext");
                const added = listEntries(field(field(context, "capabilities"), "add"));
                return [
                    ...(field(context, "privileged") === true
                        ? [{ setting: `${path}.privileged`, grants: "every device and capability of its node" }]
                        : []),
                    ...(field(context, "allowPrivilegeEscalation") === true
                        ? [{ setting: `${path}.allowPrivilegeEscalation`, grants: "more privileges than its parent (setuid programs)" }]
                        : []),
                    ...(added.length > 0 ? [{ setting: `${path}.capabilities.add`, grants: `the capabilities ${added.join(", ")}` }] : []),
                ];
            }),
        ];
    },

    carriedFiles(resource) {
        if (!isRoleFiles(resource)) {
            return {
                carries: "none",
                elsewhere: "a role's files are its Secret and ConfigMap, each checked on its own",
                keepsFileLabels: resource.type === deploymentType,
            };
        }
        const annotation = metadataEntry(resource, "annotations", filePathsAnnotation);
        const paths = annotation === undefined ? {} : (JSON.parse(annotation) as Record<string, string>);
        // A Secret's content as the program wrote it (stringData), or as the provider's check
        // leaves it for the engine: base64 in data.
        const content = (key: string) => {
            const text = field(resource.props.stringData, key);
            if (typeof text === "string" || resource.type !== secretType) return text ?? field(resource.props.data, key);
            const encoded = field(resource.props.data, key);
            return typeof encoded === "string" ? Buffer.from(encoded, "base64").toString("utf8") : encoded;
        };
        return { carries: "some", files: Object.entries(paths).map(([key, path]) => ({ path, content: () => content(key) })) };
    },

    storedSecrets: (resource) =>
        resource.type === secretType ? [{ property: "stringData", holds: "its role's secret files and environment" }] : [],

    images: (resource) =>
        resource.type === deploymentType
            ? containers(resource).map((container, i) => ({
                  path: `spec.template.spec.containers[${i}].image`,
                  reference: field(container, "image"),
              }))
            : [],
};
