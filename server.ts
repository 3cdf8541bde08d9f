/**
 * The sente-lite server for Deno and Bun: handlers by event id, request/reply in both
 * directions, user-id routing, broadcasts and channels over one WebSocket per client.
 *
 * Run it as a demo server: `deno run -A server.ts --port 3000` (see `--help`).
 *
 * @example
 * ```ts ignore
 * import { createServer } from "@sente-lite/sente-lite/server";
 *
 * const server = createServer({
 *   authenticate: (req) => new URL(req.url).searchParams.get("user"), // uid, or anonymous
 * });
 * server.on("demo/echo", (msg) => msg.data); // the return value is the reply
 * server.on("chat/say", (msg) => void server.broadcast("chat/said", msg.data));
 * const { url } = await server.serve({ port: 3000 });
 * console.log(`listening on ${url}`);
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createDemoServer } from "./lib/demo/demo.ts";
import { startSystem } from "./lib/lifecycle/system.ts";
import { serverComponent, type ServerInstance } from "./lib/lifecycle/server_component.ts";
import { installShutdown } from "./lib/lifecycle/shutdown.ts";
import type { Backplane } from "./lib/backplane/backplane.ts";

export { createServer, Server } from "./lib/server/server.ts";
export {
  type BroadcastOptions,
  type ClusterInfo,
  Hub,
  type PendingUpgrade,
} from "./lib/server/hub.ts";
export { localBackplane, type LocalBackplaneOptions, LocalBus } from "./lib/backplane/local.ts";
export type {
  Attachment as BackplaneAttachment,
  Backplane,
  BackplaneStats,
  DeliveryStore,
  HoldOptions,
  HoldResult,
  OfflineDrain,
  OpenOptions,
  OpenResult,
  Payload,
  Presence,
  PresenceChange,
  Replay,
  SessionRecord,
  StoredMessage,
  TopicHandler,
} from "./lib/backplane/backplane.ts";
export type {
  LinkChange,
  LinkEvent,
  LinkGap,
  LinkState,
  LinkStatus,
} from "./lib/backplane/link.ts";
export {
  type ChannelAuthorization,
  type DialectOptions,
  NIL_UID,
  type OptionalHooks,
  type RateLimitOptions,
  type ResolvedServerOptions,
  type SenteDialectOptions,
  type ServerOptions,
} from "./lib/server/options.ts";
export type {
  ConnectionInfo,
  EventHandler,
  EventMessage,
  RequestOptions,
  ServerObserver,
  ServerStats,
} from "./lib/server/types.ts";
export { HEARTBEAT_DEFAULTS, type HeartbeatOptions } from "./lib/server/heartbeat.ts";
export {
  BACKPRESSURE_DEFAULTS,
  type BackpressureOptions,
  CLOSE_SLOW_CONSUMER,
} from "./lib/server/backpressure.ts";
export {
  CLOSE_SUPERSEDED,
  DELIVERY_DEFAULTS,
  type DeliveryCounters,
  type DeliveryLoss,
  type DeliveryOptions,
  type LossReason,
} from "./lib/server/delivery.ts";
export type { ResumeGap, ResumeState } from "./lib/protocol/handshake.ts";
export {
  type DialectConfig,
  type DialectSelection,
  originalClientId,
  selectDialect,
} from "./lib/dialects/select.ts";
export { senteDialect } from "./lib/dialects/sente.ts";
export { originalDialect, originalPacker } from "./lib/dialects/original.ts";
export { senteLiteDialect } from "./lib/dialects/sente_lite.ts";
export type { ClientEvent, ServerMessage } from "./lib/protocol/envelope.ts";
export type { Frame, Packer } from "./lib/packers/packer.ts";
export type { Clock, TimerHandle } from "./lib/util/clock.ts";
export type { Event } from "./lib/protocol/event.ts";
export type { Telemetry } from "./lib/telemetry/telemetry.ts";
export type { WireServerOptions, WireTotals } from "./lib/server/wire.ts";
export type { WireFeatures, WireSettings } from "./lib/wire/capabilities.ts";
export type { CompressionFormat } from "./lib/wire/compression.ts";
export type { BatcherOptions } from "./lib/wire/batcher.ts";
export type { WireOptions } from "./lib/wire/pipeline.ts";
export type { ReassemblyBudget } from "./lib/wire/chunking.ts";
export type { InflationLimiter, InflationStats } from "./lib/wire/inflation.ts";
export type { ConnectedUids } from "./lib/server/uids.ts";
export type { ConnectionSink, ServerSocket } from "./lib/server/socket.ts";
export type { AdmissionSlot } from "./lib/server/admission.ts";
export type { ServeHandle, ServeOptions } from "./lib/adapters/types.ts";
export type { RequestInfo } from "./lib/adapters/deno.ts";
export type { AllowedOrigins } from "./lib/server/origin.ts";
export type { Rate } from "./lib/server/rate_limit.ts";
export { readToken, SUBPROTOCOL, tokenProtocol } from "./lib/protocol/token.ts";
export type { BunServeConfig, BunServer, BunWebSocket, SocketData } from "./lib/adapters/bun.ts";
export { createDemoServer } from "./lib/demo/demo.ts";
export {
  ClosedError,
  ProtocolError,
  SenteLiteError,
  ServerError,
  TimeoutError,
} from "./lib/protocol/errors.ts";
export type { ServerDialect } from "./lib/dialects/dialect.ts";

const HELP = `sente-lite demo server

Usage: deno run -A server.ts [options]

Options:
  --host HOST         interface to bind (default 127.0.0.1)
  --port PORT         TCP port; 0 picks a free one (default 3000)
  --port-file PATH    write the actual port to PATH once listening
  --path PATH         WebSocket endpoint path (default /chsk)
  --redis URL         join the cluster of every node using this Redis (docs/scaling.md);
                      default: the REDIS_URL environment variable, else no cluster
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
  let backplane: Backplane | undefined;
  if (redisUrl) {
    // Imported only here: a server without --redis never loads a Redis client.
    const { redisBackplane } = await import("./redis.ts");
    try {
      backplane = redisBackplane({ url: redisUrl });
    } catch (e) {
      console.error(`--redis: ${(e as Error).message}`);
      return 2;
    }
    console.log(
      `sente-lite demo: node ${backplane.nodeId} joins the cluster at ${safeHost(redisUrl)}`,
    );
  }
  // The demo runs as a lifecycle system: /health, /ready, /metrics and /stats, and a graceful
  // shutdown on SIGTERM/SIGINT (drain, close with 1001, stop; a second signal forces the exit).
  const system = await startSystem({
    server: serverComponent({
      create: createDemoServer,
      server: { path: values.path, backplane },
      port,
      hostname: values.host,
    }),
  });
  const handle = system.instance<ServerInstance>("server");
  if (values["port-file"]) await Deno.writeTextFile(values["port-file"], String(handle.port));
  const host = handle.hostname.includes(":") ? `[${handle.hostname}]` : handle.hostname;
  console.log(`sente-lite demo: http://${host}:${handle.port}/  (WebSocket ${handle.url})`);
  const shutdown = installShutdown(system, {
    exit: false,
    log: (line) => console.log(line),
  });
  const code = await shutdown.done;
  console.log("shutting down: done");
  return code;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
