import * as pulumi from "@pulumi/pulumi";
import { AuthenticatedRegistry, RegistryUser } from "authenticated-registry";

const config = new pulumi.Config();
// The images, unless named here, are the ones the package pins; name your own mirror's copies.
const images = {
    nginxImage: config.get("nginxImage"),
    registryImage: config.get("registryImage"),
    guardImage: config.get("guardImage"),
};

const users: RegistryUser[] = [
    // CI pushes and pulls the team's images; its password is generated.
    { username: "ci", access: [{ repositories: ["team/**"], actions: ["pull", "push"] }] },
    // Deployments pull them, with a password of their own from the stack's secrets.
    { username: "deploy", password: config.getSecret("deployPassword"), access: [{ repositories: ["team/**"], actions: ["pull"] }] },
    // The administrator may do anything, delete included, and list the catalog.
    { username: "admin", catalog: true, access: [{ repositories: ["**"], actions: ["pull", "push", "delete"] }] },
];

const registry = new AuthenticatedRegistry("shared", {
    domain: "registry.internal",
    port: config.getNumber("port") ?? 35043,
    container: { bindAddress: "127.0.0.1" },
    users,
    ...images,
});

// The same users in token mode: the token service the package ships checks each password once.
const tokens = new AuthenticatedRegistry("tokens", {
    domain: "tokens.internal",
    port: config.getNumber("tokensPort") ?? 35143,
    container: { bindAddress: "127.0.0.1" },
    users,
    auth: { mode: "token" },
    ...images,
});

export const url = registry.url;
export const tokensUrl = tokens.url;
export const passwords = registry.passwords;
