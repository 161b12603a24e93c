/**
 * Pure validators for component arguments. Each throws an `InvalidArgumentError` whose message
 * names the field and the accepted form, so a bad configuration fails at preview with a message
 * a reviewer can act on. Components turn these into `pulumi.ResourceError`s.
 */
import * as pulumi from "@pulumi/pulumi";
import * as net from "net";

/**
 * A configuration value that was refused; `field` is the argument or config key at fault. It is
 * a `RunError`, so where it escapes (from an Output being resolved, say) Pulumi reports the
 * message alone, without a stack trace.
 */
export class InvalidArgumentError extends pulumi.RunError {
    constructor(
        /** The argument or config key at fault, e.g. `users[1].access[0].actions`. */
        public readonly field: string,
        /** What is wrong and what is accepted, without the field. */
        public readonly detail: string,
    ) {
        super(`${field}: ${detail}`);
        this.name = "InvalidArgumentError";
    }
}

/** Quotes a user-supplied value for an error message without echoing pages of text. */
export function describe(value: unknown): string {
    // Never an object's contents: they may hold a secret, and String() says only "[object Object]".
    if (Array.isArray(value)) return "a list";
    if (typeof value === "object" && value !== null) return "an object";
    const text = typeof value === "string" ? JSON.stringify(value) : String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * One of a fixed set of string values (the values of an `as const` object such as
 * `RestartPolicy`), else a refusal naming `what` and every accepted value.
 */
export function validateOneOf<T extends string>(field: string, value: unknown, accepted: Record<string, T>, what: string): T {
    const values = Object.values(accepted);
    if (!values.includes(value as T)) {
        throw new InvalidArgumentError(field, `${describe(value)} is not ${what}; expected one of ${values.join(", ")}`);
    }
    return value as T;
}

/**
 * Every key of `T`, listed once: `keysOf<T>()([...])` accepts a list only if it names each key
 * of `T` and nothing else, so a key added to an argument type fails to compile until the list
 * (and with it every refusal of unknown keys) knows it.
 */
export function keysOf<T>() {
    return <const K extends readonly (keyof T & string)[]>(
        keys: K & (Exclude<keyof T, K[number]> extends never ? unknown : { missing: Exclude<keyof T, K[number]> }),
    ): K => keys;
}

/**
 * An object whose keys are all among `known`, else a refusal naming the first unknown key
 * (`FIELD.KEY`) and every accepted one; `expected` describes the object when it is none.
 */
export function checkKnownKeys(
    field: string,
    value: unknown,
    known: readonly string[],
    what: string,
    expected: string,
): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new InvalidArgumentError(field, `${describe(value)} is not an object; expected ${expected}`);
    }
    const unknown = Object.keys(value).find((key) => !known.includes(key));
    if (unknown !== undefined) {
        throw new InvalidArgumentError(`${field}.${unknown}`, `is not ${what}; expected one of ${known.join(", ")}`);
    }
    return value as Record<string, unknown>;
}

const dnsLabel = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** True for an RFC 1123 host name such as `registry.example.com` or `localhost`. */
export function isDnsName(value: string): boolean {
    if (value.length === 0 || value.length > 253) {
        return false;
    }
    return value
        .replace(/\.$/, "")
        .split(".")
        .every((label) => dnsLabel.test(label));
}

/** A host name clients use to reach the registry: a DNS name or an IP address. */
export function validateDomain(field: string, value: unknown): string {
    if (typeof value !== "string" || !(isDnsName(value) || net.isIP(value) !== 0)) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not a host name; expected a DNS name such as registry.example.com ` +
                `(letters, digits and hyphens in dot-separated labels of at most 63 characters) or an IP address`,
        );
    }
    return value;
}

/** A list of extra DNS names for the certificate. */
export function validateDnsNames(field: string, value: readonly unknown[]): string[] {
    return value.map((name, i) => {
        if (typeof name !== "string" || !isDnsName(name)) {
            throw new InvalidArgumentError(
                `${field}[${i}]`,
                `${describe(name)} is not a DNS name; expected e.g. localhost or registry.example.com`,
            );
        }
        return name;
    });
}

/** A TCP port: an integer from 1 to 65535. */
export function validatePort(field: string, value: unknown): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
        throw new InvalidArgumentError(field, `${describe(value)} is not a TCP port; expected an integer from 1 to 65535`);
    }
    return value;
}

/** A literal IPv4 or IPv6 address. */
export function validateIpAddress(field: string, value: unknown): string {
    if (typeof value !== "string" || net.isIP(value) === 0) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not an IP address; expected an IPv4 or IPv6 literal such as 127.0.0.1 or 0.0.0.0`,
        );
    }
    return value;
}

