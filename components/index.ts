/**
 * The package's public API: what programs import. Everything else is internal and may change in
 * any release; `api/authenticated-registry.api.md` records this surface, and CI fails when it
 * changes without the record.
 */
export { AuthenticatedRegistry, AuthenticatedRegistryArgs, checkAuthenticatedRegistryArgs } from "./authenticatedRegistry";
export { RegistryArgs } from "./registryArgs";
export { ImmutableTagRule } from "./immutableTags";
export { RetentionRule } from "./retention";
export { NotificationEndpoint, NotificationEvent } from "./notifications";
export { RegistryMirror } from "./mirrors";
export { AuditAction, AuditLine } from "./auditLog";
export { RegistryUser } from "./access";
export { AccessAction, AccessGrant, UserAccess, UserGrants } from "./grants";
export { AuthMode, RegistryAuth } from "./auth";
export { LoginThrottle, LoginThrottleArgs } from "./guard";
export { FilesystemStorage, RegistryStorage, S3Storage, StorageKind } from "./storage";
export { TlsMaterial, TlsMaterialArgs, TlsMode, TlsSettings } from "./tlsMaterial";
export { HtpasswdCredentials, HtpasswdCredentialsArgs, HtpasswdUser } from "./htpasswdCredentials";
export { RuntimeKind } from "./runtimes/runtime";
export { ContainerRuntime, ContainerRuntimeArgs, RestartPolicy } from "./runtimes/container/settings";
export { PublishMode, SwarmReplicas, SwarmRuntime, SwarmRuntimeArgs } from "./runtimes/swarm/settings";
export {
    KubernetesReplicas,
    KubernetesResources,
    KubernetesRuntime,
    KubernetesServiceType,
    ResourceQuantities,
    RoleResources,
} from "./runtimes/kubernetes/settings";
export { defaults } from "./defaults";
export { InvalidArgumentError } from "./validation";
