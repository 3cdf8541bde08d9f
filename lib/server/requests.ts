/**
 * Server→client requests (a sente-lite extension; Sente has none): the
 * `sente-lite/request` push, its `sente-lite/reply` answer, timeouts and aborts.
 * Pending requests live on their connection, so closing it rejects them all.
 *
 * @module
 */
import { ClosedError, ProtocolError, ServerError, TimeoutError } from "../protocol/errors.ts";
import type { Clock } from "../util/clock.ts";
import type { Connection } from "./connection.ts";

/** Sends `[id, data]` as a request to `conn` and settles with its reply. */
export function sendRequest(
  conn: Connection,
  clock: Clock,
  id: string,
  data: unknown,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  // Unique per connection by construction: no random bytes and no collision loop.
  const cb = (conn.nextCbId++).toString(36);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cleanup();
      reject(signal!.reason);
    };
    const cleanup = () => {
      conn.deletePending(cb);
      clock.clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const timer = clock.setTimeout(() => {
      cleanup();
      reject(new TimeoutError(`no reply to ${id} within ${timeoutMs} ms`));
    }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    conn.addPending(cb, { resolve, reject, timer, cleanup });
    const event = { "cb-id": cb, event: [id, data ?? null], "timeout-ms": timeoutMs };
    if (!conn.send({ type: "push", events: [["sente-lite/request", event]] })) {
      cleanup();
      reject(new ClosedError(`connection ${conn.id} is not open`));
    }
  });
}

/**
 * Settles the request a `sente-lite/reply` names; returns the protocol error to answer when the
 * reply is malformed or names no pending request.
 */
export function settleReply(conn: Connection, data: unknown): ProtocolError | null {
  const d = data as Record<string, unknown> | null;
  const cb = typeof d === "object" && d !== null ? d["cb-id"] : undefined;
  if (typeof cb !== "string") {
    return new ProtocolError("bad-request", `sente-lite/reply needs "cb-id"`);
  }
  const pending = conn.pendingRequest(cb);
  if (!pending) return new ProtocolError("unknown-cb", `no pending request ${cb}`);
  pending.cleanup();
  const err = d!["error"] as Record<string, unknown> | undefined;
  if (err && typeof err === "object") {
    pending.reject(new ServerError(String(err.code ?? "error"), String(err.message ?? "")));
  } else pending.resolve(d!["value"]);
  return null;
}
