// This module is browser compatible.
/**
 * WebSocket close codes and what a client does after each: one table, read by the client's state
 * machine and used by the server when it closes connections. `docs/connection.md` lists the same
 * table.
 *
 * The classes:
 * - `reconnect`: a transient condition; come back with the normal backoff.
 * - `rate-limited`: come back, but not soon (the backoff starts at the cap).
 * - `terminal`: coming back would fail the same way (bad credentials, protocol mismatch, a frame
 *   the server will never accept); the client goes to `failed` until `reconnect()` is called.
 *
 * A close the client asked for (`close()`) always ends in `closed`, whatever the code.
 *
 * @module
 */

/** What a client does after the server (or the network) closed its connection. */
export type CloseClass = "reconnect" | "rate-limited" | "terminal";

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

/** The code sente-lite closes a connection with when its heartbeat timed out. */
export const CLOSE_HEARTBEAT_TIMEOUT = 4008;
/** The code a graceful server shutdown closes every connection with. */
export const CLOSE_GOING_AWAY = 1001;

/**
 * The class of any close code. Codes outside the table follow ranges: 4000–4499 are terminal (like
 * HTTP 4xx), 4500–4999 and 3000–3999 reconnect (3000 and 3003, the registered unauthorized and
 * forbidden codes, are terminal), and everything else reconnects: an unexpected close must never
 * leave a client stranded.
 */
export function classifyClose(code: number): CloseClass {
  const spec = CLOSE_CODES[code];
  if (spec) return spec.class;
  if (code === 3000 || code === 3003) return "terminal";
  if (code >= 4000 && code <= 4499) return "terminal";
  return "reconnect";
}
