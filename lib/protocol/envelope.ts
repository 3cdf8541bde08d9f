// This module is browser compatible.
/**
 * The Sente 1.21 envelope: every frame is one packed `[payload, cbId | null]`. This module turns
 * envelope values into logical messages and back; packers turn envelope values into bytes.
 *
 * Client → server:
 * - event `[[id, data], null]`, request `[[id, data], cbId]`, ping `[["chsk/ws-ping"], cbId]`,
 *   pong `[["chsk/ws-pong"], null]`.
 *
 * Server → client (decoded with Sente's own structural rules, in this order):
 * 1. handshake `[["chsk/handshake", [uid, null, data]], null]`;
 * 2. ping `["chsk/ws-ping", null]`;
 * 3. reply `[value, cbId]` (any non-null cbId);
 * 4. push batch `[[[id, data], ...], null]`.
 *
 * @module
 */
import { isEventId, MAX_EVENT_ID_LENGTH } from "./event.ts";
import type { Event } from "./event.ts";
import { ProtocolError } from "./errors.ts";

/** Longest accepted callback id. Sente's are 6 characters; we allow room for other peers. */
export const MAX_CB_ID_LENGTH = 64;

/** The reply sentinels of Sente: values, not events. */
export const REPLY_CLOSED = "chsk/closed";
/** The peer's timer expired before it could answer. */
export const REPLY_TIMEOUT = "chsk/timeout";
/** The peer failed to send or answer. */
export const REPLY_ERROR = "chsk/error";
/** The value a server replies to a client's `chsk/ws-ping`. */
export const PONG = "pong";

/** An inbound client event, request or ping as the server sees it. */
export interface ClientEvent {
  /** The event id. */
  id: string;
  /** The event data (`undefined` for a 1-element event). */
  data: unknown;
  /** The callback id when the client wants a reply. */
  cbId: string | null;
}

/** What the server sends, as logical messages. */
export type ServerMessage =
  | { type: "handshake"; uid: string; data: unknown }
  | { type: "ping" }
  | { type: "reply"; cbId: string; value: unknown }
  | { type: "push"; events: Event[] };

/**
 * Packs an event array, dropping absent data as Sente does for `[:chsk/ws-pong]`.
 *
 * @example
 * ```ts
 * import { clientEventEnvelope, decodeClientEnvelope, decodeServerEnvelope, eventValue, jsonPacker, serverEnvelope } from "@sente-lite/sente-lite";
 *
 * console.log(eventValue("chat/say", "hi")); // ["chat/say", "hi"]
 * ```
 */
export function eventValue(id: string, data: unknown): unknown[] {
  return data === undefined ? [id] : [id, data];
}

/**
 * The envelope for a client event or request.
 *
 * @example
 * ```ts
 * import { clientEventEnvelope, decodeClientEnvelope, decodeServerEnvelope, eventValue, jsonPacker, serverEnvelope } from "@sente-lite/sente-lite";
 *
 * console.log(jsonPacker.pack(clientEventEnvelope("demo/echo", { n: 1 }, "3f2c1a")));
 * ```
 */
export function clientEventEnvelope(id: string, data: unknown, cbId: string | null): unknown[] {
  return [eventValue(id, data), cbId];
}

/**
 * The envelope for a server message.
 *
 * @example
 * ```ts
 * import { clientEventEnvelope, decodeClientEnvelope, decodeServerEnvelope, eventValue, jsonPacker, serverEnvelope } from "@sente-lite/sente-lite";
 *
 * console.log(jsonPacker.pack(serverEnvelope({ type: "reply", cbId: "3f2c1a", value: { ok: true } })));
 * ```
 */
export function serverEnvelope(msg: ServerMessage): unknown[] {
  switch (msg.type) {
    case "handshake":
      return [["chsk/handshake", [msg.uid, null, msg.data ?? null]], null];
    case "ping":
      return ["chsk/ws-ping", null];
    case "reply":
      return [msg.value === undefined ? null : msg.value, msg.cbId];
    case "push":
      return [msg.events.map(([id, data]) => eventValue(id, data)), null];
  }
}

