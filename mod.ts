// This module is browser compatible.
/**
 * sente-lite: realtime messaging for Deno, Bun and browsers over Sente's wire protocol.
 *
 * This entrypoint holds what both sides share: event ids, the envelope codec, packers, the
 * protocol error table and typed errors, and the injectable clock. The server is in
 * `@sente-lite/sente-lite/server`, the client in `@sente-lite/sente-lite/client`.
 *
 * @example
 * ```ts
 * import { clientEventEnvelope, decodeClientEnvelope, jsonPacker } from "@sente-lite/sente-lite";
 *
 * const frame = jsonPacker.pack(clientEventEnvelope("demo/echo", { n: 1 }, "3f2c1a"));
 * console.log(frame); // [["demo/echo",{"n":1}],"3f2c1a"]
 * console.log(decodeClientEnvelope(jsonPacker.unpack(frame)));
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
export type { Frame, Packer } from "./lib/packers/packer.ts";
export { jsonPacker } from "./lib/packers/json.ts";
export {
  assertEventId,
  type Event,
  isEventId,
  isExtensionId,
  isReservedId,
  MAX_EVENT_ID_LENGTH,
} from "./lib/protocol/event.ts";
export {
  type ClientEvent,
  clientEventEnvelope,
  decodeClientEnvelope,
  decodeServerEnvelope,
  eventValue,
  MAX_CB_ID_LENGTH,
  PONG,
  REPLY_CLOSED,
  REPLY_ERROR,
  REPLY_TIMEOUT,
  serverEnvelope,
  type ServerMessage,
} from "./lib/protocol/envelope.ts";
export {
  ClosedError,
  ProtocolError,
  SenteLiteError,
  ServerError,
  TimeoutError,
} from "./lib/protocol/errors.ts";
export {
  PROTOCOL_ERRORS,
  type ProtocolErrorCode,
  type ProtocolErrorSpec,
} from "./lib/protocol/error_table.ts";
export {
  buildHandshakeData,
  HANDSHAKE_KEY,
  parseHandshakeData,
  PROTOCOL_VERSION,
  type ServerInfo,
} from "./lib/protocol/handshake.ts";
export { type Clock, realClock, type TimerHandle, VirtualClock } from "./lib/util/clock.ts";
