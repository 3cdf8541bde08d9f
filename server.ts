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
export type {
  AnyEvents,
  ChannelData,
  ChannelId,
  Direction,
  EventData,
  EventId,
  EventMap,
  EventReply,
  EventSection,
  PushStreamId,
  PushStreamMeta,
  StreamId,
  StreamMeta,
  StreamReply,
} from "./lib/protocol/event_map.ts";
export { createServer, Server } from "./lib/server/server.ts";
export { localBackplane, type LocalBackplaneOptions, LocalBus } from "./lib/backplane/local.ts";
export type {
  AppendChannelOptions,
  Attachment as BackplaneAttachment,
  Backplane,
  BackplaneStats,
  ChannelReplay,
  DeliveryStore,
  HoldOptions,
  HoldResult,
  KeepOptions,
  OfflineDrain,
  OpenOptions,
  OpenResult,
  Payload,
  Presence as BackplanePresence,
  PresenceChange as BackplanePresenceChange,
  Replay,
  SessionRecord,
  StoredMessage,
  StreamHolder,
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
  CLOSE_FORBIDDEN,
  CLOSE_UNAUTHENTICATED,
  reject,
  Rejection,
} from "./lib/server/rejection.ts";
export { type BroadcastOptions, type ClusterInfo, Hub } from "./lib/server/hub.ts";
export type {
  MembershipCause,
  MembershipTarget,
  SubscriptionEvent,
} from "./lib/server/membership.ts";
export type { PresenceChannels, PresenceMember } from "./lib/server/presence.ts";
export { type AuthResult, type ChannelAuthorization, NIL_UID } from "./lib/server/auth.ts";
export type { DialectOptions, SenteDialectOptions } from "./lib/server/dialect_options.ts";
export type { RateLimitOptions } from "./lib/server/rate_limit_options.ts";
export type { ServerOptions } from "./lib/server/options.ts";
export {
  type ClientIp,
  forwardedClientIp,
  type ForwardedClientIpOptions,
  type ForwardedHeader,
} from "./lib/server/client_ip.ts";
export type {
  ConnectionInfo,
  EventDelivery,
  EventHandler,
  EventMessage,
  RequestOptions,
  ServerObserver,
  ServerStats,
} from "./lib/server/types.ts";
export type { HeartbeatOptions } from "./lib/server/heartbeat.ts";
export type { BackpressureOptions } from "./lib/server/backpressure.ts";
export type {
  DeliveryCounters,
  DeliveryLoss,
  DeliveryOptions,
  LossReason,
} from "./lib/server/delivery.ts";
export type { ResumeGap } from "./lib/protocol/handshake.ts";
export type { Packer } from "./lib/packers/packer.ts";
export type { Clock, TimerHandle } from "./lib/util/clock.ts";
export type { Event } from "./lib/protocol/event.ts";
export type { Telemetry } from "./lib/telemetry/telemetry.ts";
export type { WireServerOptions, WireTotals } from "./lib/server/wire.ts";
export type { WireOptions } from "./lib/wire/pipeline.ts";
export type { BatcherOptions } from "./lib/wire/batcher.ts";
export type { OperationsOptions } from "./lib/lifecycle/operations.ts";
export type {
  ChannelStreamResult,
  ServerStreamOptions,
  ServerStreamStats,
  StreamHandler,
  StreamMessage,
  StreamToOptions,
} from "./lib/server/streams.ts";
export { STREAM_ERRORS, StreamError } from "./lib/streams/errors.ts";
export type { StreamErrorSpec } from "./lib/streams/errors.ts";
export type { StreamMuxOptions } from "./lib/streams/options.ts";
export type { StreamBudget, StreamSlots } from "./lib/streams/options.ts";
export type { AcceptStreamOptions, IncomingStream } from "./lib/streams/incoming.ts";
export type { StreamState } from "./lib/streams/state.ts";
export type { StreamErrorCode } from "./lib/streams/errors.ts";
export type { StreamMuxStats } from "./lib/streams/mux.ts";
export type { StreamProgress } from "./lib/streams/progress.ts";
export type { HashFactory, IncrementalHash } from "./lib/streams/sha256.ts";
export type { CompressionFormat } from "./lib/wire/compression.ts";
export type { ConnectedUids } from "./lib/server/uids.ts";
export type { ServeHandle, ServeOptions } from "./lib/adapters/types.ts";
export type { RequestInfo } from "./lib/adapters/deno.ts";
export type { AllowedOrigins } from "./lib/server/origin.ts";
export type { Rate } from "./lib/server/rate_limit.ts";
export { readToken } from "./lib/protocol/token.ts";
export type { BunServeConfig, BunServer, BunWebSocket, SocketData } from "./lib/adapters/bun.ts";
export {
  ClosedError,
  ProtocolError,
  SenteLiteError,
  ServerError,
  TimeoutError,
} from "./lib/protocol/errors.ts";

// The demo CLI is loaded only when this file runs as a program: importing the server does not
// load the demo, its page or the lifecycle system.
if (import.meta.main) {
  const { main } = await import("./lib/demo/main.ts");
  Deno.exit(await main(Deno.args));
}
