/**
 * The size index behind the server-wide byte budget of delivery buffers
 * (`DeliveryOptions.maxTotalBytes`, docs/delivery.md): it finds one of the largest disconnected
 * buffers in O(1), so the budget trims the biggest first without a scan over every session.
 *
 * The index is coarse: buffers are grouped by size, four buckets per power of two, so the one
 * found holds at least 0.8 × the bytes of the largest — exact enough for fairness — and keeping
 * it up to date costs a few arithmetic operations per message.
 *
 * @module
 */

/** A buffer the budget accounts for: its `bytes` change, the budget follows. */
export interface Held {
  /** Bytes the buffer holds now (kept by its owner). */
  bytes: number;
  /** @internal The bytes the budget last counted for it. */
  counted: number;
  /** @internal Its bucket in `index`, -1 when in none. */
  bucket: number;
  /** @internal The index it is in, `null` when in none. */
  index: SizeIndex<Held> | null;
}

/**
 * The bucket of a size: four per power of two (`2^e`, `1.25 × 2^e`, `1.5 × 2^e`, `1.75 × 2^e`),
 * -1 for 0 bytes.
 */
export function bucketOf(bytes: number): number {
  if (bytes <= 0) return -1;
  const e = bytes < 2 ** 31 ? 31 - Math.clz32(bytes) : Math.floor(Math.log2(bytes));
  return e * 4 + Math.min(3, Math.floor((bytes * 4) / 2 ** e) - 4);
}

/** Buffers grouped by size: {@linkcode SizeIndex.largest} answers in O(buckets). */
export class SizeIndex<T extends Held> {
  #buckets: Set<T>[] = [];
  /** The highest bucket that may be non-empty. */
  #top = -1;

  /** Puts `h` in the bucket of its `bytes` (or out of the index at 0 bytes). */
  place(h: T): void {
    const bucket = bucketOf(h.bytes);
    if (h.index === this && h.bucket === bucket) return;
    this.remove(h);
    if (bucket < 0) return;
    (this.#buckets[bucket] ??= new Set()).add(h);
    h.bucket = bucket;
    h.index = this as SizeIndex<Held>;
    if (bucket > this.#top) this.#top = bucket;
  }

  /** Takes `h` out of whatever index holds it. */
  remove(h: T): void {
    if (h.index === null) return;
    (h.index as SizeIndex<T>).#buckets[h.bucket]?.delete(h);
    h.index = null;
    h.bucket = -1;
  }

  /** One of the largest buffers (the one longest in the top bucket), or `undefined`. */
  largest(): T | undefined {
    for (; this.#top >= 0; this.#top--) {
      const set = this.#buckets[this.#top];
      if (set !== undefined && set.size > 0) return set.values().next().value;
    }
    return undefined;
  }
}
