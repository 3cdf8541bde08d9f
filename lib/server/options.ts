/**
 * `ServerOptions`, their defaults in one object literal, and `resolveServerOptions`. The options of
 * a sub-feature live beside it (`rate_limit_options.ts`, `dialect_options.ts`, `delivery_options.ts`,
 * `heartbeat.ts`, `backpressure.ts`, …); `auth.ts` holds what the auth hooks see.
 *
 * @module
 */
import type { AuthResult, ChannelAuthorization } from "./auth.ts";
import type { SubscriptionEvent } from "./membership.ts";
import type { PresenceChannels } from "./presence.ts";
import type { OperationsOptions } from "../lifecycle/operations.ts";
import type { Packer } from "../packers/packer.ts";
import { jsonPacker } from "../packers/json.ts";
import type { DialectConfig } from "../dialects/select.ts";
import type { Clock } from "../util/clock.ts";
import { realClock } from "../util/clock.ts";
import type { ConnectionInfo, EventMessage } from "./types.ts";
import { HEARTBEAT_DEFAULTS, type HeartbeatOptions, resolveHeartbeatOptions } from "./heartbeat.ts";
import type { AllowedOrigins } from "./origin.ts";
import type { WireServerOptions } from "./wire.ts";
import {
  DELIVERY_DEFAULTS,
  type DeliveryLoss,
  type DeliveryOptions,
  resolveDelivery,
} from "./delivery.ts";
import {
  BACKPRESSURE_DEFAULTS,
  type BackpressureOptions,
  resolveBackpressure,
} from "./backpressure.ts";
import { FALLBACK_MAX_CONNECTIONS, maxConnectionsFor, openFileLimit } from "./admission.ts";
import { telemetry as defaultTelemetry } from "../telemetry/default.ts";
import type { Telemetry } from "../telemetry/telemetry.ts";
import type { Backplane } from "../backplane/backplane.ts";
import { resolveBackplane } from "./backplane_option.ts";
import { DIALECT_DEFAULTS, type DialectOptions, resolveDialectOptions } from "./dialect_options.ts";
import {
  RATE_LIMIT_DEFAULTS,
  type RateLimitOptions,
  resolveRateLimit,
} from "./rate_limit_options.ts";
import type { ServerStreamOptions } from "./streams.ts";
import type { ClientIp } from "./client_ip.ts";

