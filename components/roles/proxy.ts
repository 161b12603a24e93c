import * as pulumi from "@pulumi/pulumi";
import { UserAccess } from "../grants";
import { labelKeys, roles } from "../defaults";
import { emptyDefaultSite, livenessPath, nginxPaths } from "../nginxConfig";
import { RoleReload, RoleSpec } from "./spec";

/** The port nginx listens on inside the container, as in the seed. */
export const proxyListenPort = 443;

/** What {@link proxyRole} needs: the rendered config and the material it names. */
export interface ProxyRoleArgs {
    readonly image: pulumi.Input<string>;
    /** The rendered `registry.conf` (`renderNginxConfig`). */
    readonly config: string;
    /** The bcrypt htpasswd file (secret); basic mode only. */
    readonly htpasswd?: pulumi.Input<string>;
    readonly certificatePem: pulumi.Input<string>;
    /** The certificate's key (secret). */
    readonly privateKeyPem: pulumi.Input<string>;
    /** The checked grants, shown as a label so previews show them and the policy pack checks them. */
    readonly users?: readonly UserAccess[];
}

/**
 * How nginx takes new files in place: `nginx -t` checks them, `nginx -s reload` makes the master
 * read them and start new workers, which serve new connections while the old workers finish the
 * requests they have. The grants' label describes the config, so it goes with the files.
 */
export const proxyReload: RoleReload = {
    directory: nginxPaths.directory,
    start: ["nginx", "-g", "daemon off;"],
    check: ["nginx", "-t", "-q"],
    reload: ["nginx", "-s", "reload"],
    fileLabels: [labelKeys.access],
};

/**
 * nginx terminating TLS and enforcing authentication and grants. Its files go where the seed
 * mounts them, under `/etc/nginx/conf.d`; the key is readable by root only.
 */
export function proxyRole(args: ProxyRoleArgs): RoleSpec {
    return {
        role: roles.proxy,
        image: args.image,
        env: [],
        files: [
            { path: nginxPaths.config, content: args.config, secret: false, mode: "0644" },
            { path: nginxPaths.defaultSite, content: emptyDefaultSite, secret: false, mode: "0644" },
            // Worker processes read the password file on every request, so it cannot be
            // root-only; the key is read once by the root master process, so it is.
            ...(args.htpasswd === undefined
                ? []
                : [{ path: nginxPaths.htpasswd, content: pulumi.secret(args.htpasswd), secret: true, mode: "0644" }]),
            { path: nginxPaths.certificate, content: args.certificatePem, secret: false, mode: "0644" },
            { path: nginxPaths.privateKey, content: pulumi.secret(args.privateKeyPem), secret: true, mode: "0600" },
        ],
        healthCommand: [
            "curl",
            "--fail",
            "--silent",
            "--insecure",
            "--output",
            "/dev/null",
            `https://127.0.0.1:${proxyListenPort}${livenessPath}`,
        ],
        listenPort: proxyListenPort,
        labels: args.users === undefined ? [] : [{ label: labelKeys.access, value: JSON.stringify(args.users) }],
        // nginx finishes the requests it has on SIGQUIT; SIGTERM drops them.
        stopSignal: "SIGQUIT",
        reload: proxyReload,
    };
}
