// This module is browser compatible.
/**
 * The Sente 1.21 dialect: exactly the frames a Sente ClojureScript client reads and writes
 * (taoensso/sente, `src/taoensso/sente.cljc`; `docs/PROTOCOL.md` §6.3).
 *
 * - Handshake `[[:chsk/handshake [uid nil data]] nil]`: `data` is the application's handshake
 *   data only (no `"sente-lite"` entry), `nil` when there is none.
 * - Pushes always use the batch shape `[[[id data] …] nil]`. `sente-lite/*` extension events
 *   reach the peer only when it asked for them: `sente-lite/channel-msg` (it subscribed) and
 *   `sente-lite/subscribed` (it subscribed without a cb). Error events and server→client
 *   requests are dropped.
 * - A failed request (no handler, handler error, forbidden, rate-limited, bad data) is answered
 *   with the reply sentinel `:chsk/error` to its cb; other errors have no Sente frame.
 * - Reads are as lenient as Sente 1.21: a 1-element `[clj]` is `[clj nil]`.
 *
 * @module
 */
import {
  decodeClientEnvelope,
  REPLY_ERROR,
  serverEnvelope,
  type ServerMessage,
} from "../protocol/envelope.ts";
import type { Event } from "../protocol/event.ts";
import { HANDSHAKE_KEY } from "../protocol/handshake.ts";
import type { ProtocolError } from "../protocol/errors.ts";
import type { ServerDialect } from "./dialect.ts";

/** The `sente-lite/*` pushes a Sente peer gets, because only it can have asked for them. */
const EXTENSION_PUSHES: ReadonlySet<string> = new Set([
  "sente-lite/channel-msg",
  "sente-lite/subscribed",
]);

function wanted([id]: Event): boolean {
  return !id.startsWith("sente-lite/") || EXTENSION_PUSHES.has(id);
}

/** The application's part of the handshake data: without the `sente-lite` entry, `null` if empty. */
export function applicationHandshakeData(data: unknown): Record<string, unknown> | null {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return null;
  const { [HANDSHAKE_KEY]: _info, ...app } = data as Record<string, unknown>;
  return Object.keys(app).length > 0 ? app : null;
}

function encode(message: ServerMessage): unknown[] {
  switch (message.type) {
    case "handshake":
      return [serverEnvelope({ ...message, data: applicationHandshakeData(message.data) })];
    case "push": {
      const events = message.events.filter(wanted);
      if (events.length === 0) return [];
      return [serverEnvelope({ type: "push", events })];
    }
    default:
      return [serverEnvelope(message)];
  }
}

/**
 * Answers a failed request with `:chsk/error` to its cb, so the Sente caller's callback runs at
 * once instead of timing out; errors without a cb have no Sente frame.
 */
function errorMessage(error: ProtocolError): ServerMessage | null {
  return error.cbId === null ? null : { type: "reply", cbId: error.cbId, value: REPLY_ERROR };
}

/**
 * The dialect of Sente 1.21 peers (selected for upgrades with `client-id` but no `packer`
 * parameter). Pair it with a packer in `envelope: "sente"` mode, e.g. `ednPacker()`.
 */
export const senteDialect: ServerDialect = {
  name: "sente",
  decode: decodeClientEnvelope,
  encode,
  errorMessage,
};
