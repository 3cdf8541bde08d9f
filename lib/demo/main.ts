/**
 * The demo server's command line (`deno run -A server.ts --help`): the demo server as a lifecycle
 * system with a graceful shutdown.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createDemoServer } from "./demo.ts";
import { startSystem } from "../lifecycle/system.ts";
import { serverComponent, type ServerInstance } from "../lifecycle/server_component.ts";
import { installShutdown } from "../lifecycle/shutdown.ts";
import type { Backplane } from "../backplane/backplane.ts";

const HELP = `sente-lite demo server

Usage: deno run -A server.ts [options]

Options:
  --host HOST         interface to bind (default 127.0.0.1)
  --port PORT         TCP port; 0 picks a free one (default 3000)
  --port-file PATH    write the actual port to PATH once listening
  --path PATH         WebSocket endpoint path (default /chsk)
  --redis URL         join the cluster of every node using this Redis (docs/scaling.md);
                      default: the REDIS_URL environment variable, else no cluster
  --redis-cluster URLS  the same on a Redis Cluster: some of its nodes, comma-separated
                      (default: the REDIS_CLUSTER environment variable)
  --admin-token TOKEN turn on the admin page at /admin (or set ADMIN_TOKEN); off by default
  -h, --help          show this help
`;

/** An environment variable, or `undefined` (also without the permission to read it). */
function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** The host of a Redis URL, without credentials (for the log). */
function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(bad URL)";
  }
}

/** Runs the demo server CLI with `args`; resolves when it stops. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "3000" },
        "port-file": { type: "string" },
        path: { type: "string", default: "/chsk" },
        redis: { type: "string" },
        "redis-cluster": { type: "string" },
        "admin-token": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be an integer from 0 to 65535, got ${values.port}`);
    return 2;
  }
  const redisUrl = values.redis ?? envVar("REDIS_URL");
  const clusterUrls = (values["redis-cluster"] ?? envVar("REDIS_CLUSTER"))?.split(",")
    .map((u) => u.trim()).filter(Boolean);
  if (redisUrl && clusterUrls?.length) {
    console.error("give either --redis (REDIS_URL) or --redis-cluster (REDIS_CLUSTER), not both");
    return 2;
  }
  let backplane: Backplane | undefined;
  if (redisUrl || clusterUrls?.length) {
    // Imported only here: a server without --redis never loads a Redis client.
    const { redisBackplane } = await import("../../redis.ts");
    try {
      backplane = redisUrl
        ? redisBackplane({ url: redisUrl })
        : redisBackplane({ cluster: { rootNodes: clusterUrls!.map((url) => ({ url })) } });
    } catch (e) {
      console.error(`${redisUrl ? "--redis" : "--redis-cluster"}: ${(e as Error).message}`);
      return 2;
    }
    const where = redisUrl
      ? safeHost(redisUrl)
      : `the Redis Cluster of ${clusterUrls!.map(safeHost).join(", ")}`;
    console.log(`sente-lite demo: node ${backplane.nodeId} joins the cluster at ${where}`);
  }
  const adminToken = values["admin-token"] ?? envToken();
  // The demo runs as a lifecycle system: /health, /ready, /metrics and /stats, and a graceful
  // shutdown on SIGTERM/SIGINT (drain, close with 1001, stop; a second signal forces the exit).
  const system = await startSystem({
    server: serverComponent({
      create: (options) => createDemoServer(options, { adminToken }),
      server: { path: values.path, backplane },
      port,
      hostname: values.host,
    }),
  });
  const handle = system.instance<ServerInstance>("server");
  if (values["port-file"]) await Deno.writeTextFile(values["port-file"], String(handle.port));
  const host = handle.hostname.includes(":") ? `[${handle.hostname}]` : handle.hostname;
  const origin = `http://${host}:${handle.port}`;
  console.log(`sente-lite demo: ${origin}/  (WebSocket ${handle.url})`);
  console.log(
    adminToken
      ? `admin page: ${origin}/admin#token=<your admin token>`
      : "admin page: off (start with --admin-token TOKEN or ADMIN_TOKEN=TOKEN to serve /admin)",
  );
  const shutdown = installShutdown(system, {
    exit: false,
    log: (line) => console.log(line),
  });
  const code = await shutdown.done;
  console.log("shutting down: done");
  return code;
}

/** `ADMIN_TOKEN`, or "" when it is unset or the environment may not be read. */
function envToken(): string {
  try {
    return Deno.env.get("ADMIN_TOKEN") ?? "";
  } catch {
    return "";
  }
}
