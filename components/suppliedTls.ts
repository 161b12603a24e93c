/**
 * Checks for TLS material a user supplies: each piece is PEM, the key matches the leaf
 * certificate, the leaf covers the domain and is valid now. Pure functions over Node's X509
 * support, so a bad certificate fails the preview instead of an nginx start-up.
 */
import * as crypto from "crypto";
import * as net from "net";
import { InvalidArgumentError } from "./validation";

const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?\r?\n-----END \1-----/g;

/** The PEM blocks of a text, in order, as `{label, pem}`. Throws when there are none. */
export function pemBlocks(field: string, text: unknown): { label: string; pem: string }[] {
    if (typeof text !== "string") {
        throw new InvalidArgumentError(field, "expected PEM text");
    }
    const blocks = [...text.matchAll(pemBlock)].map((m) => ({ label: m[1], pem: `${m[0]}\n` }));
    if (blocks.length === 0) {
        throw new InvalidArgumentError(field, "is not PEM; expected one or more -----BEGIN ...----- blocks");
    }
    return blocks;
}

/** Parses every certificate of a PEM bundle; other block types are refused. */
export function parseCertificates(field: string, text: unknown): crypto.X509Certificate[] {
    return pemBlocks(field, text).map(({ label, pem }, i) => {
        if (label !== "CERTIFICATE") {
            throw new InvalidArgumentError(field, `block ${i + 1} is a ${label}; expected only CERTIFICATE blocks`);
        }
        try {
            return new crypto.X509Certificate(pem);
        } catch (err) {
            throw new InvalidArgumentError(field, `block ${i + 1} is not a readable X.509 certificate (${(err as Error).message})`);
        }
    });
}

/** Parses a private key in PEM (PKCS#1, PKCS#8 or SEC1). The message never echoes the key. */
export function parsePrivateKey(field: string, text: unknown): crypto.KeyObject {
    const blocks = pemBlocks(field, text);
    if (blocks.length !== 1 || !blocks[0].label.endsWith("PRIVATE KEY")) {
        throw new InvalidArgumentError(field, "expected exactly one unencrypted PEM PRIVATE KEY block");
    }
    try {
        return crypto.createPrivateKey(blocks[0].pem);
    } catch {
        throw new InvalidArgumentError(field, "is not a readable private key; expected an unencrypted RSA, EC or Ed25519 key in PEM");
    }
}

/** True when the certificate names the host in its SANs (or CN, for certificates without SANs). */
export function certificateCovers(certificate: crypto.X509Certificate, host: string): boolean {
    return net.isIP(host) !== 0 ? certificate.checkIP(host) !== undefined : certificate.checkHost(host) !== undefined;
}

/** What the proxy serves: the leaf first, then the chain, each block ending in a newline. */
export interface SuppliedTls {
    readonly certificatePem: string;
    readonly privateKeyPem: string;
    readonly caCertificatePem: string;
}

/** The supplied pieces to check, named by the fields they came from (for messages). */
export interface SuppliedTlsInput {
    readonly domain: string;
    readonly certificatePem: unknown;
    readonly privateKeyPem: unknown;
    readonly caCertificatePem?: unknown;
    readonly fields: { certificatePem: string; privateKeyPem: string; caCertificatePem: string };
    /** The instant to test validity against. */
    readonly now?: Date;
}

/** Validates supplied material and normalises it to PEM bundles nginx and clients read. */
export function checkSuppliedTls(input: SuppliedTlsInput): SuppliedTls {
    const { fields } = input;
    const chain = parseCertificates(fields.certificatePem, input.certificatePem);
    const key = parsePrivateKey(fields.privateKeyPem, input.privateKeyPem);
    const leaf = chain[0];
    if (!leaf.checkPrivateKey(key)) {
        throw new InvalidArgumentError(
            fields.privateKeyPem,
            `does not match the certificate (${leaf.subject.replace(/\n/g, ", ")}); ` +
                `expected the private key of the first certificate in ${fields.certificatePem}`,
        );
    }
    const now = input.now ?? new Date();
    if (new Date(leaf.validTo) <= now) {
        throw new InvalidArgumentError(
            fields.certificatePem,
            `expired on ${new Date(leaf.validTo).toISOString()}; supply a current certificate`,
        );
    }
    if (new Date(leaf.validFrom) > now) {
        throw new InvalidArgumentError(fields.certificatePem, `is not valid before ${new Date(leaf.validFrom).toISOString()}`);
    }
    if (!certificateCovers(leaf, input.domain)) {
        throw new InvalidArgumentError(
            fields.certificatePem,
            `does not cover the domain ${JSON.stringify(input.domain)} (subject alternative names: ${leaf.subjectAltName ?? "none"}); ` +
                "expected a certificate issued for the domain",
        );
    }
    const ca = input.caCertificatePem === undefined ? [] : parseCertificates(fields.caCertificatePem, input.caCertificatePem);
    return {
        certificatePem: chain.map((c) => c.toString()).join(""),
        privateKeyPem: (input.privateKeyPem as string).trim() + "\n",
        caCertificatePem: ca.map((c) => c.toString()).join(""),
    };
}
