// This module is browser compatible.
/**
 * The original sente-lite dialect (franks42/sente_lite v2): bare EDN event frames, no envelope,
 * no callbacks (`docs/PROTOCOL.md` §6.4).
 *
 * Server → client, one bare event per frame:
 * - handshake `[:chsk/handshake [uid nil data true]]`, where an anonymous connection's uid is its
 *   conn-id (the original clients take slot 0 as their connection id) and `data` is the
 *   application's handshake data (`{}` when none);
 * - ping `[:chsk/ws-ping]`, and `[:chsk/ws-pong]` answering a client's `[:chsk/ws-ping]`;
 * - each pushed event `[id data]` as its own frame (no batches);
 * - the echo fallback `[:sente-lite/echo {…}]` for events without a handler.
 *
 * Client → server: `[id]` or `[id data]`; the Sente-style `[[id data] "cb"]` is read too and its
 * cb dropped, as the original Babashka server does. Replies and error events have no frame.
 *
 * @module
 */
import { type ClientEvent, PONG, type ServerMessage } from "../protocol/envelope.ts";
import { isEventId, MAX_EVENT_ID_LENGTH } from "../protocol/event.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { parseHandshakeData } from "../protocol/handshake.ts";
import { ednPacker } from "../packers/edn.ts";
import { Keyword } from "../packers/keyword.ts";
import type { Packer } from "../packers/packer.ts";
import type { ServerDialect } from "./dialect.ts";

/** Sente's anonymous uid (the Hub's `NIL_UID`). */
const NIL_UID = "sente/nil-uid";

/**
 * The callback id the dialect gives a client's `[:chsk/ws-ping]`, so the Hub's automatic `"pong"`
 * reply comes back here and becomes `[:chsk/ws-pong]`. Client cbs are dropped on read, so no
 * other reply can carry it.
 */
const PING_CB = "original/ws-ping";

/** The packer of original connections: EDN with bare-event keyword positions. */
export const originalPacker: Packer = ednPacker({ envelope: "event" });

function badEvent(shown: unknown): ProtocolError {
  const text = typeof shown === "string" ? shown.slice(0, MAX_EVENT_ID_LENGTH) : typeof shown;
  return new ProtocolError(
    "bad-event",
    `an event must be [id] or [id data] with a namespaced keyword id, got ${JSON.stringify(text)}`,
  );
}

/**
 * Reads `[id]`, `[id data]` or `[[id data] cb]` (cb dropped).
 * @throws {ProtocolError} `bad-envelope` for a non-vector, `bad-event` for a bad event.
 */
function decode(value: unknown): ClientEvent {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ProtocolError("bad-envelope", "a frame must be an event vector [id data]");
  }
  let ev: unknown[] = value;
  if (Array.isArray(value[0])) {
    if (value.length > 2) throw badEvent(value[0]);
    ev = value[0];
  }
  if (ev.length < 1 || ev.length > 2) throw badEvent(ev[0]);
  if (!isEventId(ev[0])) throw badEvent(ev[0]);
  return { id: ev[0], data: ev[1], cbId: ev[0] === "chsk/ws-ping" ? PING_CB : null };
}

/** `sente-lite/subscribed` errors are keywords in the original (`:max-subscriptions-per-conn`). */
function eventValue([id, data]: [string, unknown]): unknown[] {
  if (data === undefined) return [id];
  if (id === "sente-lite/subscribed" && data !== null && typeof data === "object") {
    const error = (data as Record<string, unknown>).error;
    if (Keyword.isValid(error)) return [id, { ...data, error: new Keyword(error) }];
  }
  return [id, data];
}

function encode(message: ServerMessage): unknown[] {
  switch (message.type) {
    case "handshake": {
      const { app, info } = parseHandshakeData(message.data);
      const uid = message.uid === NIL_UID && info?.connId ? info.connId : message.uid;
      return [["chsk/handshake", [uid, null, app ?? {}, true]]];
    }
    case "ping":
      return [["chsk/ws-ping"]];
    case "reply":
      return message.cbId === PING_CB && message.value === PONG ? [["chsk/ws-pong"]] : [];
    case "push":
      return message.events.map(eventValue);
  }
}

/** The original server's answer to an event no handler took. */
function unhandled(event: ClientEvent, connId: string, now: number): ServerMessage {
  return {
    type: "push",
    events: [["sente-lite/echo", {
      "original-event-id": new Keyword(event.id),
      "original-data": event.data ?? null,
      "conn-id": connId,
      "timestamp": now,
    }]],
  };
}

/**
 * The dialect of the original sente-lite clients (selected for upgrades without `client-id`
 * when `dialects.original` is on). Pair it with {@linkcode originalPacker}.
 */
export const originalDialect: ServerDialect = {
  name: "original",
  decode,
  encode,
  errorMessage: () => null,
  unhandled,
};
