/**
 * The bounds of a durable delivery store, shared by the in-process and the Redis store. The
 * defaults are those of the server's `delivery` option (docs/delivery.md).
 *
 * @module
 */

/** Bounds of the durable delivery store. */
export interface StoreOptions {
  /**
   * Unacknowledged messages kept per session, and messages per uid offline buffer.
   * @default {10000}
   */
  maxMessages?: number;
  /**
   * A detached session's lifetime, and an offline-buffered message's, in ms.
   * @default {300000}
   */
  ttlMs?: number;
  /**
   * Bytes of payload one channel stream (channel sequences) keeps, besides `maxMessages`: its
   * oldest messages go first (a later replay tells them as an `overflow` gap). On a cluster every
   * channel publish is numbered in its stream, so without it a client allowed to publish kept up
   * to `maxMessages` × its message size per channel (measured: 200 publishes of 1 MB, 211 MB of
   * Redis).
   * @default {1048576}
   */
  maxChannelBytes?: number;
  /**
   * Bytes of payload one session's stream keeps (its unacknowledged messages, and what a parked
   * session keeps of its channels and sends), besides `maxMessages`: its oldest messages go first
   * (the resume tells them as an `overflow` gap), never the newest. Without it a parked session
   * kept up to `maxMessages` × the message size (a client parking sessions on a channel it then
   * publishes large messages to: measured 20 of 20 publishes of 64 KiB kept per session).
   * @default {1048576}
   */
  maxSessionBytes?: number;
}

/** The defaults of {@linkcode StoreOptions}. */
export const STORE_DEFAULTS: Readonly<Required<StoreOptions>> = Object.freeze({
  maxMessages: 10_000,
  ttlMs: 300_000,
  maxChannelBytes: 1024 * 1024,
  maxSessionBytes: 1024 * 1024,
});

/** Fills in the defaults and range-checks; throws `RangeError` on a bad value. */
export function resolveStoreOptions(options: StoreOptions = {}): Required<StoreOptions> {
  const o = { ...STORE_DEFAULTS, ...options };
  positiveInteger("maxMessages", o.maxMessages);
  positiveInteger("ttlMs", o.ttlMs);
  positiveInteger("maxChannelBytes", o.maxChannelBytes);
  positiveInteger("maxSessionBytes", o.maxSessionBytes);
  return o;
}

/** Throws `RangeError` unless `value` is an integer ≥ 1 (options of the backplane). */
export function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
  }
}

/**
 * @internal The replay of a channel stream after cursor `after` (see `DeliveryStore.channelSince`),
 * from what the store holds: `base` (the number before the first), `n` (numbered so far), `first`
 * (the oldest kept `n`, 0 when none is kept) and the kept messages after the cursor. A cursor
 * below `base` belongs to an earlier stream of the channel, which ended at least `2 × ttl` before
 * this one began: the client missed nothing of it that it can still need, so this stream is
 * replayed whole.
 */
export function channelReplay(
  base: number,
  n: number,
  first: number,
  after: number | null,
  messages: { seq: number; payload: string }[],
): {
  messages: { seq: number; payload: string }[];
  dropped: number | null;
  reason: "overflow" | "expired" | "unknown" | null;
  current: number;
} {
  const current = base + n;
  if (after === null) return { messages: [], dropped: 0, reason: null, current };
  if (after > current) return { messages, dropped: null, reason: "unknown", current };
  const a = Math.max(0, after - base);
  const dropped = first > 0 ? Math.max(0, first - a - 1) : n - a;
  if (dropped <= 0) return { messages, dropped: 0, reason: null, current };
  return { messages, dropped, reason: first > 0 ? "overflow" : "expired", current };
}
