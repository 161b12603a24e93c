/**
 * The contract every runtime of `runtimes/index.ts` must satisfy, checked alike for each: its
 * settings refuse what they do not know and accept the defaults; a registry deployed on it runs
 * every role of the plan as a process the policy pack recognises, under the component, with the
 * outputs its stacks name; and in each auth mode. Every resource it makes for a role is of a
 * type its inspection names, so the policy pack judges it without knowing the runtime.
 */
import { AuthenticatedRegistry, checkAuthenticatedRegistryArgs } from "../components/authenticatedRegistry";
import { roles } from "../components/defaults";
import { registryRuntimes } from "../components/runtimes/index";
import { inspectedTypes, runtimeInspections } from "../components/runtimes/inspection";
import { RegistryRuntime, RuntimeDeployment } from "../components/runtimes/runtime";
import { InvalidArgumentError } from "../components/validation";
import { installMocks, parentChain, plain, registered, Registration, valueOf } from "./mocks";

beforeAll(installMocks);

const runtimes = Object.values(registryRuntimes);

/** Settings each runtime accepts for a one-host test: the swarm's filesystem storage must be pinned to a node. */
const testSettings: Record<string, unknown> = {
    container: { bindAddress: "127.0.0.1" },
    swarm: { constraints: ["node.hostname==test"], publishMode: "host" },
    kubernetes: {},
};

const top = "authenticated-registry:index:AuthenticatedRegistry";

/** Deploys a registry on `runtime` under mocks; returns it and the resources it made. */
async function deploy(
    runtime: RegistryRuntime,
    mode: "basic" | "token",
    suffix = "",
): Promise<{ registry: AuthenticatedRegistry; made: Registration[] }> {
    const name = `${runtime.kind}-${mode}${suffix}`;
    const registry = new AuthenticatedRegistry(name, {
        domain: "localhost",
        users: [{ username: "alice" }],
        auth: { mode },
        runtime: runtime.kind,
        [runtime.kind]: testSettings[runtime.kind],
    });
    await valueOf(registry.processNames);
    const made = (await registered()).filter((r) => r.name === name || r.name.startsWith(`${name}-`));
    return { registry, made };
}

