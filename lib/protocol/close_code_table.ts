// This module is browser compatible.
/**
 * The close codes sente-lite gives a meaning to, each with its class, name and when it is sent:
 * the table `docs/connection.md` lists. {@linkcode classifyClose} (lib/protocol/close_codes.ts)
 * decides the same classes without it, so a browser app that never reads this table does not
 * carry its text (tests/client/close_codes_test.ts checks the two agree).
 *
 * @module
 */
import type { CloseClass } from "./close_codes.ts";

/** One row of {@linkcode CLOSE_CODES}. */
export interface CloseCodeSpec {
  /** The class, which decides what the client does. */
  readonly class: CloseClass;
  /** The standard or sente-lite name. */
  readonly name: string;
  /** One line on when it is sent. */
  readonly description: string;
}

/** Close codes sente-lite gives a meaning to; {@linkcode classifyClose} covers the rest. */
export const CLOSE_CODES: Readonly<Record<number, CloseCodeSpec>> = {
  1000: {
    class: "reconnect",
    name: "normal",
    description:
      "Normal closure. From the server it means 'this connection is done', not 'go away' (as in Sente, which always reconnects); use 4001/4003/1008 to keep a client out.",
  },
  1001: {
    class: "reconnect",
    name: "going away",
    description: "The server is shutting down or restarting (sente-lite's graceful shutdown).",
  },
  1002: {
    class: "terminal",
    name: "protocol error",
    description: "The peer broke the WebSocket protocol; a retry would break it again.",
  },
  1003: {
    class: "terminal",
    name: "unsupported data",
    description: "The peer cannot accept this kind of frame (text/binary mismatch).",
  },
  1005: {
    class: "reconnect",
    name: "no status",
    description: "The close frame carried no code.",
  },
  1006: {
    class: "reconnect",
    name: "abnormal",
    description:
      "The connection dropped without a close frame: network loss, a killed server, or a refused upgrade (browsers report HTTP 401/403 upgrades as 1006 too).",
  },
  1007: {
    class: "terminal",
    name: "invalid payload",
    description: "A text frame was not valid UTF-8.",
  },
  1008: {
    class: "terminal",
    name: "policy violation",
    description: "The server refuses this client (sente-lite: too many bad frames).",
  },
  1009: {
    class: "terminal",
    name: "message too big",
    description:
      "A frame was over the server's limit (`max-message-bytes` in the handshake); the application must change what it sends, then call `reconnect()`.",
  },
  1010: {
    class: "terminal",
    name: "mandatory extension",
    description: "The client needs an extension the server did not offer.",
  },
  1011: {
    class: "reconnect",
    name: "internal error",
    description: "The server hit an unexpected condition.",
  },
  1012: {
    class: "reconnect",
    name: "service restart",
    description: "The server is restarting.",
  },
  1013: {
    class: "reconnect",
    name: "try again later",
    description: "The server is overloaded for now.",
  },
  1014: {
    class: "reconnect",
    name: "bad gateway",
    description: "A proxy got a bad answer from the upstream server.",
  },
  1015: {
    class: "reconnect",
    name: "TLS handshake",
    description: "The TLS handshake failed (may be a transient certificate or clock issue).",
  },
  4001: {
    class: "terminal",
    name: "unauthenticated",
    description: "The credentials are missing, invalid or expired (like HTTP 401).",
  },
  4003: {
    class: "terminal",
    name: "forbidden",
    description: "The user may not use this endpoint (like HTTP 403).",
  },
  4008: {
    class: "reconnect",
    name: "heartbeat timeout",
    description:
      "Nothing was received within the heartbeat timeout; sent by sente-lite on both sides.",
  },
  4409: {
    class: "terminal",
    name: "superseded",
    description:
      "A newer connection of the same session resumed it with the session's resume token (the client reconnected while this socket lingered); this one must not come back.",
  },
  4029: {
    class: "rate-limited",
    name: "rate limited",
    description: "Too many connections or messages (like HTTP 429); back off for a long time.",
  },
};