/** Options of {@linkcode createServer}. */
export interface ServerOptions {
  /**
   * URL path of the WebSocket endpoint.
   * @default {"/chsk"}
   */
  path?: string;
  /**
   * Identifies the user before the upgrade. Return a uid, `null`/`undefined` for anonymous
   * ({@linkcode NIL_UID}), `reject(4001 | 4003, reason)` (returned or thrown) to accept the
   * upgrade and close at once with that code, which sente-lite clients treat as final, or a
   * `Response` to refuse the upgrade with it (browsers see only 1006 and retry).
   * @default {anonymous for everyone}
   */
  authenticate?: (
    request: Request,
    context: { clientId: string },
  ) => AuthResult | Promise<AuthResult>;
  /**
   * Application data for the handshake (Sente's `handshake-data-fn`).
   * @default {none}
   */
  handshakeData?: (
    request: Request,
    uid: string,
  ) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
  /**
   * Packers the server speaks, chosen per connection by the `packer` upgrade parameter.
   * @default {[jsonPacker]}
   */
  packers?: readonly Packer[];
  /**
   * Largest accepted frame in bytes; a larger one closes the connection with 1009.
   * @default {1048576}
   */
  maxMessageBytes?: number;
  /**
   * Frames at least this large are reported to `onLargeMessage`.
   * @default {524288}
   */
  largeMessageBytes?: number;
  /**
   * Called for every inbound frame of at least `largeMessageBytes`.
   * @default {none}
   */
  onLargeMessage?: (info: { connection: ConnectionInfo; bytes: number }) => void;
  /**
   * Frames a fan-out (broadcast, channel publish, push to a uid) sends per event-loop turn (a
   * queued turn also stops after about 3 ms); the rest wait in a per-server queue and go out in the
   * next turns, so a large fan-out never freezes the server (docs/wire.md §9).
   * @default {256}
   */
  fanOutSlice?: number;
  /**
   * Where the runtime has native topics (Bun): the most time, in ms, one event-loop turn spends on
   * native publishes (broadcasts, channel publishes) before the rest wait in the fan-out queue for
   * the next turns, so requests, pings and handshakes are served during a burst
   * (docs/wire.md §9). Off by default: a burst of publishes made in one synchronous loop then
   * holds the loop for as long as it takes, as plain `server.publish` does (1000 messages to 1000
   * clients: about 0.3–0.5 s). Turns cost throughput: in bench/fanout.ts, 3 ms turns gave 0.71×
   * the deliveries/s of plain publishing at ×1.7 its CPU.
   * @default {Infinity}
   */
  nativeTurnMs?: number;
  /**
   * Bad frames one connection may send before it is closed with 1008.
   * @default {100}
   */
  maxProtocolErrors?: number;
  /**
   * Default timeout of server→client requests, in ms.
   * @default {10000}
   */
  requestTimeoutMs?: number;
  /**
   * Channels one connection may be subscribed to at once.
   * @default {100}
   */
  maxSubscriptionsPerConnection?: number;
  /**
   * Decides channel subscribes and publishes; `false` answers `forbidden`.
   * @default {everything allowed}
   */
  authorizeChannel?: (request: ChannelAuthorization) => boolean | Promise<boolean>;
  /**
   * Channels with presence (lib/server/presence.ts): ids, `"prefix*"` patterns or a predicate.
   * Their subscribers get `sente-lite/presence` join/leave pushes and may ask who is there.
   * @default {none}
   */
  presence?: PresenceChannels;
  /**
   * Called after a connection joined a channel (it subscribed, `server.join`, a resume).
   * @default {none}
   */
  onSubscribe?: (event: SubscriptionEvent) => void;
  /**
   * Called after a connection left a channel (it unsubscribed, `server.leave`, it closed).
   * @default {none}
   */
  onUnsubscribe?: (event: SubscriptionEvent) => void;
  /**
   * URL path where the server serves the browser client as one ES module, with an ETag
   * (lib/server/client_bundle.ts), or `false` for none. Default: `<path>/client.js`.
   * @default {"/chsk/client.js"}
   */
  clientScript?: string | false;
  /**
   * `/health`, `/ready`, `/metrics` and `/stats` on this server's port (`true`, or their paths);
   * they show counts only (docs/lifecycle.md). The `./lifecycle` system serves its own.
   * @default {false}
   */
  operations?: boolean | OperationsOptions;
  /**
   * Origins allowed to open a WebSocket (against cross-site WebSocket hijacking): `"*"`, a list
   * of exact origins (`"https://app.example"`), or a predicate. Requests without `Origin`
   * (non-browser clients) always pass.
   * @default {any origin on loopback hosts, else only the server's own origin}
   */
  allowedOrigins?: AllowedOrigins;
  /**
   * Decides each inbound event before its handler runs; `false` answers `forbidden`. Must be
   * synchronous so events keep their order; do slow lookups in `authenticate`.
   * @default {everything allowed}
   */
  authorizeEvent?: (message: EventMessage) => boolean;
  /**
   * Per-connection rate limits, or `false` for none. Each field's default is on
   * {@linkcode RateLimitOptions}.
   * @default {on: 2000 messages/s, 16 MiB/s per connection and per IP}
   */
  rateLimit?: RateLimitOptions | false;
  /**
   * Batching, compression and chunking offered to clients that ask for them in the upgrade's
   * `wire` parameter (see docs/wire.md), or `false` for plain frames only. Each field's default is
   * on {@linkcode WireServerOptions}.
   * @default {batching, compression (deflate-raw, gzip) and chunking offered}
   */
  wire?: WireServerOptions | false;
  /**
   * Streams (docs/streaming.md) for clients that offer them, or `false` for none. Each field's
   * default is on {@linkcode ServerStreamOptions}.
   * @default {on: 1024 streams per server, 16 per connection, 1 MiB windows}
   */
  streams?: ServerStreamOptions | false;
  /**
   * The outbound bound of each connection (slow consumers), or `false` for none. Each field's
   * default is on {@linkcode BackpressureOptions}.
   * @default {policy: "close" past 4 MiB buffered}
   */
  backpressure?: BackpressureOptions | false;
  /**
   * Offline buffering per uid and resume per session (docs/delivery.md), or `false` for neither
   * (sends to a uid without connections are then dropped). Each field's default is on
   * {@linkcode DeliveryOptions}.
   * @default {on: 10000 messages or 1 MiB per uid, kept 5 minutes}
   */
  delivery?: DeliveryOptions | false;
  /**
   * The cluster this server is a node of (docs/scaling.md): sends, presence and requests reach
   * the other nodes through it. A server stops using it when the Hub's `leaveCluster()` runs.
   * @default {a localBackplane() of its own: a cluster of one}
   */
  backplane?: Backplane;
  /**
   * Called when buffered messages are lost (overflow, TTL, eviction); also a
   * `sente-lite/delivery-loss` telemetry event.
   * @default {none}
   */
  onDeliveryLoss?: (loss: DeliveryLoss) => void;
  /**
   * Open connections one uid may have (anonymous connections are limited per IP instead);
   * further upgrades get HTTP 429.
   * @default {100}
   */
  maxConnectionsPerUid?: number;
  /**
   * Connections from one IP address, open and in progress (counted from before `authenticate`);
   * further upgrades get HTTP 429. An IPv6 address counts by its /64, as every per-IP limit.
   * @default {1000}
   */
  maxConnectionsPerIp?: number;
  /**
   * The client's address, from the upgrade request and the TCP peer's address: what every per-IP
   * limit (`maxConnectionsPerIp`, `rateLimit.upgradesPerIp`, `rateLimit.messagesPerIp`,
   * `rateLimit.bytesPerIp`, `rateLimit.presenceJoinsPerIp`, `delivery.maxParkedPerIp`,
   * `streams.maxStreamsPerIp`, `wire.maxReassemblyBytesPerIp`) and telemetry count it under. Behind a reverse proxy the peer is the proxy for every client: use
   * {@linkcode forwardedClientIp} with the proxies' addresses. Called once per upgrade of `path`;
   * an answer that is no IP address, or a throw (reported to `onError`), means the peer.
   * @default {the peer's address (forwarding headers are never trusted)}
   */
  clientIp?: ClientIp;
  /**
   * Connections of the whole server, open and in progress (admitted upgrades whose socket has
   * not opened yet); further upgrades get HTTP 503. The default stays below the process's
   * open-file limit (Linux: the soft "Max open files" of /proc/self/limits minus 10 %, at least
   * 64), or is 4096 where the runtime does not tell the limit.
   * @default {open-file limit minus headroom, else 4096}
   */
  maxConnections?: number;
  /**
   * How long an admitted upgrade may take until its socket opens (including `authenticate`), in
   * ms; then its slot is freed, a late socket is closed with 1013 and a late `authenticate`
   * gets HTTP 503. On Bun it also bounds idle HTTP connections (stalled headers), rounded up to
   * seconds; Deno.serve has no such timeout (see docs/connection.md).
   * @default {10000}
   */
  handshakeTimeoutMs?: number;
  /**
   * How long a close the server starts may take (flushing queued output, then the peer's close
   * frame), in ms; then the connection is cleaned up at once (`onClose` gets the code the server
   * sent) and the socket terminated where the runtime can (Bun). On Deno the runtime holds the
   * socket until the peer goes, and it stays counted against the connection limits until then.
   * @default {5000}
   */
  closeTimeoutMs?: number;
  /**
   * Called after a connection's handshake was sent.
   * @default {none}
   */
  onOpen?: (connection: ConnectionInfo) => void;
  /**
   * Called once after a connection closed and was cleaned up.
   * @default {none}
   */
  onClose?: (connection: ConnectionInfo, code: number, reason: string) => void;
  /**
   * Called with errors of handlers and hooks (they never crash the server).
   * @default {console.error}
   */
  onError?: (error: unknown, context: { message?: EventMessage; where: string }) => void;
  /**
   * Answers HTTP requests that are not for `path`.
   * @default {404}
   */
  fallback?: (request: Request) => Response | Promise<Response>;
  /**
   * Where the server reports itself (connections, closes, protocol errors, large messages, slow
   * handlers, handler errors) under the namespace `sente-lite.server`; nothing is recorded until
   * a handler is added to it.
   * @default {the default instance of `./telemetry`}
   */
  telemetry?: Telemetry;
  /**
   * Synchronous handler run time (ms) above which a `sente-lite/slow-handler` signal is emitted
   * (measured only while telemetry listens at `warn`).
   * @default {100}
   */
  slowHandlerMs?: number;
  /**
   * Time source for timeouts.
   * @default {realClock}
   */
  clock?: Clock;
  /**
   * Per-connection heartbeat: a `chsk/ws-ping` frame after `intervalMs` without a received frame,
   * close (4008) and cleanup after `timeoutMs`; `false` turns it off.
   * @default {intervalMs: 30000, timeoutMs: 60000}
   */
  heartbeat?: HeartbeatOptions | false;
  /**
   * Dialects chosen per connection from the upgrade query: Sente 1.21 and original sente-lite.
   * Each field's default is on {@linkcode DialectOptions}.
   * @default {sente: true (with ednPacker()), original: false}
   */
  dialects?: DialectOptions;
}

