// This module is browser compatible.
/**
 * Bounds on decompression work, against compression amplification (a few KiB of deflate that
 * inflate to many MiB):
 * - {@linkcode InflationLimiter}: how many messages may be inflating at once across every
 *   connection that shares it (the Hub owns one). Further inflations wait in FIFO order; while
 *   they wait they hold only their compressed bytes.
 * - {@linkcode turn}: an event-loop turn without a timer, taken by `decompress` between inflation
 *   steps so that a large inflation never holds the event loop (other sockets' I/O runs between
 *   steps).
 *
 * @example
 * ```ts
 * import { InflationLimiter } from "./inflation.ts";
 * const limiter = new InflationLimiter(2);
 * const release = await limiter.acquire();
 * try {
 *   // inflate one message
 * } finally {
 *   release();
 * }
 * ```
 *
 * @module
 */

/** Counters of an {@linkcode InflationLimiter}. */
export interface InflationStats {
  /** The bound: most inflations at once. */
  maxConcurrent: number;
  /** Inflations running now. */
  active: number;
  /** The most inflations that ever ran at once (never above `maxConcurrent`). */
  peakActive: number;
  /** Inflations waiting for a slot now. */
  waiting: number;
  /** The most inflations that ever waited at once. */
  peakWaiting: number;
  /** Inflations started. */
  started: number;
}

/** A FIFO semaphore bounding concurrent inflations, shared by every connection of a server. */
export class InflationLimiter {
  /** The bound: most inflations at once. */
  readonly maxConcurrent: number;
  #active = 0;
  #waiters: (() => void)[] = [];
  #peakActive = 0;
  #peakWaiting = 0;
  #started = 0;

  /** A limiter letting `maxConcurrent` inflations run at once (default 2). */
  constructor(maxConcurrent = 2) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new RangeError(`maxConcurrent must be a positive integer, got ${maxConcurrent}`);
    }
    this.maxConcurrent = maxConcurrent;
  }

  /** Waits for a slot; the returned function gives it back (calling it twice is harmless). */
  acquire(): Promise<() => void> {
    if (this.#active < this.maxConcurrent) return Promise.resolve(this.#take());
    return new Promise((resolve) => {
      this.#waiters.push(() => resolve(this.#take()));
      this.#peakWaiting = Math.max(this.#peakWaiting, this.#waiters.length);
    });
  }

  #take(): () => void {
    this.#active++;
    this.#started++;
    this.#peakActive = Math.max(this.#peakActive, this.#active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      this.#waiters.shift()?.();
    };
  }

  /** A snapshot of the counters. */
  stats(): InflationStats {
    return {
      maxConcurrent: this.maxConcurrent,
      active: this.#active,
      peakActive: this.#peakActive,
      waiting: this.#waiters.length,
      peakWaiting: this.#peakWaiting,
      started: this.#started,
    };
  }
}

/**
 * Resolves after one event-loop turn (a `MessageChannel` task, not a timer: nested
 * `setTimeout(0)` is clamped to 4 ms), so pending socket I/O runs first.
 */
export function turn(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
