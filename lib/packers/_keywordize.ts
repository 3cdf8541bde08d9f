// This module is browser compatible.
/**
 * The one place that knows which envelope positions hold keywords, shared by the Transit and EDN
 * packers. Our core protocol carries event ids as plain `"ns/name"` strings; Clojure peers expect
 * keywords there, and only there.
 *
 * @module
 */

import { Keyword } from "./keyword.ts";

/**
 * The frame shape whose event-id positions are written as keywords: Sente 1.21 `[payload, cb]`,
 * the original sente-lite's bare `[id, data?]`, or none.
 */
export type EnvelopeShape = "sente" | "event" | "none";

/** Payload values that Sente sends bare (not inside an event vector) as keywords. */
const SENTINELS: ReadonlySet<string> = new Set([
  "chsk/ws-ping",
  "chsk/timeout",
  "chsk/closed",
  "chsk/error",
  "chsk/dummy-cb-200",
]);

/** Handshake uids that are keywords: the anonymous uid (v1.18+) and its old spelling (≤1.17). */
const NIL_UIDS: ReadonlySet<string> = new Set(["sente/nil-uid", "taoensso.sente/nil-uid"]);

/** The Ajax cb marker, the only keyword a Sente cb slot holds. */
const AJAX_CB = "ajax";

/**
 * Returns `value` with the keyword positions of `shape` wrapped as {@linkcode Keyword}. Only the
 * envelope spine is copied; data inside events is returned as is.
 *
 * For `"sente"`, `value` is `[payload, cb?]`:
 * - a payload in the sentinel set (`"chsk/ws-ping"`, `"chsk/timeout"`, …) becomes a keyword;
 * - a payload `[id, data?]` whose id is namespaced keyword text is an event;
 * - a non-empty payload whose every element is such an event is a push batch;
 * - an event `["chsk/handshake", [uid, …]]` also keywordizes the nil uid;
 * - an event `["chsk/recv", event]` also keywordizes the wrapped event;
 * - the cb `"ajax"` becomes `:ajax`.
 *
 * For `"event"`, `value` itself is the event `[id, data?]`, with the same handshake and recv rules.
 */
export function keywordizeEnvelope(value: unknown, shape: EnvelopeShape): unknown {
  if (shape === "none" || !Array.isArray(value)) return value;
  if (shape === "event") return isEvent(value) ? keywordizeEvent(value) : value;
  if (value.length !== 1 && value.length !== 2) return value;
  const out = [keywordizePayload(value[0])];
  if (value.length === 2) out.push(value[1] === AJAX_CB ? new Keyword(AJAX_CB) : value[1]);
  return out;
}

function keywordizePayload(payload: unknown): unknown {
  if (typeof payload === "string") return SENTINELS.has(payload) ? new Keyword(payload) : payload;
  if (!Array.isArray(payload)) return payload;
  if (isEvent(payload)) return keywordizeEvent(payload);
  if (payload.length > 0 && payload.every(isEvent)) return payload.map(keywordizeEvent);
  return payload;
}

function isEvent(value: unknown): value is unknown[] {
  return Array.isArray(value) && (value.length === 1 || value.length === 2) &&
    (value[0] instanceof Keyword || Keyword.isNamespaced(value[0]));
}

function keywordizeEvent(event: unknown[]): unknown[] {
  const id = event[0] instanceof Keyword ? event[0] : new Keyword(event[0] as string);
  if (event.length === 1) return [id];
  let data = event[1];
  if (id.fqn === "chsk/handshake" && Array.isArray(data) && NIL_UIDS.has(data[0])) {
    data = [new Keyword(data[0]), ...data.slice(1)];
  } else if (id.fqn === "chsk/recv" && isEvent(data)) {
    data = keywordizeEvent(data);
  }
  return [id, data];
}
