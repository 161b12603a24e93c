/**
 * What the plan makes for the token service and the guard, whatever runs them: the program, its
 * settings file, and the key tokens are signed with.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { defaults } from "../defaults";
import { UserAccess } from "../grants";
// Only types from the service: the components load neither jose nor the service itself.
import type { TokenServiceSettings } from "../tokenService/handler";
import type { GuardSettings } from "../tokenService/guard";
import { tokenIssuer } from "../tokenService/files";

/**
 * The token service as one JavaScript file (`bin/token-service.js`, made by `npm run build`),
 * read where the compiled package has it, or beside the sources in a checkout.
 */
export function tokenServiceProgram(): string {
    const candidates = [path.join(__dirname, "..", "..", "token-service.js"), path.join(__dirname, "..", "..", "bin", "token-service.js")];
    const found = candidates.find((file) => fs.existsSync(file));
    if (found === undefined) {
        throw new Error(`the token service program is missing (looked for ${candidates.join(", ")}); run \`npm run build\``);
    }
    return fs.readFileSync(found, "utf8");
}

/**
 * The token signing key (P-256, made by `@pulumi/tls` and kept in state) and its self-signed
 * certificate, which the registry trusts; renewed, with the service and the registry, within
 * thirty days of its year's end. `aliases` carry them from where earlier releases kept them.
 */
export function tokenSigningMaterial(
    name: string,
    parent: pulumi.Resource,
    aliases: { key?: pulumi.Alias[]; certificate?: pulumi.Alias[] } = {},
): { key: tls.PrivateKey; certificate: tls.SelfSignedCert } {
    const key = new tls.PrivateKey(`${name}-signing-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent, aliases: aliases.key });
    const certificate = new tls.SelfSignedCert(
        `${name}-signing-certificate`,
        {
            privateKeyPem: key.privateKeyPem,
            subject: { commonName: tokenIssuer },
            validityPeriodHours: defaults.tls.validityHours,
            earlyRenewalHours: defaults.tls.earlyRenewalHours,
            allowedUses: ["digital_signature"],
        },
        { parent, aliases: aliases.certificate },
    );
    return { key, certificate };
}

/** The token service's settings file: who may log in with which hash, what each may do, and the guard's limits. */
export function tokenServiceSettings(args: {
    /** The tokens' `aud`: `HOST:PORT` as clients know the registry. */
    service: string;
    lifetimeSeconds: number;
    users: readonly Required<UserAccess>[];
    /** Each user's bcrypt hash by user name (secret). */
    passwordHashes: pulumi.Input<Record<string, string>>;
    guard: GuardSettings;
}): pulumi.Output<string> {
    return pulumi.output(args.passwordHashes).apply((hashes) =>
        JSON.stringify(
            {
                ...args.guard,
                issuer: tokenIssuer,
                service: args.service,
                lifetimeSeconds: args.lifetimeSeconds,
                users: args.users.map((user) => ({ ...user, passwordHash: hashes[user.username] })),
            } satisfies TokenServiceSettings,
            null,
            2,
        ),
    );
}
