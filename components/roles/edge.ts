import * as pulumi from "@pulumi/pulumi";
import { proxyDefaults, roles } from "../defaults";
import { RoleSpec } from "./spec";

/** Where the edge's whole nginx configuration goes: a `stream` block cannot live in `conf.d`. */
export const edgeConfigPath = "/etc/nginx/nginx.conf";

/** What {@link edgeRole} needs. */
export interface EdgeRoleArgs {
    /** An nginx image with the stream module (the official image has it built in). */
    readonly image: pulumi.Input<string>;
    /** The proxy's tasks as DNS names them, `tasks.SERVICE`. */
    readonly proxyTasks: string;
    /** The port the proxy's tasks listen on. */
    readonly proxyPort: number;
    /** The port the edge listens on, published on each node. */
    readonly listenPort: number;
}

/**
 * The edge's `nginx.conf`: TCP in, TCP out, to whichever proxy tasks DNS names now. TLS passes
 * through unopened, so the edge never sees a credential. A task that has gone refuses the
 * connection, and the edge tries the next one.
 */
export function renderEdgeConfig(args: Omit<EdgeRoleArgs, "image">): string {
    return `# Rendered by authenticated-registry. The edge holds the published port while the proxy's
# tasks are replaced behind it; it passes TLS through to them unopened.
# Debian's nginx loads its stream module from here; the official image has it built in.
include /etc/nginx/modules-enabled/*.conf;
worker_processes auto;
pid /run/nginx.pid;
error_log /dev/stderr notice;

events {
  worker_connections 4096;
}

stream {
  # Swarm's DNS names the proxy's live tasks; asked again every second, so a new task is
  # used at once and a gone one is left within a second (and skipped on refusal before that).
  resolver ${proxyDefaults.resolver} valid=1s ipv6=off;
  resolver_timeout 2s;
  map $server_port $proxy_tasks {
    default ${args.proxyTasks}:${args.proxyPort};
  }
  server {
    listen ${args.listenPort};
    proxy_pass $proxy_tasks;
    proxy_connect_timeout ${proxyDefaults.connectTimeoutSeconds}s;
    proxy_next_upstream on;
    proxy_next_upstream_tries 3;
    proxy_timeout ${proxyDefaults.upstreamTimeoutSeconds}s;
  }
}
`;
}

/**
 * A TCP edge in front of the proxy, for ports published in host mode: two proxy tasks on one
 * node cannot both hold a host port, so the edge holds it, and the proxy's tasks roll
 * start-first behind it. It changes only with its image or port.
 */
export function edgeRole(args: EdgeRoleArgs): RoleSpec {
    return {
        role: roles.edge,
        image: args.image,
        env: [],
        files: [{ path: edgeConfigPath, content: renderEdgeConfig(args), secret: false, mode: "0644" }],
        // Whether the edge itself listens; the proxy behind it has its own probe.
        healthCommand: ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${args.listenPort}`],
        listenPort: args.listenPort,
        labels: [],
        stopSignal: "SIGQUIT",
    };
}