/** `true` for a valid callback id: a non-empty string of at most {@linkcode MAX_CB_ID_LENGTH}. */
export function isCbId(cb: unknown): cb is string {
  return typeof cb === "string" && cb.length > 0 && cb.length <= MAX_CB_ID_LENGTH;
}

function readCbId(env: unknown[]): string | null {
  const cb = env.length > 1 ? env[1] : null;
  if (cb === null || cb === undefined) return null;
  if (!isCbId(cb)) {
    throw new ProtocolError("bad-envelope", "cbId must be null or a non-empty string");
  }
  return cb;
}

/**
 * Reads a client envelope. Lenient as Sente 1.21 is: a 1-element `[event]` is accepted.
 * @throws {ProtocolError} `bad-envelope` or `bad-event`, carrying the cbId when it was readable.
 *
 * @example
 * ```ts
 * import { clientEventEnvelope, decodeClientEnvelope, decodeServerEnvelope, eventValue, jsonPacker, serverEnvelope } from "@sente-lite/sente-lite";
 *
 * const frame = jsonPacker.pack(clientEventEnvelope("demo/echo", { n: 1 }, "3f2c1a"));
 * console.log(decodeClientEnvelope(jsonPacker.unpack(frame)));
 * ```
 */
export function decodeClientEnvelope(value: unknown): ClientEvent {
  if (!Array.isArray(value) || value.length < 1 || value.length > 2) {
    throw new ProtocolError("bad-envelope", "a frame must be the envelope [event, cbId | null]");
  }
  const cbId = readCbId(value);
  const ev = value[0];
  if (!Array.isArray(ev) || ev.length < 1 || ev.length > 2) {
    throw new ProtocolError("bad-event", "an event must be [id] or [id, data]", cbId);
  }
  if (!isEventId(ev[0])) {
    const shown = typeof ev[0] === "string" ? ev[0].slice(0, MAX_EVENT_ID_LENGTH) : typeof ev[0];
    throw new ProtocolError(
      "bad-event",
      `an event id must be a namespaced string "ns/name", got ${JSON.stringify(shown)}`,
      cbId,
    );
  }
  return { id: ev[0], data: ev[1], cbId };
}

/**
 * Reads a server envelope with Sente's structural rules.
 * @throws {ProtocolError} `bad-envelope` or `bad-event` when it matches no rule.
 *
 * @example
 * ```ts
 * import { clientEventEnvelope, decodeClientEnvelope, decodeServerEnvelope, eventValue, jsonPacker, serverEnvelope } from "@sente-lite/sente-lite";
 *
 * const value = serverEnvelope({ type: "push", events: [["chat/said", "hi"]] });
 * console.log(decodeServerEnvelope(value));
 * ```
 */
export function decodeServerEnvelope(value: unknown): ServerMessage {
  if (!Array.isArray(value) || value.length < 1 || value.length > 2) {
    throw new ProtocolError("bad-envelope", "a frame must be the envelope [payload, cbId | null]");
  }
  const payload = value[0];
  if (Array.isArray(payload) && payload[0] === "chsk/handshake") {
    const args = payload[1];
    if (!Array.isArray(args)) {
      throw new ProtocolError("bad-event", "a handshake must be [uid, csrf, data]");
    }
    return { type: "handshake", uid: String(args[0]), data: args[2] ?? null };
  }
  if (payload === "chsk/ws-ping") return { type: "ping" };
  const cbId = readCbId(value);
  if (cbId !== null) return { type: "reply", cbId, value: payload };
  if (!Array.isArray(payload)) {
    throw new ProtocolError("bad-event", "a push must be a vector of events");
  }
  const events: Event[] = [];
  for (const ev of payload) {
    if (!Array.isArray(ev) || !isEventId(ev[0])) {
      throw new ProtocolError("bad-event", "a push must hold events [id, data]");
    }
    events.push([ev[0], ev[1]]);
  }
  return { type: "push", events };
}