/** True for addresses only the host itself can reach: 127.0.0.0/8 and ::1. */
export function isLoopback(address: string): boolean {
    if (net.isIPv4(address)) {
        return address.split(".")[0] === "127";
    }
    const list = new net.BlockList();
    list.addAddress("::1", "ipv6");
    return net.isIPv6(address) && list.check(address, "ipv6");
}

/** A loopback IP address; anything else would expose an unauthenticated port. */
export function validateLoopbackAddress(field: string, value: unknown): string {
    const address = validateIpAddress(field, value);
    if (!isLoopback(address)) {
        throw new InvalidArgumentError(
            field,
            `${describe(address)} is not a loopback address; the registry's direct port skips authentication, ` +
                `so it may only be published on 127.0.0.0/8 or ::1`,
        );
    }
    return address;
}

/** A boolean, and nothing that merely looks like one ("true", 1). */
export function validateBoolean(field: string, value: unknown): boolean {
    if (typeof value !== "boolean") {
        throw new InvalidArgumentError(field, `${describe(value)} is not a boolean; expected true or false`);
    }
    return value;
}

/** The bcrypt cost factor (log2 of the rounds): an integer from 4 to 31. */
export function validateBcryptCost(field: string, value: unknown): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 4 || value > 31) {
        throw new InvalidArgumentError(field, `${describe(value)} is not a bcrypt cost; expected an integer from 4 to 31`);
    }
    return value;
}

/** A positive whole number of hours. */
export function validateHours(field: string, value: unknown): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
        throw new InvalidArgumentError(field, `${describe(value)} is not a duration; expected a whole number of hours, at least 1`);
    }
    return value;
}

// An htpasswd line is `user:hash`; nginx splits at the first colon and the docker client sends
// the name in a Basic header, so names with colons, whitespace or control characters cannot work.
const usernamePattern = /^[^\s:\p{Cc}]+$/u;

/** A basic-auth user name: non-empty, no `:`, no whitespace, no control characters. */
export function validateUsername(field: string, value: unknown): string {
    if (typeof value !== "string" || !usernamePattern.test(value)) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not a valid user name; expected a non-empty name without ':', whitespace or control characters`,
        );
    }
    return value;
}

/** A non-empty list of distinct, valid user names. */
export function validateUsernames(field: string, names: readonly unknown[]): string[] {
    if (names.length === 0) {
        throw new InvalidArgumentError(field, "no users given; expected at least one user");
    }
    const seen = new Set<string>();
    return names.map((name, i) => {
        const username = validateUsername(`${field}[${i}].username`, name);
        if (seen.has(username)) {
            throw new InvalidArgumentError(`${field}[${i}].username`, `${describe(username)} is listed twice; user names must be unique`);
        }
        seen.add(username);
        return username;
    });
}

/** The longest password bcrypt reads; it silently ignores any byte after these. */
export const bcryptMaxPasswordBytes = 72;

/** A password bcrypt can hash without loss: 1 to 72 bytes of UTF-8. Never echoes the value. */
export function validatePassword(field: string, value: unknown): string {
    if (typeof value !== "string" || value.length === 0) {
        throw new InvalidArgumentError(field, "the password is empty; expected 1 to 72 bytes");
    }
    const bytes = Buffer.byteLength(value, "utf8");
    if (bytes > bcryptMaxPasswordBytes) {
        throw new InvalidArgumentError(
            field,
            `the password is ${bytes} bytes long; bcrypt reads only the first ${bcryptMaxPasswordBytes}, so use at most ${bcryptMaxPasswordBytes} bytes`,
        );
    }
    return value;
}

// The grammar of github.com/distribution/reference: [domain[:port]/]path[:tag][@digest].
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const referenceDomain = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const pathComponent = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const tag = "[\\w][\\w.-]{0,127}";
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const referencePattern = new RegExp(`^(?:${referenceDomain}/)?${pathComponent}(?:/${pathComponent})*(?::(${tag}))?(?:@(${digest}))?$`);

/** An image reference in Docker's grammar, e.g. `nginx:1.28.0` or `ghcr.io/org/img@sha256:...`. */
export function validateImageReference(field: string, value: unknown): string {
    if (typeof value !== "string" || value.length > 255 || !referencePattern.test(value)) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not an image reference; expected [registry/]name[:tag][@sha256:digest] in lower case, e.g. nginx:1.28.0`,
        );
    }
    return value;
}

/** True when the reference names a fixed tag or digest rather than the floating `latest`. */
export function isPinnedImageReference(reference: string): boolean {
    const match = referencePattern.exec(reference);
    if (!match) {
        return false;
    }
    const [, tagPart, digestPart] = match;
    return digestPart !== undefined || (tagPart !== undefined && tagPart !== "latest");
}
