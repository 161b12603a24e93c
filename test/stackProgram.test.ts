/** The stack program under mocks: config in, the registry and its outputs out. */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, registered, valueOf } from "./mocks";

beforeAll(async () => {
    await installMocks();
    pulumi.runtime.setAllConfig({
        "authenticated-registry:domain": "localhost",
        "authenticated-registry:port": "5043",
        "authenticated-registry:bindAddress": "127.0.0.1",
        "authenticated-registry:users": JSON.stringify([{ username: "developer" }, { username: "ci", password: "ci-password" }]),
        "authenticated-registry:tls": JSON.stringify({ ipAddresses: ["127.0.0.1"] }),
        "authenticated-registry:nginxImage": "authenticated-registry/nginx:1.22-bookworm",
        "authenticated-registry:registryImage": "authenticated-registry/registry:2.8-bookworm",
    });
});

test("builds one registry named after the stack and exports its outputs, secrets as secrets", async () => {
    // The program exports a record of outputs (`export =`), whose keys depend on the runtime.
    const stack = (await import("../infra")) as unknown as Record<string, pulumi.Output<unknown>>;
    // The outputs stacks of 0.1 had, so that scripts reading them keep working (`default` is the
    // module interop's view of `export =`, which Pulumi's require() does not see).
    expect(
        Object.keys(stack)
            .filter((key) => key !== "default")
            .sort(),
    ).toEqual([
        "caCertificatePem",
        "guardContainerName",
        "host",
        "htpasswd",
        "networkName",
        "passwords",
        "port",
        "proxyContainerName",
        "registryContainerName",
        "url",
        "volumeName",
    ]);
    expect(await valueOf(stack.url)).toBe("https://localhost:5043");
    expect(await valueOf(stack.host)).toBe("localhost:5043");
    expect(await valueOf(stack.port)).toBe(5043);
    expect(await valueOf(stack.proxyContainerName)).toBe("registry-test-nginx");
    expect(await valueOf(stack.registryContainerName)).toBe("registry-test-registry");
    expect(await valueOf(stack.volumeName)).toBe("registry-test-data");
    expect(await valueOf(stack.networkName)).toBe("registry-test-network");
    expect((await valueOf(stack.passwords as pulumi.Output<Record<string, string>>)).ci).toBe("ci-password");
    expect(await pulumi.isSecret(stack.passwords)).toBe(true);
    expect(await pulumi.isSecret(stack.htpasswd)).toBe(true);
    const resources = await registered();
    expect(
        resources
            .filter((r) => r.type === "docker:index/container:Container")
            .map((r) => r.name)
            .sort(),
    ).toEqual([
        "registry-test-guard-container",
        "registry-test-nginx-container",
        "registry-test-nginx-files-writer",
        "registry-test-registry-container",
    ]);
    expect(await valueOf(stack.guardContainerName)).toBe("registry-test-guard");
    // The supplied password reaches the engine only inside secret values.
    const wire = JSON.stringify(resources.map((r) => r.inputs));
    expect(wire).not.toMatch(/ci-password/);
});
