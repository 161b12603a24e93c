import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { UserAccess } from "./grants";
import { validateTokenLifetime } from "./auth";
import { defaultRestartPolicy, RestartPolicy, validateRestartPolicy } from "./containerSettings";
import { defaults } from "./defaults";
import { checkNow, typeToken } from "./inputs";
// Only types from the service's handler: the components do not load jose or the service itself.
import type { TokenServiceSettings } from "./tokenService/handler";
import { tokenServicePort } from "./tokenService/files";
import type { GuardSettings } from "./tokenService/guard";
import { guardSettings, LoginThrottleArgs, validateLoginThrottle, validateWriteHoldSeconds } from "./guard";
import { tokenServiceRole } from "./roles/tokenService";
import { roleContainer } from "./runtimes/container";

/** Arguments of {@link TokenService}. */
export interface TokenServiceArgs {
    /** The image to run the service on: Node.js 20 or later, `node` on the PATH. */
    readonly image: pulumi.Input<string>;
    /** The private network nginx reaches the service on. */
    readonly networkName: pulumi.Input<string>;
    /** The tokens' `aud`: the registry's service name, `HOST:PORT` as clients know it. */
    readonly service: string;
    /**
     * The tokens' `iss`.
     * @default "authenticated-registry token service"
     */
    readonly issuer?: string;
    /**
     * How long a token is valid, in seconds.
     * @default 300
     */
    readonly lifetimeSeconds?: number;
    /** The users, with grants checked by `validateUserAccess`. */
    readonly users: readonly Required<UserAccess>[];
    /** Each user's bcrypt password hash by user name (secret). */
    readonly passwordHashes: pulumi.Input<Record<string, string>>;
    /**
     * The service's name on the private network; nginx's upstream is `ALIAS:5001`.
     * @default "token-service"
     */
    readonly networkAlias?: string;
    /**
     * Hours the signing certificate is valid; within `signingRenewalHours` of its end the next
     * `pulumi up` makes a new key and certificate, and replaces the service and the registry.
     * @default 8760 (one year)
     */
    readonly signingValidityHours?: number;
    /**
     * See `signingValidityHours`.
     * @default 720 (thirty days)
     */
    readonly signingRenewalHours?: number;
    /**
     * The `authenticated-registry.instance` label value.
     * @default the component's name
     */
    readonly instance?: string;
    /**
     * When Docker restarts the container.
     * @default "unless-stopped"
     */
    readonly restart?: RestartPolicy;
    /**
     * Limits on failed logins: past them an address gets 429 before its password is checked.
     * @default on, with the defaults of {@link LoginThrottleArgs}
     */
    readonly loginThrottle?: LoginThrottleArgs;
    /**
     * How long a write waits while garbage collection holds the registry, in seconds.
     * @default 120
     */
    readonly writeHoldSeconds?: number;
}

/** The default `iss` of the tokens. */
export const defaultTokenIssuer = "authenticated-registry token service";

/**
 * The token service as one JavaScript file (`bin/token-service.js`, made by `npm run build`),
 * read where the compiled package has it, or beside the sources in a checkout.
 */
export function tokenServiceProgram(): string {
    const candidates = [path.join(__dirname, "..", "token-service.js"), path.join(__dirname, "..", "bin", "token-service.js")];
    const found = candidates.find((file) => fs.existsSync(file));
    if (found === undefined) {
        throw new Error(`the token service program is missing (looked for ${candidates.join(", ")}); run \`npm run build\``);
    }
    return fs.readFileSync(found, "utf8");
}

/**
 * The token signing key (P-256, made by `@pulumi/tls` and kept in state) and its self-signed
 * certificate, which the registry trusts; renewed within `signingRenewalHours` of its end.
 */
export function tokenSigningMaterial(
    name: string,
    args: Pick<TokenServiceArgs, "signingValidityHours" | "signingRenewalHours"> & { issuer: string },
    parent: pulumi.Resource,
): { key: tls.PrivateKey; certificate: tls.SelfSignedCert } {
    const key = new tls.PrivateKey(`${name}-signing-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent });
    const certificate = new tls.SelfSignedCert(
        `${name}-signing-certificate`,
        {
            privateKeyPem: key.privateKeyPem,
            subject: { commonName: args.issuer },
            validityPeriodHours: args.signingValidityHours ?? defaults.tls.validityHours,
            earlyRenewalHours: args.signingRenewalHours ?? defaults.tls.earlyRenewalHours,
            allowedUses: ["digital_signature"],
        },
        { parent },
    );
    return { key, certificate };
}

/** The service's settings file: who may log in with which hash, what each may do, and the guard's limits. */
export function tokenServiceSettings(
    args: Pick<TokenServiceArgs, "service" | "users" | "passwordHashes"> & {
        issuer: string;
        lifetimeSeconds: number;
        guard: GuardSettings;
    },
): pulumi.Output<string> {
    return pulumi.output(args.passwordHashes).apply((hashes) =>
        JSON.stringify(
            {
                ...args.guard,
                issuer: args.issuer,
                service: args.service,
                lifetimeSeconds: args.lifetimeSeconds,
                users: args.users.map((user) => ({ ...user, passwordHash: hashes[user.username] })),
            } satisfies TokenServiceSettings,
            null,
            2,
        ),
    );
}

/**
 * The registry token service in its own container: it checks a user's password once, with
 * bcrypt, and issues ES256 tokens scoped by the user's grants, signed with a key made by
 * `@pulumi/tls` and kept in state. The registry trusts the key's certificate.
 */
export class TokenService extends pulumi.ComponentResource {
    /** The signing key's certificate: the registry's `auth.token.rootcertbundle`. */
    public readonly signingCertificatePem: pulumi.Output<string>;
    /** `host:port` at which nginx reaches the service. */
    public readonly upstream: string;
    /** The tokens' `iss`. */
    public readonly issuer: string;
    /** The container's name on the Docker host. */
    public readonly containerName: pulumi.Output<string>;

    constructor(name: string, args: TokenServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("TokenService"), name, {}, opts);
        const alias = args.networkAlias ?? "token-service";
        const issuer = args.issuer ?? defaultTokenIssuer;
        const [lifetimeSeconds, restart, guard] = checkNow(
            this,
            () =>
                [
                    validateTokenLifetime("lifetimeSeconds", args.lifetimeSeconds ?? defaults.auth.tokenLifetimeSeconds),
                    validateRestartPolicy("restart", args.restart ?? defaultRestartPolicy),
                    guardSettings(
                        validateLoginThrottle("loginThrottle", args.loginThrottle),
                        validateWriteHoldSeconds("writeHoldSeconds", args.writeHoldSeconds),
                    ),
                ] as const,
        );

        const { key, certificate } = tokenSigningMaterial(name, { ...args, issuer }, this);
        const settings = tokenServiceSettings({ ...args, issuer, lifetimeSeconds, guard });

        const spec = tokenServiceRole({
            image: args.image,
            program: tokenServiceProgram(),
            settings,
            privateKeyPem: key.privateKeyPemPkcs8,
            certificatePem: certificate.certPem,
        });
        const container = roleContainer(
            `${name}-container`,
            spec,
            { containerName: name, instance: args.instance ?? name, networks: [{ name: args.networkName, aliases: [alias] }], restart },
            this,
        );

        this.signingCertificatePem = certificate.certPem;
        this.upstream = `${alias}:${tokenServicePort}`;
        this.issuer = issuer;
        this.containerName = container.name;
        this.registerOutputs({
            signingCertificatePem: this.signingCertificatePem,
            upstream: this.upstream,
            issuer: this.issuer,
            containerName: this.containerName,
        });
    }
}