describe.each(runtimes.map((runtime) => [runtime.kind, runtime] as const))("the %s runtime", (_kind, runtime) => {
    test("accepts no settings, filling in its defaults", () => {
        expect(() => runtime.checkSettings(runtime.kind, undefined)).not.toThrow();
        expect(() => runtime.checkSettings(runtime.kind, {})).not.toThrow();
    });

    test("refuses a setting it does not know, naming the field and every key it knows", () => {
        let refusal: unknown;
        try {
            runtime.checkSettings(runtime.kind, { notASetting: 1 });
        } catch (err) {
            refusal = err;
        }
        expect(refusal).toBeInstanceOf(InvalidArgumentError);
        expect((refusal as InvalidArgumentError).field).toBe(`${runtime.kind}.notASetting`);
        expect((refusal as InvalidArgumentError).detail).toContain(`expected one of ${runtime.settingsKeys.join(", ")}`);
    });

    test("refuses settings that are not an object, naming the field", () => {
        expect(() => runtime.checkSettings(runtime.kind, "fast")).toThrow(`${runtime.kind}: "fast" is not an object`);
    });

    test.each(["basic", "token"] as const)("in %s mode runs every role of the plan as a process the policy pack judges", async (mode) => {
        const { registry, made } = await deploy(runtime, mode);
        const processes = made.filter((r) => runtime.inspection.processTypes.includes(r.type));
        const roleOf = (r: Registration) => runtime.inspection.role({ type: r.type, props: plain(r.inputs) });
        const expectedRoles = [roles.proxy, roles.registry, mode === "token" ? roles.tokenService : roles.guard];
        for (const role of expectedRoles) {
            expect(processes.map(roleOf)).toContain(role);
        }
        // Every process of the runtime belongs to a role, and is the component's own child.
        for (const process of processes) {
            expect(roleOf(process)).toBeDefined();
            expect(parentChain(process)).toBe(top);
        }
        const names = await valueOf(registry.processNames);
        expect(Object.keys(names)).toEqual(expect.arrayContaining(expectedRoles));
        expect(registry.runtime).toBe(runtime.kind);
    });

    test("makes for each role only resources of types its inspection names, and its inspection reads their role", async () => {
        // The resources made while the runtime runs each role, by type and name (a name alone may be
        // taken twice: the swarm's signing-key secret and the plan's signing key), with the role it runs.
        let running: string | undefined;
        const madeFor = new Map<string, string>();
        const prepare = runtime.prepare.bind(runtime);
        const spy = jest.spyOn(runtime, "prepare").mockImplementation((context): RuntimeDeployment => {
            const deployment = prepare(context);
            return {
                ...deployment,
                runRole: (role, ...rest) => {
                    running = role.spec.role;
                    try {
                        return deployment.runRole(role, ...rest);
                    } finally {
                        running = undefined;
                    }
                },
            };
        });
        const names: string[] = [];
        try {
            for (const mode of ["basic", "token"] as const) {
                const name = `${runtime.kind}-${mode}-types`;
                names.push(name);
                const registry = new AuthenticatedRegistry(
                    name,
                    {
                        domain: "localhost",
                        users: [{ username: "alice" }],
                        auth: { mode },
                        runtime: runtime.kind,
                        [runtime.kind]: testSettings[runtime.kind],
                    },
                    {
                        transformations: [
                            (args) => void (running === undefined ? undefined : madeFor.set(`${args.type}::${args.name}`, running)),
                        ],
                    },
                );
                await valueOf(registry.processNames);
            }
        } finally {
            spy.mockRestore();
        }
        const roleOf = (r: Registration) => madeFor.get(`${r.type}::${r.name}`);
        const made = (await registered()).filter((r) => roleOf(r) !== undefined);
        expect(new Set(made.map(roleOf))).toEqual(new Set([roles.proxy, roles.registry, roles.guard, roles.tokenService]));
        const { inspection } = runtime;
        const types = inspectedTypes(inspection);
        expect(made.filter((r) => !types.includes(r.type)).map((r) => `${r.name}: ${r.type}`)).toEqual([]);
        // Its processes and files are read as the role they were made for (the edge runs beside the proxy).
        const roleResources = made.filter((r) => [...inspection.processTypes, ...inspection.fileTypes].includes(r.type));
        expect(roleResources.length).toBeGreaterThan(0);
        for (const r of roleResources) {
            const role = inspection.role({ type: r.type, props: plain(r.inputs) });
            const companion = roleOf(r) === roles.proxy && role === roles.edge;
            expect({ name: r.name, role }).toEqual({ name: r.name, role: companion ? roles.edge : roleOf(r) });
        }
        // The data volume, which the roles share, is a volume its inspection names.
        for (const name of names) {
            const data = (await registered()).find((r) => r.name === `${name}-data`);
            expect(data).toBeDefined();
            expect(inspection.volumeTypes).toContain(data!.type);
        }
    });

    test("names its outputs as its stacks do, one per role it runs", async () => {
        const { registry } = await deploy(runtime, "basic", "-outputs");
        const outputs = Object.fromEntries(
            await Promise.all(Object.entries(registry.runtimeOutputs).map(async ([key, output]) => [key, await valueOf(output)])),
        );
        const names = await valueOf(registry.processNames);
        const word = { container: "Container", swarm: "Service", kubernetes: "Deployment" }[runtime.kind];
        expect(outputs).toMatchObject({
            [`proxy${word}Name`]: names[roles.proxy],
            [`registry${word}Name`]: names[roles.registry],
            [`guard${word}Name`]: names[roles.guard],
        });
        expect(
            Object.values(outputs).every(
                (value) =>
                    typeof value === "string" &&
                    (value === `${runtime.kind}-basic-outputs` || value.startsWith(`${runtime.kind}-basic-outputs-`)),
            ),
        ).toBe(true);
    });
});

test("the policy pack's list of inspections is the runtimes' own, in order", () => {
    // The pack reads `runtimeInspections`, which loads no provider SDK; it must not drift from `registryRuntimes`.
    expect(runtimeInspections).toEqual(runtimes.map((runtime) => runtime.inspection));
    runtimes.forEach((runtime, i) => expect(runtimeInspections[i]).toBe(runtime.inspection));
});

test("every runtime names settings keys of its own, and a runtime's settings are refused under another runtime", () => {
    const keys = runtimes.map((runtime) => runtime.kind);
    expect(new Set(keys).size).toBe(keys.length);
    for (const runtime of runtimes) {
        for (const other of runtimes.filter((r) => r !== runtime)) {
            expect(
                () =>
                    new AuthenticatedRegistry(`refused-${runtime.kind}-${other.kind}`, {
                        domain: "localhost",
                        users: [{ username: "alice" }],
                        runtime: runtime.kind,
                        [other.kind]: {},
                    }),
            ).toThrow(`${other.kind}: applies to runtime ${other.kind} only; set runtime: ${other.kind} or remove it`);
        }
    }
});

test("checkAuthenticatedRegistryArgs refuses what the component refuses, a swarm's unpinned filesystem storage included", () => {
    const unpinned = { domain: "localhost", users: [{ username: "alice" }], runtime: "swarm" as const, swarm: {} };
    const message = "swarm.constraints: must pin every task to one node";
    expect(() => checkAuthenticatedRegistryArgs(unpinned)).toThrow(message);
    expect(() => new AuthenticatedRegistry("unpinned", unpinned)).toThrow(message);
    expect(() => checkAuthenticatedRegistryArgs({ ...unpinned, swarm: { constraints: ["node.hostname==test"] } })).not.toThrow();
    expect(() => checkAuthenticatedRegistryArgs({ domain: "localhost", users: [{ username: "alice" }] })).not.toThrow();
});
