/**
 * Pulumi mocks that record every registration, so tests assert the exact resources a component
 * creates. Providers are simulated with deterministic state: the same name gives the same
 * random bytes, password and certificate on every run, as state does between real runs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";

/** One registered resource: its URN (which encodes the parent chain), type, name and inputs. */
export interface Registration {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- whatever the program passed; the tests read it at any depth
    readonly inputs: Record<string, any>;
}

/** A stable digest of a name, standing in for random values that state would keep. */
function seeded(name: string, bytes: number): Buffer {
    return crypto.createHash("sha512").update(name).digest().subarray(0, bytes);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the engine's inputs and outputs are untyped property bags
function providerState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    switch (type) {
        case "random:index/randomBytes:RandomBytes": {
            const bytes = seeded(name, inputs.length);
            return { ...inputs, base64: bytes.toString("base64"), hex: bytes.toString("hex") };
        }
        case "random:index/randomPassword:RandomPassword":
            return {
                ...inputs,
                result: seeded(name, 48)
                    .toString("base64")
                    .replace(/[^A-Za-z0-9]/g, "")
                    .slice(0, inputs.length),
            };
        case "tls:index/privateKey:PrivateKey":
            return {
                ...inputs,
                privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${name}\n-----END PRIVATE KEY-----\n`,
                privateKeyPemPkcs8: `-----BEGIN PRIVATE KEY-----\n${name} pkcs8\n-----END PRIVATE KEY-----\n`,
            };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { ...inputs, certPem: `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n` };
        case "tls:index/certRequest:CertRequest":
            return { ...inputs, certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\n${name}\n-----END CERTIFICATE REQUEST-----\n` };
        case "docker:index/remoteImage:RemoteImage":
            return { ...inputs, imageId: `sha256:${crypto.createHash("sha256").update(inputs.name).digest("hex")}` };
        default:
            return inputs;
    }
}

/** Installs the mocks (call before creating resources) and clears earlier registrations. */
export async function installMocks(): Promise<void> {
    recorded.length = 0;
    await pulumi.runtime.setMocks(
        {
            newResource: (args: pulumi.runtime.MockResourceArgs) => {
                recorded.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs: args.inputs });
                return { id: args.custom ? `${args.name}-id` : undefined, state: providerState(args.type, args.name, args.inputs) };
            },
            call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
        },
        "authenticated-registry",
        "test",
        false,
    );
}

const recorded: Omit<Registration, "urn">[] = [];

/**
 * Every resource registered so far, once pending registrations have completed, each with the
 * URN the engine gave it; a URN's type part is the chain of parent types, outermost first.
 */
export async function registered(): Promise<Registration[]> {
    // waitForRPCs is public at runtime but @internal in the typings.
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    const monitor = pulumi.runtime.getMonitor() as unknown as { getRegisteredResources(): Map<string, unknown> };
    const urns = [...monitor.getRegisteredResources().keys()];
    return recorded.map((r) => {
        const urn = urns.find((u) => u.endsWith(`$${r.type}::${r.name}`) || u.endsWith(`::${r.type}::${r.name}`));
        if (urn === undefined) {
            throw new Error(`no URN registered for ${r.type} ${r.name}`);
        }
        return { ...r, urn };
    });
}

/** The type of a registration's parent, from its URN (empty for a top-level resource). */
export function parentChain(registration: Registration): string {
    const chain = registration.urn.split("::")[2].split("$");
    return chain.slice(0, -1).join("$");
}

// How the SDK serialises a secret value on the wire (the signature key and its value).
const secretSignature = "4dabf18193072939515e22adb298388d";
const secretValue = "1b47061264138c4ac30d75fd1eb44270";

/** True when a recorded input arrived at the engine marked secret. */
export function isSecretInput(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[secretSignature] === secretValue;
}

/** A recorded input with its secret marks removed, at any depth. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded inputs of any shape, returned for the tests to read
export function plain(value: any): any {
    if (isSecretInput(value)) {
        return plain(value.value);
    }
    if (Array.isArray(value)) {
        return value.map(plain);
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
    }
    return value;
}

/** The resolved value of an Output. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}
