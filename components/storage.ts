/**
 * Where the registry keeps images: a Docker volume on this host (`filesystem`, the default), or
 * an S3 bucket (`s3`: AWS or any S3-compatible server such as MinIO), which is also what several
 * hosts sharing one registry need.
 */
import * as pulumi from "@pulumi/pulumi";
import { isPending } from "./inputs";
import { defaults } from "./defaults";
import { checkKnownKeys, describe, InvalidArgumentError, keysOf, validateBoolean } from "./validation";

/** The storage kinds. */
export const StorageKind = {
    /** Images on a Docker volume of this host, mounted at `/data` (`dataVolumeName`). */
    Filesystem: "filesystem",
    /** Images in an S3 bucket, which must exist: AWS, or an S3-compatible server such as MinIO. */
    S3: "s3",
} as const;
/** One of {@link StorageKind}'s values. */
export type StorageKind = (typeof StorageKind)[keyof typeof StorageKind];

/**
 * Where the registry keeps images: one object for every kind, so that every Pulumi language can
 * write it. The fields other than `kind` are the `s3` kind's; filesystem storage takes none.
 */
export interface RegistryStorage {
    /** `filesystem` (a Docker volume of this host) or `s3` (an S3 bucket). */
    readonly kind: StorageKind;
    /** s3: the bucket, which must exist: 3 to 63 lower-case letters, digits, dots and hyphens. Required. */
    readonly bucket?: string;
    /**
     * s3: the bucket's region.
     * @default "us-east-1"
     */
    readonly region?: string;
    /**
     * s3: the S3 endpoint of an S3-compatible server, `http(s)://HOST[:PORT]`; the registry uses
     * path-style addressing there, and plain HTTP only when the URL says `http://`.
     * @default undefined (AWS S3 of `region`)
     */
    readonly endpoint?: string;
    /** s3: the access key ID; pass it as a secret. Required. */
    readonly accessKey?: pulumi.Input<string>;
    /** s3: the secret access key; pass it as a secret. Required. */
    readonly secretKey?: pulumi.Input<string>;
    /**
     * s3: a key prefix inside the bucket, so one bucket can hold several registries.
     * @default undefined (the bucket's root)
     */
    readonly rootDirectory?: string;
    /**
     * s3: send clients to the bucket for blob downloads (the registry answers `307` with a
     * presigned URL) instead of serving them itself. Only for a bucket clients can reach; a
     * download then bypasses the proxy (the URL is signed for that blob and expires).
     * @default false (every byte goes through the registry and nginx)
     */
    readonly redirect?: boolean;
    /**
     * s3: a Docker network the registry joins as well, to reach an endpoint that runs in a
     * container on this host (e.g. `http://minio:9000` on that network).
     * @default undefined
     */
    readonly network?: string;
}

/** Images on a Docker volume of this host: {@link RegistryStorage} of kind `filesystem`. */
export interface FilesystemStorage extends RegistryStorage {
    /** Images on a Docker volume (`dataVolumeName`). */
    readonly kind: typeof StorageKind.Filesystem;
}

/** Images in an S3 bucket: {@link RegistryStorage} of kind `s3`, with its required fields. */
export interface S3Storage extends RegistryStorage {
    /** Images in an S3 bucket. */
    readonly kind: typeof StorageKind.S3;
    /** The bucket, which must exist. */
    readonly bucket: string;
    /** The access key ID; pass it as a secret. */
    readonly accessKey: pulumi.Input<string>;
    /** The secret access key; pass it as a secret. */
    readonly secretKey: pulumi.Input<string>;
}

/** {@link RegistryStorage} checked: one kind or the other, with its defaults filled in. */
export type CheckedStorage = FilesystemStorage | S3Storage;

