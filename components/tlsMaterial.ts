import * as pulumi from "@pulumi/pulumi";
import * as net from "net";
import * as tls from "@pulumi/tls";
import { checkNow, isPending, typeToken } from "./inputs";
import { checkSuppliedTls, SuppliedTls } from "./suppliedTls";
import { defaults } from "./defaults";
import { InvalidArgumentError, validateDnsNames, validateDomain, validateHours, validateIpAddress } from "./validation";

/** Where the proxy's certificate comes from. */
export const TlsMode = {
    /** A private CA and a server certificate it signs, generated with `@pulumi/tls` and kept in state. */
    Generated: "generated",
    /** A certificate chain and key the user already has, checked before anything is created. */
    Supplied: "supplied",
} as const;
/** One of {@link TlsMode}'s values. */
export type TlsMode = (typeof TlsMode)[keyof typeof TlsMode];

/**
 * TLS settings of a registry: generated material (a private CA and a server certificate) or a
 * supplied certificate and key. The host name comes from elsewhere: the registry's `domain`, or
 * {@link TlsMaterialArgs}' own.
 */
export interface TlsSettings {
    /**
     * Whether to generate the material or use the supplied PEM.
     * @default "generated"
     */
    readonly mode?: TlsMode;
    /**
     * Generated mode: further DNS names for the certificate, e.g. `localhost`.
     * @default []
     */
    readonly dnsNames?: string[];
    /**
     * Generated mode: IP addresses for the certificate, e.g. `127.0.0.1`.
     * @default []
     */
    readonly ipAddresses?: string[];
    /**
     * Generated mode: how long the server certificate is valid, in hours. Within
     * `earlyRenewalHours` of its end, the next `pulumi up` issues a new one.
     * @default 8760 (one year)
     */
    readonly validityHours?: number;
    /**
     * Generated mode: how long the CA certificate is valid, in hours. Clients trust the CA, so it
     * outlives the server certificates it signs.
     * @default 87600 (ten years)
     */
    readonly caValidityHours?: number;
    /**
     * Generated mode: hours before expiry from which `pulumi up` renews the server certificate.
     * @default 720 (thirty days)
     */
    readonly earlyRenewalHours?: number;
    /** Supplied mode: the certificate chain in PEM, leaf first. */
    readonly certificatePem?: pulumi.Input<string>;
    /** Supplied mode: the leaf's private key in PEM. Pass it as a secret. */
    readonly privateKeyPem?: pulumi.Input<string>;
    /**
     * Supplied mode: the CA certificate clients must trust, when it is not a public CA.
     * @default "" (the chain ends at a CA clients already trust)
     */
    readonly caCertificatePem?: pulumi.Input<string>;
}

/** Arguments of {@link TlsMaterial}: the TLS settings and the host name they are for. */
export interface TlsMaterialArgs extends TlsSettings {
    /** The host name clients use; the certificate must cover it. */
    readonly domain: string;
}

/** Arguments of {@link TlsMaterial} after checking, with defaults filled in. */
export type CheckedTlsArgs =
    | {
          readonly mode: typeof TlsMode.Generated;
          readonly domain: string;
          readonly dnsNames: string[];
          readonly ipAddresses: string[];
          readonly validityHours: number;
          readonly caValidityHours: number;
          readonly earlyRenewalHours: number;
      }
    | {
          readonly mode: typeof TlsMode.Supplied;
          readonly domain: string;
          /** Checked now when all of it is plain text; otherwise checked as it resolves. */
          readonly material: pulumi.Output<SuppliedTls> | SuppliedTls;
      };

const generatedOnly = ["dnsNames", "ipAddresses", "validityHours", "caValidityHours", "earlyRenewalHours"] as const;
const suppliedOnly = ["certificatePem", "privateKeyPem", "caCertificatePem"] as const;

/**
 * Checks {@link TlsMaterialArgs} without creating anything. `prefix` names the fields as the
 * caller knows them (`tls.` inside {@link AuthenticatedRegistry}). Supplied material that is
 * plain text is checked here; material that is still an Output is checked as it resolves.
 */
