/**
 * The components the provider serves to every Pulumi language: the registry, and the parts users
 * compose on their own. The schema (schema.json) is inferred from these classes' arguments and
 * public outputs.
 */
export { AuthenticatedRegistry, HtpasswdCredentials, TlsMaterial } from "../components/index";
