export * from "./access";
export * from "./authenticatedRegistry";
export * from "./registryArgs";
export * from "./containerSettings";
export * from "./defaults";
export * from "./htpasswdCredentials";
export * from "./nginxAuthProxy";
export * from "./nginxConfig";
export * from "./registryServer";
export * from "./suppliedTls";
export * from "./tlsMaterial";
export * from "./validation";
export * from "./auth";
export * from "./tokenServer";
export * from "./guard";
export * from "./registryGuard";
export * from "./storage";
export * from "./swarmRegistry";
export * from "./swarmSettings";
export * from "./roles/spec";
export * from "./roles/edge";
export { EndpointMode, rollingUpdate, secretEnvironmentPath, shellAssignment, swarmObjectName } from "./runtimes/swarm";
export {
    filesAppliedTimeoutSeconds,
    filesMarkers,
    filesWatcherScript,
    filesWriterMountPath,
    filesWriterScript,
    ReloadingContainer,
    reloadingRoleContainer,
} from "./runtimes/container";
