// This module is browser compatible.
/**
 * The client's connection state machine as a pure table: every state × every event gives the next
 * state, or `null` when the event is ignored in that state. The client looks every event up here
 * and only then acts, so no race (a late close, a timer that fires after `close()`, a `reconnect()`
 * while closing) can take it to a state the table does not allow. `docs/connection.md` prints the
 * same table; a test keeps the two equal.
 *
 * @module
 */

/** The connection states of a client. */
export type ConnectionState =
  | "closed"
  | "connecting"
  | "open"
  | "closing"
  | "reconnecting"
  | "failed";

/** Every state, in the order the docs list them. */
export const CONNECTION_STATES: readonly ConnectionState[] = [
  "closed",
  "connecting",
  "open",
  "closing",
  "reconnecting",
  "failed",
];

/**
 * What can happen to a client.
 * - `open`: the socket opened (the handshake frame is still to come).
 * - `handshake`: the server's handshake arrived; the connection is usable.
 * - `error`: an attempt failed without a close event (the URL provider threw, the WebSocket
 *   constructor threw).
 * - `close:reconnect`, `close:rate-limited`, `close:terminal`: the socket closed with a code of
 *   that class (see `lib/protocol/close_codes.ts`).
 * - `close()`, `reconnect()`: the application called them.
 * - `heartbeat-timeout`: nothing arrived in time (the heartbeat timeout while open, the connect
 *   timeout while connecting, the close timeout while closing).
 * - `retry`: the backoff delay elapsed.
 * - `exhausted`: `maxAttempts` reconnect attempts failed.
 * - `wake`: the browser went `online` or the page became visible.
 */
export type SessionEvent =
  | "open"
  | "handshake"
  | "error"
  | "close:reconnect"
  | "close:rate-limited"
  | "close:terminal"
  | "close()"
  | "reconnect()"
  | "heartbeat-timeout"
  | "retry"
  | "exhausted"
  | "wake";

/** Every event, in the order the docs list them. */
export const SESSION_EVENTS: readonly SessionEvent[] = [
  "open",
  "handshake",
  "error",
  "close:reconnect",
  "close:rate-limited",
  "close:terminal",
  "close()",
  "reconnect()",
  "heartbeat-timeout",
  "retry",
  "exhausted",
  "wake",
];

type Row = Readonly<Record<SessionEvent, ConnectionState | null>>;

const IGNORE_ALL: Row = Object.fromEntries(SESSION_EVENTS.map((e) => [e, null])) as Row;

/**
 * The transition table. `connecting` is an attempt that follows `close()`/`failed` or the first
 * start; `reconnecting` covers everything after a lost connection: the backoff wait and the
 * attempts themselves. `reconnect()` therefore starts over as `connecting` from `closed`,
 * `closing` and `failed`, and stays in `reconnecting` after a connection was lost.
 */
export const TRANSITIONS: Readonly<Record<ConnectionState, Row>> = {
  closed: { ...IGNORE_ALL, "reconnect()": "connecting" },
  connecting: {
    ...IGNORE_ALL,
    "open": "connecting",
    "handshake": "open",
    "error": "reconnecting",
    "close:reconnect": "reconnecting",
    "close:rate-limited": "reconnecting",
    "close:terminal": "failed",
    "close()": "closed",
    "reconnect()": "connecting",
    "heartbeat-timeout": "reconnecting",
  },
  open: {
    ...IGNORE_ALL,
    "error": "reconnecting",
    "close:reconnect": "reconnecting",
    "close:rate-limited": "reconnecting",
    "close:terminal": "failed",
    "close()": "closing",
    "reconnect()": "reconnecting",
    "heartbeat-timeout": "reconnecting",
    "wake": "open",
  },
  closing: {
    ...IGNORE_ALL,
    "close:reconnect": "closed",
    "close:rate-limited": "closed",
    "close:terminal": "closed",
    "reconnect()": "connecting",
    "heartbeat-timeout": "closed",
  },
  reconnecting: {
    ...IGNORE_ALL,
    "open": "reconnecting",
    "handshake": "open",
    "error": "reconnecting",
    "close:reconnect": "reconnecting",
    "close:rate-limited": "reconnecting",
    "close:terminal": "failed",
    "close()": "closed",
    "reconnect()": "reconnecting",
    "heartbeat-timeout": "reconnecting",
    "retry": "reconnecting",
    "exhausted": "failed",
    "wake": "reconnecting",
  },
  failed: { ...IGNORE_ALL, "close()": "closed", "reconnect()": "connecting" },
};

/** The next state after `event` in `state`, or `null` when the event is ignored there. */
export function transition(state: ConnectionState, event: SessionEvent): ConnectionState | null {
  return TRANSITIONS[state][event];
}

/** The transition table as a Markdown table (rows: states, columns: events; `·` = ignored). */
export function transitionTableMarkdown(): string {
  const head = `| state \\ event | ${SESSION_EVENTS.map((e) => `\`${e}\``).join(" | ")} |`;
  const rule = `|---|${SESSION_EVENTS.map(() => "---").join("|")}|`;
  const rows = CONNECTION_STATES.map((s) =>
    `| **${s}** | ${SESSION_EVENTS.map((e) => TRANSITIONS[s][e] ?? "·").join(" | ")} |`
  );
  return [head, rule, ...rows].join("\n");
}
