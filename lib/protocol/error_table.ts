// This module is browser compatible.
/**
 * Every error the protocol can produce, in one table, with a line on each.
 *
 * A protocol error has a stable string `code`. Fatal ones close the connection with a WebSocket
 * close code; the others are answered with a `sente-lite/error` event and the connection goes on.
 * `docs/PROTOCOL.md` §4 lists the same table.
 *
 * The table lives apart from the error classes (`errors.ts`) so the browser client, which throws
 * and catches those classes but never reads a description, does not carry the descriptions in its
 * bundle: only the server, the docs and `mod.ts` import this module.
 *
 * @module
 */

/** What the server does about one kind of bad input. */
export interface ProtocolErrorSpec {
  /** `true` when the connection is closed with {@linkcode ProtocolErrorSpec.closeCode}. */
  readonly fatal: boolean;
  /** The WebSocket close code sent for fatal errors. */
  readonly closeCode?: number;
  /** One line on when it happens. */
  readonly description: string;
}

/** The table of protocol error codes. */
export const PROTOCOL_ERRORS = {
  "unpack-failed": {
    fatal: false,
    description: "The frame could not be unpacked (invalid JSON, invalid UTF-8, wrong frame type).",
  },
  "bad-envelope": {
    fatal: false,
    description: "The value is not an envelope `[payload, cbId | null]` with a string cbId.",
  },
  "bad-event": {
    fatal: false,
    description: "The payload is not an event `[id, data?]` with a namespaced string id `ns/name`.",
  },
  "reserved-event": {
    fatal: false,
    description: "A client sent a `chsk/*` event other than `chsk/ws-ping` or `chsk/ws-pong`.",
  },
  "unknown-cb": {
    fatal: false,
    description:
      "A `sente-lite/reply` names a callback id that is not pending (unknown or timed out).",
  },
  "no-handler": {
    fatal: false,
    description: "No handler (and no catch-all) is registered for the event id.",
  },
  "handler-error": {
    fatal: false,
    description: "The handler threw or its promise rejected; the message carries no stack.",
  },
  "bad-request": {
    fatal: false,
    description: "A `sente-lite/*` extension event has data of the wrong shape.",
  },
  "forbidden": {
    fatal: false,
    description: "An authorization hook denied the event, subscribe or publish.",
  },
  "stream-protocol": {
    fatal: false,
    description:
      "A bad stream frame (docs/PROTOCOL.md §9.5: it failed its stream); counts toward `maxProtocolErrors`.",
  },
  "rate-limited": {
    fatal: false,
    description: "The connection is over its message or byte rate; the frame was not processed.",
  },
  "limit-exceeded": {
    fatal: false,
    description: "A per-connection limit (e.g. subscriptions) would be exceeded.",
  },
  "too-large": {
    fatal: true,
    closeCode: 1009,
    description: "A frame is larger than `maxMessageBytes` (default 1 MiB).",
  },
  "rate-limit-exceeded": {
    fatal: true,
    closeCode: 4029,
    description: "The connection stayed over its rate for `maxViolations` frames in a row.",
  },
  "too-many-errors": {
    fatal: true,
    closeCode: 1008,
    description: "The connection sent more than `maxProtocolErrors` bad frames (default 100).",
  },
} as const satisfies Record<string, ProtocolErrorSpec>;

/** A stable protocol error code. */
export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS;