export function checkTlsMaterialArgs(args: TlsMaterialArgs, prefix = ""): CheckedTlsArgs {
    const domain = validateDomain("domain", args.domain);
    const mode = args.mode ?? defaults.tls.mode;
    if (mode === TlsMode.Generated) {
        for (const field of suppliedOnly) {
            if (args[field] !== undefined) {
                throw new InvalidArgumentError(`${prefix}${field}`, 'is only used with mode "supplied"; remove it or set the mode');
            }
        }
        return {
            mode,
            domain,
            dnsNames: validateDnsNames(`${prefix}dnsNames`, args.dnsNames ?? []),
            ipAddresses: (args.ipAddresses ?? []).map((ip, i) => validateIpAddress(`${prefix}ipAddresses[${i}]`, ip)),
            validityHours: validateHours(`${prefix}validityHours`, args.validityHours ?? defaults.tls.validityHours),
            caValidityHours: validateHours(`${prefix}caValidityHours`, args.caValidityHours ?? defaults.tls.caValidityHours),
            earlyRenewalHours: validateHours(`${prefix}earlyRenewalHours`, args.earlyRenewalHours ?? defaults.tls.earlyRenewalHours),
        };
    }
    if (mode !== TlsMode.Supplied) {
        throw new InvalidArgumentError(`${prefix}mode`, `${JSON.stringify(mode)} is not a TLS mode; expected "generated" or "supplied"`);
    }
    for (const field of generatedOnly) {
        if (args[field] !== undefined) {
            throw new InvalidArgumentError(
                `${prefix}${field}`,
                'is only used with mode "generated"; a supplied certificate carries its own',
            );
        }
    }
    for (const field of ["certificatePem", "privateKeyPem"] as const) {
        if (args[field] === undefined) {
            throw new InvalidArgumentError(`${prefix}${field}`, 'is required with mode "supplied"; expected PEM text');
        }
    }
    const check = ([certificatePem, privateKeyPem, caCertificatePem]: unknown[]) =>
        checkSuppliedTls({
            domain,
            certificatePem,
            privateKeyPem,
            caCertificatePem,
            fields: {
                certificatePem: `${prefix}certificatePem`,
                privateKeyPem: `${prefix}privateKeyPem`,
                caCertificatePem: `${prefix}caCertificatePem`,
            },
        });
    const pieces = [args.certificatePem, args.privateKeyPem, args.caCertificatePem];
    const pending = pieces.some(isPending);
    return { mode, domain, material: pending ? pulumi.all(pieces).apply(check) : check(pieces) };
}

/**
 * The TLS certificate and key the proxy serves, and the CA certificate clients must trust:
 * generated (a private CA signing a server certificate) or supplied and checked.
 */
export class TlsMaterial extends pulumi.ComponentResource {
    /** The server certificate in PEM, leaf first, then its chain. */
    public readonly certificatePem: pulumi.Output<string>;
    /** The server certificate's private key in PEM (secret). */
    public readonly privateKeyPem: pulumi.Output<string>;
    /** The CA certificate clients must trust, in PEM; empty when the chain ends at a public CA. */
    public readonly caCertificatePem: pulumi.Output<string>;

    constructor(name: string, args: TlsMaterialArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("TlsMaterial"), name, {}, opts);
        const checked = checkNow(this, () => checkTlsMaterialArgs(args));
        const material = checked.mode === TlsMode.Generated ? this.generate(name, checked) : this.supplied(checked.material);
        this.certificatePem = material.certificatePem;
        this.privateKeyPem = pulumi.secret(material.privateKeyPem);
        this.caCertificatePem = material.caCertificatePem;
        this.registerOutputs({
            certificatePem: this.certificatePem,
            privateKeyPem: this.privateKeyPem,
            caCertificatePem: this.caCertificatePem,
        });
    }

    private generate(name: string, args: Extract<CheckedTlsArgs, { mode: "generated" }>): Outputs {
        const { domain, dnsNames, ipAddresses } = args;
        const isIp = net.isIP(domain) !== 0;
        const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        const caCertificate = new tls.SelfSignedCert(
            `${name}-ca`,
            {
                privateKeyPem: caKey.privateKeyPem,
                isCaCertificate: true,
                subject: { commonName: `${domain} registry CA`, organization: "authenticated-registry" },
                validityPeriodHours: args.caValidityHours,
                allowedUses: ["cert_signing", "crl_signing"],
            },
            { parent: this },
        );
        const serverKey = new tls.PrivateKey(`${name}-server-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        const request = new tls.CertRequest(
            `${name}-server-csr`,
            {
                privateKeyPem: serverKey.privateKeyPem,
                subject: { commonName: domain, organization: "authenticated-registry" },
                dnsNames: unique(isIp ? dnsNames : [domain, ...dnsNames]),
                ipAddresses: unique(isIp ? [domain, ...ipAddresses] : ipAddresses),
            },
            { parent: this },
        );
        const serverCertificate = new tls.LocallySignedCert(
            `${name}-server`,
            {
                certRequestPem: request.certRequestPem,
                caPrivateKeyPem: caKey.privateKeyPem,
                caCertPem: caCertificate.certPem,
                validityPeriodHours: args.validityHours,
                earlyRenewalHours: args.earlyRenewalHours,
                allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
            },
            { parent: this },
        );
        return {
            certificatePem: serverCertificate.certPem,
            privateKeyPem: serverKey.privateKeyPem,
            caCertificatePem: caCertificate.certPem,
        };
    }

    private supplied(material: pulumi.Output<SuppliedTls> | SuppliedTls): Outputs {
        const resolved = pulumi.output(material);
        return {
            // Certificates are public; they are secret here only because the key came with them.
            certificatePem: pulumi.unsecret(resolved.certificatePem),
            privateKeyPem: resolved.privateKeyPem,
            caCertificatePem: pulumi.unsecret(resolved.caCertificatePem),
        };
    }
}

interface Outputs {
    certificatePem: pulumi.Output<string>;
    privateKeyPem: pulumi.Output<string>;
    caCertificatePem: pulumi.Output<string>;
}

function unique(values: string[]): string[] {
    return [...new Set(values)];
}
