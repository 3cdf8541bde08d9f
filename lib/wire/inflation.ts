// This module is browser compatible.
/**
 * Bounds on decompression work, against compression amplification (a few KiB of deflate that
 * inflate to many MiB):
 * - {@linkcode InflationLimiter}: how many messages may be inflating at once across every
 *   connection that shares it (the Hub owns one), and how many bytes per second they may inflate
 *   together. Further inflations wait in FIFO order; while they wait they hold only their
 *   compressed bytes.
 * - {@linkcode turn}: an event-loop turn without a timer, taken by `decompress` between inflation
 *   steps so that a large inflation never holds the event loop (other sockets' I/O runs between
 *   steps).
 *
 * @example
 * ```ts
 * import { InflationLimiter } from "./inflation.ts";
 * const limiter = new InflationLimiter({ maxConcurrent: 2 });
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
  /** The shared rate of inflated bytes per second (0: none). */
  bytesPerSecond: number;
  /** Bytes inflated, by every inflation together. */
  inflatedBytes: number;
  /** Milliseconds inflations were paused to keep to `bytesPerSecond` (summed over them). */
  throttledMs: number;
}

/** Options of an {@linkcode InflationLimiter}. */
export interface InflationLimiterOptions {
  /** Most inflations at once. @default {2} */
  maxConcurrent?: number;
  /**
   * Inflated bytes per second across every inflation (bursts of an eighth of it); past it an
   * inflation pauses between steps, so decompression cannot take the whole event loop however
   * many connections send bombs. `0` for no rate. @default {67108864}
   */
  bytesPerSecond?: number;
  /** Milliseconds now. @default {performance.now} */
  now?: () => number;
}

/**
 * A FIFO semaphore bounding concurrent inflations, and a rate of inflated bytes, shared by every
 * connection of a server.
 */
export class InflationLimiter {
  /** The bound: most inflations at once. */
  readonly maxConcurrent: number;
  /** The shared rate of inflated bytes per second (0: none). */
  readonly bytesPerSecond: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;
  #inflated = 0;
  #throttledMs = 0;
  #active = 0;
  #waiters: (() => void)[] = [];
  #peakActive = 0;
  #peakWaiting = 0;
  #started = 0;

  /** A limiter; see {@linkcode InflationLimiterOptions} for the defaults. */
  constructor(options: InflationLimiterOptions = {}) {
    const { maxConcurrent = 2, bytesPerSecond = 64 * 1024 * 1024 } = options;
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new RangeError(`maxConcurrent must be a positive integer, got ${maxConcurrent}`);
    }
    if (!(Number.isFinite(bytesPerSecond) && bytesPerSecond >= 0)) {
      throw new RangeError(`bytesPerSecond must be a number ≥ 0, got ${bytesPerSecond}`);
    }
    this.maxConcurrent = maxConcurrent;
    this.bytesPerSecond = bytesPerSecond;
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = bytesPerSecond / 8;
    this.#last = this.#now();
  }

  /**
   * Counts `bytes` just inflated against the shared rate; returns how long (ms) the caller should
   * pause before inflating more, 0 when within the rate.
   */
  spend(bytes: number): number {
    this.#inflated += bytes;
    const rate = this.bytesPerSecond;
    if (rate === 0) return 0;
    const now = this.#now();
    this.#tokens = Math.min(rate / 8, this.#tokens + ((now - this.#last) / 1000) * rate);
    this.#last = now;
    this.#tokens -= bytes;
    if (this.#tokens >= 0) return 0;
    const wait = (-this.#tokens / rate) * 1000;
    this.#throttledMs += wait;
    return wait;
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
      bytesPerSecond: this.bytesPerSecond,
      inflatedBytes: this.#inflated,
      throttledMs: Math.round(this.#throttledMs),
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
