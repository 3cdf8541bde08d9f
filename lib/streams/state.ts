// This module is browser compatible.
/**
 * The life of one stream as a pure table: every state × every event gives the next state, or
 * `null` when the event is ignored there. Both ends of a stream (its sender and its receiver)
 * look every event up here before acting, so a late frame, a cancel racing an `END` or a
 * transport drop during the last confirmation cannot take a stream anywhere the table does not
 * allow. `docs/streaming.md` prints the same table; a test keeps the two equal.
 *
 * A stream is one-way: it is opened by its sender. A bidirectional exchange is two streams.
 *
 * @module
 */

/** The states of a stream, on either end. */
export type StreamState =
  | "opening"
  | "open"
  | "half-closed-local"
  | "half-closed-remote"
  | "suspended"
  | "closed"
  | "cancelled"
  | "failed";

/** Every state, in the order the docs list them. */
export const STREAM_STATES: readonly StreamState[] = [
  "opening",
  "open",
  "half-closed-local",
  "half-closed-remote",
  "suspended",
  "closed",
  "cancelled",
  "failed",
];

/**
 * What can happen to a stream.
 * - `accepted`: the sender got its first credit; the receiver accepted (sent its first credit).
 * - `end-sent`: the sender wrote `END` after its last byte (it now waits for the confirmation).
 * - `end-received`: the receiver got `END` with the right total and digest, and confirmed it.
 * - `confirmed`: the sender got the receiver's confirming `END`.
 * - `drained`: the receiver's consumer read the last byte.
 * - `cancel`: either side cancelled (abort signal, reader cancel, a `stream-cancelled` CANCEL).
 * - `error`: either side failed (a CANCEL with another code, or an error found here).
 * - `transport-lost`: the transport under the stream dropped.
 * - `resumed`: a new transport is there; the stream waits for the peer's `RESUME`.
 */
export type StreamEvent =
  | "accepted"
  | "end-sent"
  | "end-received"
  | "confirmed"
  | "drained"
  | "cancel"
  | "error"
  | "transport-lost"
  | "resumed";

/** Every event, in the order the docs list them. */
export const STREAM_EVENTS: readonly StreamEvent[] = [
  "accepted",
  "end-sent",
  "end-received",
  "confirmed",
  "drained",
  "cancel",
  "error",
  "transport-lost",
  "resumed",
];

/** One row of the table: the next state for every event (`null`: ignored). */
export type StreamRow = Readonly<Record<StreamEvent, StreamState | null>>;

const IGNORE_ALL: StreamRow = Object.fromEntries(STREAM_EVENTS.map((e) => [e, null])) as StreamRow;
const ENDS = { cancel: "cancelled", error: "failed" } as const;

/**
 * The transition table. `half-closed-remote` survives a transport drop: the receiver holds every
 * byte and has confirmed; if the confirmation was lost, the sender asks again after resuming.
 */
export const STREAM_TRANSITIONS: Readonly<Record<StreamState, StreamRow>> = {
  opening: { ...IGNORE_ALL, ...ENDS, accepted: "open", "transport-lost": "suspended" },
  open: {
    ...IGNORE_ALL,
    ...ENDS,
    "end-sent": "half-closed-local",
    "end-received": "half-closed-remote",
    "transport-lost": "suspended",
  },
  "half-closed-local": {
    ...IGNORE_ALL,
    ...ENDS,
    confirmed: "closed",
    "transport-lost": "suspended",
  },
  "half-closed-remote": { ...IGNORE_ALL, ...ENDS, drained: "closed" },
  suspended: { ...IGNORE_ALL, ...ENDS, resumed: "open" },
  closed: IGNORE_ALL,
  cancelled: IGNORE_ALL,
  failed: IGNORE_ALL,
};

/** The next state after `event` in `state`, or `null` when the event is ignored there. */
export function streamTransition(state: StreamState, event: StreamEvent): StreamState | null {
  return STREAM_TRANSITIONS[state][event];
}

/** Whether a state is final (nothing happens to the stream any more). */
export function isFinal(state: StreamState): boolean {
  return state === "closed" || state === "cancelled" || state === "failed";
}

/** The transition table as a Markdown table (rows: states, columns: events; `·` = ignored). */
export function streamTableMarkdown(): string {
  const head = `| state \\ event | ${STREAM_EVENTS.map((e) => `\`${e}\``).join(" | ")} |`;
  const rule = `|---|${STREAM_EVENTS.map(() => "---").join("|")}|`;
  const rows = STREAM_STATES.map((s) =>
    `| **${s}** | ${STREAM_EVENTS.map((e) => STREAM_TRANSITIONS[s][e] ?? "·").join(" | ")} |`
  );
  return [head, rule, ...rows].join("\n");
}
