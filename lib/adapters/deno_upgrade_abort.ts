/**
 * Spares each Deno upgrade a `DOMException` nobody sees.
 *
 * `Deno.serve` (default "legacy abort" mode) closes an upgraded request twice: once inside
 * `Deno.upgradeWebSocket` and once after the handler returned the 101 response. Each close aborts
 * the request's signal. The first finds no signal and only records that the request ended
 * (`false`). The second then sees that record, makes the signal and aborts it with a new
 * `DOMException`. Capturing that exception's stack costs about 22 µs per connection: a fifth of
 * the server CPU of a WebSocket connect-and-close on Deno 2.9, raw `Deno.serve` included
 * (profiled in docs/performance.md).
 *
 * Clearing the record after the upgrade makes the second close behave like the first. Nothing
 * else changes: `request.signal`, read later, is still an aborted signal. A signal that a hook made
 * before the upgrade (the record is then the signal) is left alone, and so is a Deno whose request
 * has no such field (the lookup then finds nothing and this does nothing).
 *
 * @module
 */

/** The request's private signal record, found once by its description; `null`: none here. */
let signalCache: symbol | null | undefined;

/** The key of Deno's signal record on `request`, or `null` when this Deno has none. */
export function signalCacheKey(request: Request): symbol | null {
  if (signalCache === undefined) {
    signalCache = Object.getOwnPropertySymbols(request)
      .find((key) => key.description === "signalCache") ?? null;
  }
  return signalCache;
}

/**
 * Call right after `Deno.upgradeWebSocket(request)`: the request's second close then makes no
 * signal and no `DOMException`. Returns `true` when it cleared the record.
 */
export function skipUpgradeAbort(request: Request): boolean {
  const key = signalCacheKey(request);
  if (key === null) return false;
  const fields = request as unknown as Record<symbol, unknown>;
  if (fields[key] !== false) return false; // a signal exists (a hook read it): it aborts as usual
  fields[key] = undefined;
  return true;
}
