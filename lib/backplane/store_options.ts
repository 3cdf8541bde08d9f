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
}

/** The defaults of {@linkcode StoreOptions}. */
export const STORE_DEFAULTS: Readonly<Required<StoreOptions>> = Object.freeze({
  maxMessages: 10_000,
  ttlMs: 300_000,
});

/** Fills in the defaults and range-checks; throws `RangeError` on a bad value. */
export function resolveStoreOptions(options: StoreOptions = {}): Required<StoreOptions> {
  const o = { ...STORE_DEFAULTS, ...options };
  positiveInteger("maxMessages", o.maxMessages);
  positiveInteger("ttlMs", o.ttlMs);
  return o;
}

/** Throws `RangeError` unless `value` is an integer ≥ 1 (options of the backplane). */
export function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
  }
}
