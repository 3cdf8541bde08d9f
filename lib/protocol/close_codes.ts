// This module is browser compatible.
/**
 * WebSocket close codes and what a client does after each: {@linkcode classifyClose}, read by the
 * client's state machine, and the codes the server closes connections with. The table of every
 * code with its name and description is `CLOSE_CODES` (lib/protocol/close_code_table.ts, exported
 * by `client.ts`); `docs/connection.md` lists the same table.
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

/** The code sente-lite closes a connection with when its heartbeat timed out. */
export const CLOSE_HEARTBEAT_TIMEOUT = 4008;
/** The code a graceful server shutdown closes every connection with. */
export const CLOSE_GOING_AWAY = 1001;

/**
 * The class of any close code (as `CLOSE_CODES` gives it for the codes in that table). Others follow ranges: 4000–4499 are terminal (like
 * HTTP 4xx), 4500–4999 and 3000–3999 reconnect (3000 and 3003, the registered unauthorized and
 * forbidden codes, are terminal), and everything else reconnects: an unexpected close must never
 * leave a client stranded.
 */
export function classifyClose(code: number): CloseClass {
  if (code === 4029) return "rate-limited";
  if (code === CLOSE_HEARTBEAT_TIMEOUT) return "reconnect"; // the one 4xxx that comes back
  // 1002 protocol error, 1003 unsupported data, 1007 invalid payload, 1008 policy violation,
  // 1009 message too big, 1010 mandatory extension; 3000/3003 unauthorized/forbidden.
  if (code === 1002 || code === 1003 || (code >= 1007 && code <= 1010)) return "terminal";
  if (code === 3000 || code === 3003) return "terminal";
  return code >= 4000 && code <= 4499 ? "terminal" : "reconnect";
}