const s3Keys = keysOf<RegistryStorage>()([
    "kind",
    "bucket",
    "region",
    "endpoint",
    "accessKey",
    "secretKey",
    "rootDirectory",
    "redirect",
    "network",
]);
const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const regionPattern = /^[a-z]{2}(?:-[a-z]+)+-[0-9]+$/;
const endpointPattern = /^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?\/?$/;
const rootDirectoryPattern = /^\/?[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*\/?$/;

function plainString(field: string, value: unknown, pattern: RegExp, expected: string): string {
    if (typeof value !== "string" || !pattern.test(value)) {
        throw new InvalidArgumentError(field, `${describe(value)} is not ${expected}`);
    }
    return value;
}

/** A credential: required; checked now when plain, never echoed. */
function credential(field: string, value: unknown): pulumi.Input<string> {
    if (value === undefined || value === null) {
        throw new InvalidArgumentError(field, "is required; pass it as a secret");
    }
    if (!isPending(value) && (typeof value !== "string" || value.length === 0)) {
        throw new InvalidArgumentError(field, "must be a non-empty string; pass it as a secret");
    }
    return value as pulumi.Input<string>;
}

/** Checks `storage` (named `field`), filling in the defaults. */
export function validateStorage(field: string, value: unknown): CheckedStorage {
    if (value === undefined) return { kind: StorageKind.Filesystem };
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not an object; expected {kind: filesystem} or {kind: s3, bucket, ...}`,
        );
    }
    const storage = value as Record<string, unknown>;
    if (storage.kind === StorageKind.Filesystem) {
        const extra = Object.keys(storage).find((k) => k !== "kind");
        if (extra !== undefined) {
            throw new InvalidArgumentError(`${field}.${extra}`, "applies to kind s3 only; filesystem storage takes no settings");
        }
        return { kind: StorageKind.Filesystem };
    }
    if (storage.kind !== StorageKind.S3) {
        throw new InvalidArgumentError(`${field}.kind`, `${describe(storage.kind)} is not a storage kind; expected filesystem or s3`);
    }
    checkKnownKeys(field, storage, s3Keys, "an s3 storage setting", "{kind: s3, bucket, ...}");
    /** The setting `key` checked by `check`, or nothing when it is left out. */
    const optional = <K extends keyof S3Storage>(key: K, check: (at: string, value: unknown) => S3Storage[K]) =>
        storage[key] === undefined ? {} : { [key]: check(`${field}.${key}`, storage[key]) };
    return {
        kind: StorageKind.S3,
        bucket: plainString(
            `${field}.bucket`,
            storage.bucket,
            bucketPattern,
            "a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)",
        ),
        region: plainString(`${field}.region`, storage.region ?? defaults.s3Region, regionPattern, "a region such as us-east-1"),
        ...optional("endpoint", (at, v) => plainString(at, v, endpointPattern, "an endpoint URL such as http://minio:9000")),
        accessKey: credential(`${field}.accessKey`, storage.accessKey),
        secretKey: credential(`${field}.secretKey`, storage.secretKey),
        ...optional("rootDirectory", (at, v) => plainString(at, v, rootDirectoryPattern, "a key prefix such as registry/prod")),
        ...optional("redirect", validateBoolean),
        ...optional("network", (at, v) => plainString(at, v, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "a Docker network name")),
    };
}

/**
 * The registry's environment for S3 storage (`REGISTRY_STORAGE=s3` replaces the image's
 * filesystem settings). The secret key is an Output marked secret.
 */
export function s3Environment(storage: S3Storage): pulumi.Input<string>[] {
    const plainHttp = storage.endpoint?.startsWith("http://") ?? false;
    return [
        "REGISTRY_STORAGE=s3",
        `REGISTRY_STORAGE_S3_BUCKET=${storage.bucket}`,
        `REGISTRY_STORAGE_S3_REGION=${storage.region}`,
        ...(storage.endpoint === undefined
            ? []
            : [`REGISTRY_STORAGE_S3_REGIONENDPOINT=${storage.endpoint.replace(/\/$/, "")}`, "REGISTRY_STORAGE_S3_FORCEPATHSTYLE=true"]),
        `REGISTRY_STORAGE_S3_SECURE=${plainHttp ? "false" : "true"}`,
        ...(storage.rootDirectory === undefined ? [] : [`REGISTRY_STORAGE_S3_ROOTDIRECTORY=${storage.rootDirectory}`]),
        // Blob downloads go through the registry and nginx unless asked: the bucket's own URL
        // (here http://minio:9000) is often unreachable for clients, and it would bypass the proxy.
        ...(storage.redirect === true ? [] : ["REGISTRY_STORAGE_REDIRECT_DISABLE=true"]),
        pulumi.secret(pulumi.interpolate`REGISTRY_STORAGE_S3_ACCESSKEY=${storage.accessKey}`),
        pulumi.secret(pulumi.interpolate`REGISTRY_STORAGE_S3_SECRETKEY=${storage.secretKey}`),
    ];
}