/** Options with every default filled in. */
export type ResolvedServerOptions =
  & Required<
    Omit<
      ServerOptions,
      | OptionalHooks
      | "rateLimit"
      | "heartbeat"
      | "dialects"
      | "backpressure"
      | "wire"
      | "delivery"
      | "backplane"
      | "streams"
    >
  >
  & { backplane: Backplane }
  & { delivery: Required<DeliveryOptions> | false }
  & Pick<ServerOptions, OptionalHooks>
  & { rateLimit: Required<RateLimitOptions> | false }
  & { backpressure: Required<BackpressureOptions> | false }
  & { wire: WireServerOptions | false }
  & { streams?: ServerStreamOptions | false }
  & { heartbeat: Required<HeartbeatOptions> | false }
  & { dialects: DialectConfig };

/** Options that stay `undefined` when not given. */
export type OptionalHooks =
  | "onLargeMessage"
  | "authorizeChannel"
  | "presence"
  | "clientScript"
  | "operations"
  | "onSubscribe"
  | "onUnsubscribe"
  | "authorizeEvent"
  | "allowedOrigins"
  | "onOpen"
  | "onClose"
  | "onDeliveryLoss"
  | "clientIp"
  | "fallback";

const DEFAULTS = {
  path: "/chsk",
  authenticate: () => null,
  handshakeData: () => undefined,
  packers: [jsonPacker],
  maxMessageBytes: 1024 * 1024,
  largeMessageBytes: 512 * 1024,
  maxProtocolErrors: 100,
  fanOutSlice: 256,
  nativeTurnMs: Infinity,
  requestTimeoutMs: 10_000,
  maxSubscriptionsPerConnection: 100,
  maxConnectionsPerUid: 100,
  maxConnectionsPerIp: 1000,
  maxConnections: FALLBACK_MAX_CONNECTIONS, // replaced by the open-file limit's cap when known
  handshakeTimeoutMs: 10_000,
  closeTimeoutMs: 5_000,
  rateLimit: RATE_LIMIT_DEFAULTS,
  backpressure: BACKPRESSURE_DEFAULTS,
  wire: {},
  delivery: DELIVERY_DEFAULTS,
  telemetry: defaultTelemetry,
  slowHandlerMs: 100,
  onError: (error: unknown, context: { where: string }) =>
    console.error(`sente-lite: error in ${context.where}:`, error),
  clock: realClock,
  heartbeat: HEARTBEAT_DEFAULTS,
  dialects: DIALECT_DEFAULTS,
} satisfies Omit<ResolvedServerOptions, "backplane">;

function positiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`ServerOptions.${name} must be a positive integer, got ${value}`);
  }
}

/** Fills in defaults and range-checks. */
export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  const backplane = resolveBackplane(options.backplane);
  const o: ResolvedServerOptions = { ...DEFAULTS, backplane };
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  }
  if (!o.path.startsWith("/")) {
    throw new TypeError(`ServerOptions.path must start with "/", got ${JSON.stringify(o.path)}`);
  }
  if (o.packers.length === 0) throw new RangeError("ServerOptions.packers must not be empty");
  positiveInt("maxMessageBytes", o.maxMessageBytes);
  positiveInt("largeMessageBytes", o.largeMessageBytes);
  positiveInt("maxProtocolErrors", o.maxProtocolErrors);
  positiveInt("fanOutSlice", o.fanOutSlice);
  if (!(o.nativeTurnMs > 0)) {
    throw new RangeError(`ServerOptions.nativeTurnMs must be above 0, got ${o.nativeTurnMs}`);
  }
  positiveInt("requestTimeoutMs", o.requestTimeoutMs);
  positiveInt("maxSubscriptionsPerConnection", o.maxSubscriptionsPerConnection);
  positiveInt("maxConnectionsPerUid", o.maxConnectionsPerUid);
  positiveInt("maxConnectionsPerIp", o.maxConnectionsPerIp);
  if (options.maxConnections === undefined) o.maxConnections = maxConnectionsFor(openFileLimit());
  positiveInt("maxConnections", o.maxConnections);
  positiveInt("handshakeTimeoutMs", o.handshakeTimeoutMs);
  positiveInt("closeTimeoutMs", o.closeTimeoutMs);
  if (options.backpressure !== undefined && options.backpressure !== false) {
    o.backpressure = resolveBackpressure(options.backpressure);
  }
  if (options.rateLimit !== undefined && options.rateLimit !== false) {
    o.rateLimit = resolveRateLimit(options.rateLimit);
  }
  o.heartbeat = resolveHeartbeatOptions(options.heartbeat);
  o.dialects = resolveDialectOptions(options.dialects);
  o.delivery = resolveDelivery(options.delivery);
  o.backplane = backplane;
  return o;
}
