// This module is browser compatible.
/**
 * The sente-lite client for browsers, Deno, Bun and Node ≥ 22: one standard WebSocket with
 * events, request/reply, server pushes, server→client requests and channels.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@sente-lite/sente-lite/client";
 *
 * const client = connect("ws://127.0.0.1:3000/chsk");
 * const { uid } = await client.ready;
 * client.on("demo/broadcast", (data) => console.log("broadcast", data));
 * console.log(uid, await client.request("demo/echo", { hello: "world" }));
 * await client.subscribe("lobby", (data) => console.log("lobby", data));
 * await client.publish("lobby", { text: "hi" });
 * client.close();
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
export { Client, connect, type ConnectionState } from "./lib/client/client.ts";
export {
  onPresence,
  presence,
  type PresenceEvent,
  type PresenceMember,
} from "./lib/client/presence.ts";
export {
  type ChannelContext,
  type ChannelHandler,
  type ClientRequestOptions,
  type ClientStats,
  type Handshake,
  HANDSHAKE_EVENT,
  type PushContext,
  type PushData,
  type PushHandler,
  QueueFullError,
  type RequestHandler,
  RESUBSCRIBE_FAILED_EVENT,
  type ResubscribeFailure,
  type SendResult,
  STATE_EVENT,
  type StateChange,
} from "./lib/client/types.ts";
export type {
  ClientDialect,
  ClientHeartbeatOptions,
  ClientOptions,
  ClientResumeOptions,
  CsrfTokenProvider,
  ReconnectOptions,
  TokenProvider,
  UrlProvider,
  WebSocketConstructor,
} from "./lib/client/options.ts";
export type { CloseClass } from "./lib/protocol/close_codes.ts";
export { CLOSE_CODES, type CloseCodeSpec } from "./lib/protocol/close_code_table.ts";
export type { ServerInfo } from "./lib/protocol/handshake.ts";
export type { Event } from "./lib/protocol/event.ts";
export type { Clock, TimerHandle } from "./lib/util/clock.ts";
export type {
  BidiStream,
  ClientStreamHandler,
  ClientStreams,
  ClientTelemetry,
  ClientTelemetryScope,
  DownloadOptions,
  DownloadStream,
  OpenBidiOptions,
  StreamBodyLike,
  StreamProgressInfo,
  UploadOptions,
  WireTransforms,
} from "./lib/client/transforms.ts";
export type { BackoffOptions } from "./lib/client/backoff.ts";
export type { ResumeGap, ResumeState } from "./lib/protocol/handshake.ts";
export { ClosedError, SenteLiteError, ServerError, TimeoutError } from "./lib/protocol/errors.ts";
export type { Packer } from "./lib/packers/packer.ts";
export { jsonPacker } from "./lib/packers/json.ts";
