import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { checked, checkNow, typeToken } from "./inputs";
import { checkSuppliedTls } from "./suppliedTls";
import { InvalidArgumentError, validateDnsNames, validateDomain, validateHours, validateIpAddress } from "./validation";

/** Where the proxy's certificate comes from. */
export const TlsMode = {
    /** A private CA and a server certificate it signs, generated with `@pulumi/tls` and kept in state. */
    Generated: "generated",
    /** A certificate chain and key the user already has, checked before anything is created. */
    Supplied: "supplied",
} as const;
export type TlsMode = (typeof TlsMode)[keyof typeof TlsMode];

/** Arguments of {@link TlsMaterial}. */
export interface TlsMaterialArgs {
    /** The host name clients use; the certificate must cover it. */
    readonly domain: string;
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
        const domain = checkNow(this, () => validateDomain("domain", args.domain));
        const mode = args.mode ?? TlsMode.Generated;
        const material =
            mode === TlsMode.Generated
                ? this.generate(name, domain, args)
                : mode === TlsMode.Supplied
                  ? this.supplied(domain, args)
                  : checkNow(this, () => {
                        throw new InvalidArgumentError("tls.mode", `${JSON.stringify(mode)} is not a TLS mode; expected "generated" or "supplied"`);
                    });
        this.certificatePem = material.certificatePem;
        this.privateKeyPem = pulumi.secret(material.privateKeyPem);
        this.caCertificatePem = material.caCertificatePem;
        this.registerOutputs({
            certificatePem: this.certificatePem,
            privateKeyPem: this.privateKeyPem,
            caCertificatePem: this.caCertificatePem,
        });
    }

    private generate(name: string, domain: string, args: TlsMaterialArgs): Outputs {
        const [dnsNames, ipAddresses, validityHours, caValidityHours, earlyRenewalHours] = checkNow(this, () => {
            for (const field of ["certificatePem", "privateKeyPem", "caCertificatePem"] as const) {
                if (args[field] !== undefined) {
                    throw new InvalidArgumentError(`tls.${field}`, 'is only used with tls.mode "supplied"; remove it or set the mode');
                }
            }
            return [
                validateDnsNames("tls.dnsNames", args.dnsNames ?? []),
                (args.ipAddresses ?? []).map((ip, i) => validateIpAddress(`tls.ipAddresses[${i}]`, ip)),
                validateHours("tls.validityHours", args.validityHours ?? 8760),
                validateHours("tls.caValidityHours", args.caValidityHours ?? 87600),
                validateHours("tls.earlyRenewalHours", args.earlyRenewalHours ?? 720),
            ] as const;
        });
        const isIp = /^[0-9.]+$|:/.test(domain);
        const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        const caCertificate = new tls.SelfSignedCert(
            `${name}-ca`,
            {
                privateKeyPem: caKey.privateKeyPem,
                isCaCertificate: true,
                subject: { commonName: `${domain} registry CA`, organization: "authenticated-registry" },
                validityPeriodHours: caValidityHours,
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
                validityPeriodHours: validityHours,
                earlyRenewalHours,
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

    private supplied(domain: string, args: TlsMaterialArgs): Outputs {
        checkNow(this, () => {
            for (const field of ["certificatePem", "privateKeyPem"] as const) {
                if (args[field] === undefined) {
                    throw new InvalidArgumentError(`tls.${field}`, 'is required with tls.mode "supplied"; expected PEM text');
                }
            }
            for (const field of ["dnsNames", "ipAddresses", "validityHours", "caValidityHours", "earlyRenewalHours"] as const) {
                if (args[field] !== undefined) {
                    throw new InvalidArgumentError(`tls.${field}`, 'is only used with tls.mode "generated"; a supplied certificate carries its own');
                }
            }
        });
        const pieces: pulumi.Input<string | undefined>[] = [args.certificatePem, args.privateKeyPem, args.caCertificatePem];
        // Plain text is checked right here, before any child exists; text that is still an
        // Output (a secret from config, say) is checked as it resolves, during preview too.
        const pending = pieces.some((p) => pulumi.Output.isInstance(p) || p instanceof Promise);
        const material = checked(
            this,
            pending ? pulumi.all(pieces) : (pieces as (string | undefined)[]),
            ([certificatePem, privateKeyPem, caCertificatePem]) =>
                checkSuppliedTls({
                    domain,
                    certificatePem,
                    privateKeyPem,
                    caCertificatePem,
                    fields: { certificatePem: "tls.certificatePem", privateKeyPem: "tls.privateKeyPem", caCertificatePem: "tls.caCertificatePem" },
                }),
        );
        return {
            certificatePem: pulumi.unsecret(material.certificatePem),
            privateKeyPem: material.privateKeyPem,
            caCertificatePem: pulumi.unsecret(material.caCertificatePem),
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
