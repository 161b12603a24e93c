import * as pulumi from "@pulumi/pulumi";
import { roles } from "../defaults";
import { tokenHealthPath, tokenServiceFiles, tokenServicePort } from "../tokenService/files";
import { RoleFile, RoleSpec } from "./spec";

/** What {@link tokenServiceRole} needs. */
export interface TokenServiceRoleArgs {
    readonly image: pulumi.Input<string>;
    /** The bundled service, one JavaScript file. */
    readonly program: string;
    /** The service's settings JSON (secret: it holds the password hashes). */
    readonly settings: pulumi.Input<string>;
    /** The signing key, PKCS#8 PEM (secret). */
    readonly privateKeyPem: pulumi.Input<string>;
    /** The signing key's certificate, PEM. */
    readonly certificatePem: pulumi.Input<string>;
}

/** The token service on a Node.js image: the program, its settings and its signing key as files. */
export function tokenServiceRole(args: TokenServiceRoleArgs): RoleSpec {
    return nodeServiceRole(roles.tokenService, args.image, [
        { path: tokenServiceFiles.program, content: args.program, secret: false, mode: "0644" },
        { path: tokenServiceFiles.settings, content: pulumi.secret(args.settings), secret: true, mode: "0600" },
        { path: tokenServiceFiles.privateKey, content: pulumi.secret(args.privateKeyPem), secret: true, mode: "0600" },
        { path: tokenServiceFiles.certificate, content: args.certificatePem, secret: false, mode: "0644" },
    ]);
}

/** What {@link guardRole} needs. */
export interface GuardRoleArgs {
    readonly image: pulumi.Input<string>;
    /** The bundled program, the token service's. */
    readonly program: string;
    /** The guard's settings JSON: limits only, no secret. */
    readonly settings: string;
}

/**
 * Basic mode's guard: the token service's program with settings that name no issuer, so that it
 * serves the guard's routes only (failed-login limits, the write hold).
 */
export function guardRole(args: GuardRoleArgs): RoleSpec {
    return nodeServiceRole(roles.guard, args.image, [
        { path: tokenServiceFiles.program, content: args.program, secret: false, mode: "0644" },
        { path: tokenServiceFiles.settings, content: args.settings, secret: false, mode: "0644" },
    ]);
}

/** The program on a Node.js image, with its files. */
function nodeServiceRole(role: string, image: pulumi.Input<string>, files: RoleFile[]): RoleSpec {
    return {
        role,
        image,
        command: ["node", tokenServiceFiles.program],
        env: [],
        files,
        // The Node.js images have no curl or wget; node itself asks.
        healthCommand: [
            "node",
            "-e",
            `fetch("http://127.0.0.1:${tokenServicePort}${tokenHealthPath}").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        listenPort: tokenServicePort,
        labels: [],
    };
}
