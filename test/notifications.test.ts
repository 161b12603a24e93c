/** Webhooks: the endpoints' checks, and the registry's environment they become. */
import * as pulumi from "@pulumi/pulumi";
import { notificationEnvironment, validateNotifications } from "../components/notifications";
import { registryRole } from "../components/roles/registry";
import { validateStorage } from "../components/storage";
import { installMocks, valueOf } from "./mocks";

beforeAll(installMocks);

test("each endpoint becomes the registry's indexed environment; events not chosen are ignored actions", async () => {
    const endpoints = validateNotifications("notifications", [
        { name: "ci", url: "https://ci.example.com/registry-events" },
        { name: "audit", url: "http://audit:8080/events", events: ["push", "delete"], headers: { Authorization: "Bearer s3cret" } },
    ]);
    const env = notificationEnvironment(endpoints);
    expect(env.slice(0, 5)).toEqual([
        "REGISTRY_NOTIFICATIONS_ENDPOINTS_0_NAME=ci",
        "REGISTRY_NOTIFICATIONS_ENDPOINTS_0_URL=https://ci.example.com/registry-events",
        "REGISTRY_NOTIFICATIONS_ENDPOINTS_0_TIMEOUT=5s",
        "REGISTRY_NOTIFICATIONS_ENDPOINTS_0_THRESHOLD=3",
        "REGISTRY_NOTIFICATIONS_ENDPOINTS_0_BACKOFF=1s",
    ]);
    expect(env.slice(5, 11)).toEqual([
        "REGISTRY_NOTIFICATIONS_ENDPOINTS_1_NAME=audit",
        "REGISTRY_NOTIFICATIONS_ENDPOINTS_1_URL=http://audit:8080/events",
        "REGISTRY_NOTIFICATIONS_ENDPOINTS_1_TIMEOUT=5s",
        "REGISTRY_NOTIFICATIONS_ENDPOINTS_1_THRESHOLD=3",
        "REGISTRY_NOTIFICATIONS_ENDPOINTS_1_BACKOFF=1s",
        'REGISTRY_NOTIFICATIONS_ENDPOINTS_1_IGNORE_ACTIONS=["pull"]',
    ]);
    expect(env).toHaveLength(12);
    const headers = env[11] as pulumi.Output<string>;
    expect(await valueOf(headers)).toBe('REGISTRY_NOTIFICATIONS_ENDPOINTS_1_HEADERS={"Authorization":["Bearer s3cret"]}');
    expect(await (headers as unknown as { isSecret: Promise<boolean> }).isSecret).toBe(true);
});

test("the registry role carries them, the headers among its secret environment", () => {
    const role = registryRole({
        image: "registry:3.0.0",
        storage: validateStorage("storage", undefined),
        httpSecret: "secret",
        deleteEnabled: false,
        metrics: false,
        notifications: validateNotifications("notifications", [{ name: "ci", url: "http://ci:8080/", headers: { "X-Token": "t" } }]),
    });
    expect(role.env.filter((entry) => typeof entry === "string" && entry.startsWith("REGISTRY_NOTIFICATIONS_"))).toHaveLength(5);
    expect(role.env.filter((entry) => typeof entry !== "string")).toHaveLength(2);
});

test.each([
    [{ url: "http://ci/" }, "notifications[0].name: undefined is not an endpoint name"],
    [{ name: "ci", url: "ftp://ci/" }, 'notifications[0].url: "ftp://ci/" is not a URL; expected http(s)://HOST[:PORT]/PATH'],
    [
        { name: "ci", url: "http://ci/", events: ["push", "tag"] },
        'notifications[0].events[1]: "tag" is not an event; expected one of push, pull, delete',
    ],
    [{ name: "ci", url: "http://ci/", events: [] }, "notifications[0].events: must be a non-empty list of push, pull and delete"],
    [{ name: "ci", url: "http://ci/", headers: { "Bad Header": "x" } }, 'notifications[0].headers: "Bad Header" is not a header name'],
    [
        { name: "ci", url: "http://ci/", retries: 3 },
        "notifications[0].retries: is not an endpoint setting; expected one of name, url, headers, events",
    ],
])("refuses %j, naming the field", (endpoint, message) => {
    expect(() => validateNotifications("notifications", [endpoint])).toThrow(message);
});

test("two endpoints of one name are refused", () => {
    expect(() =>
        validateNotifications("notifications", [
            { name: "ci", url: "http://a/" },
            { name: "ci", url: "http://b/" },
        ]),
    ).toThrow('notifications[1].name: "ci" names an earlier endpoint too');
});
