/**
 * Webhooks: the registry's own notifications (distribution's `notifications.endpoints`), which
 * POST an event envelope for every push, pull and delete to each endpoint from a queue of their
 * own, retried with back-off while an endpoint fails, so that a receiver that is down delays its
 * events and never a client's request. Configured through the registry's environment
 * (`REGISTRY_NOTIFICATIONS_ENDPOINTS_<i>_...`, which registry 3 reads; 2.8 ignores it).
 */
import * as pulumi from "@pulumi/pulumi";
import { isPending } from "./inputs";
import { checkKnownKeys, describe, InvalidArgumentError, keysOf, validateOneOf } from "./validation";

/** What an endpoint is told about. */
export const NotificationEvent = {
    /** A manifest or blob pushed, or mounted from another repository. */
    Push: "push",
    /** A manifest or blob pulled. */
    Pull: "pull",
    /** A manifest, tag or blob deleted. */
    Delete: "delete",
} as const;
/** One of {@link NotificationEvent}'s values. */
export type NotificationEvent = (typeof NotificationEvent)[keyof typeof NotificationEvent];

/** An endpoint the registry sends its events to. */
export interface NotificationEndpoint {
    /** Its name, in the registry's logs and metrics: letters, digits, `.`, `_` and `-`. */
    readonly name: string;
    /** Where the events are POSTed, `http(s)://HOST[:PORT]/PATH`, as the registry's network reaches it. */
    readonly url: string;
    /**
     * Headers sent with every request, such as an `Authorization` the receiver checks; pass them
     * as secrets.
     * @default {} (none)
     */
    readonly headers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * The events it is sent.
     * @default ["push", "pull", "delete"]
     */
    readonly events?: NotificationEvent[];
}

const endpointKeys = keysOf<NotificationEndpoint>()(["name", "url", "headers", "events"]);
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const urlPattern = /^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:\/[^\s]*)?$/;
const headerNamePattern = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** {@link NotificationEndpoint} checked, with defaults. */
export interface CheckedNotificationEndpoint {
    readonly name: string;
    readonly url: string;
    readonly headers: pulumi.Input<Record<string, pulumi.Input<string>>> | undefined;
    readonly events: NotificationEvent[];
}

/** How the registry sends: its timeout per request, and after how many failures it backs off, for how long. */
export const notificationDelivery = { timeout: "5s", threshold: 3, backoff: "1s" } as const;

/** Checks the endpoints (named `field`); none when unset. */
export function validateNotifications(field: string, value: unknown): CheckedNotificationEndpoint[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
        throw new InvalidArgumentError(
            field,
            `${describe(value)} is not a list; expected endpoints such as [{name: ci, url: https://ci.example.com/registry-events}]`,
        );
    }
    const names = new Set<string>();
    return value.map((endpoint, i) => {
        const at = `${field}[${i}]`;
        const given = checkKnownKeys(at, endpoint, endpointKeys, "an endpoint setting", "an endpoint, {name, url, headers?, events?}");
        if (typeof given.name !== "string" || !namePattern.test(given.name)) {
            throw new InvalidArgumentError(
                `${at}.name`,
                `${describe(given.name)} is not an endpoint name; expected letters, digits, ".", "_" and "-"`,
            );
        }
        if (names.has(given.name)) throw new InvalidArgumentError(`${at}.name`, `${describe(given.name)} names an earlier endpoint too`);
        names.add(given.name);
        if (typeof given.url !== "string" || !urlPattern.test(given.url)) {
            throw new InvalidArgumentError(`${at}.url`, `${describe(given.url)} is not a URL; expected http(s)://HOST[:PORT]/PATH`);
        }
        const headers = given.headers;
        if (headers !== undefined && !isPending(headers)) {
            if (typeof headers !== "object" || headers === null || Array.isArray(headers)) {
                throw new InvalidArgumentError(`${at}.headers`, "is not a map; expected header names to values, e.g. {Authorization: ...}");
            }
            for (const name of Object.keys(headers)) {
                if (!headerNamePattern.test(name))
                    throw new InvalidArgumentError(`${at}.headers`, `${describe(name)} is not a header name`);
            }
        }
        if (given.events !== undefined && (!Array.isArray(given.events) || given.events.length === 0)) {
            throw new InvalidArgumentError(`${at}.events`, "must be a non-empty list of push, pull and delete");
        }
        const events = ((given.events as unknown[] | undefined) ?? Object.values(NotificationEvent)).map((event, j) =>
            validateOneOf(`${at}.events[${j}]`, event, NotificationEvent, "an event"),
        );
        return {
            name: given.name,
            url: given.url,
            headers: headers as CheckedNotificationEndpoint["headers"],
            events: [...new Set(events)],
        };
    });
}

/** The registry's actions behind each event: a push is also a blob mounted from another repository. */
const actionsOf: Readonly<Record<NotificationEvent, readonly string[]>> = {
    push: ["push", "mount"],
    pull: ["pull"],
    delete: ["delete"],
};

/**
 * The registry's environment for the endpoints: each endpoint's entries, its headers (as YAML,
 * which JSON is) a secret entry of their own.
 */
export function notificationEnvironment(endpoints: readonly CheckedNotificationEndpoint[]): pulumi.Input<string>[] {
    return endpoints.flatMap((endpoint, i) => {
        const prefix = `REGISTRY_NOTIFICATIONS_ENDPOINTS_${i}_`;
        const ignored = Object.values(NotificationEvent)
            .filter((event) => !endpoint.events.includes(event))
            .flatMap((event) => actionsOf[event]);
        return [
            `${prefix}NAME=${endpoint.name}`,
            `${prefix}URL=${endpoint.url}`,
            `${prefix}TIMEOUT=${notificationDelivery.timeout}`,
            `${prefix}THRESHOLD=${notificationDelivery.threshold}`,
            `${prefix}BACKOFF=${notificationDelivery.backoff}`,
            ...(ignored.length === 0 ? [] : [`${prefix}IGNORE_ACTIONS=${JSON.stringify(ignored)}`]),
            ...(endpoint.headers === undefined
                ? []
                : [
                      pulumi.secret(
                          pulumi
                              .output(endpoint.headers)
                              .apply(
                                  (headers) =>
                                      `${prefix}HEADERS=${JSON.stringify(Object.fromEntries(Object.entries(headers).map(([name, v]) => [name, [v]])))}`,
                              ),
                      ),
                  ]),
        ];
    });
}
