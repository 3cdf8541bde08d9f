// This module is browser compatible.
/**
 * Batching: outgoing events of one connection are collected and sent as one frame.
 *
 * A batch is flushed when it holds `maxCount` events, when its estimated size reaches `maxBytes`,
 * when its oldest event has waited `intervalMs`, or when no event was added for `idleMs`. An
 * `urgent` event flushes the batch at once, itself included.
 *
 * Guarantees:
 * - Events leave in the order they were added; a batch never mixes events from before and after
 *   a flush.
 * - An event waits at most `intervalMs` (plus timer lateness) unless the batcher is closed.
 * - One timer per batcher at most; adding an event never touches timers (they re-arm lazily).
 *
 * @example
 * ```ts
 * import { Batcher } from "./batcher.ts";
 * const frames: unknown[][] = [];
 * const batcher = new Batcher<unknown>((events) => frames.push(events), { maxCount: 2 });
 * batcher.add(["app/a", 1]);
 * batcher.add(["app/b", 2]); // the second event fills the batch
 * console.assert(frames.length === 1 && frames[0].length === 2);
 * batcher.close();
 * ```
 *
 * @module
 */
import type { Clock, TimerHandle } from "../util/clock.ts";
import { realClock } from "../util/clock.ts";

/** Why a batch was flushed. */
export type FlushReason = "count" | "bytes" | "interval" | "idle" | "urgent" | "manual" | "close";

/** Options of a {@linkcode Batcher}. */
export interface BatcherOptions<T> {
  /** Flush when this many events wait. @default {10} */
  maxCount?: number;
  /** Flush when the waiting events' estimated size reaches this many bytes. @default {4096} */
  maxBytes?: number;
  /** Flush when the oldest waiting event has waited this long. @default {10} */
  intervalMs?: number;
  /** Flush when no event was added for this long. @default {1} */
  idleMs?: number;
  /** Estimated packed size of an event. @default {estimateSize} */
  sizeOf?: (item: T) => number;
  /** Time source. @default {realClock} */
  clock?: Clock;
}

/** Counters of a {@linkcode Batcher}. */
export interface BatchStats {
  /** Events added. */
  messages: number;
  /** Batches flushed (each one frame). */
  frames: number;
  /** `messages / frames` over flushed batches. */
  averageBatchSize: number;
  /** Flushes by reason. */
  flushes: Record<FlushReason, number>;
}

const DEFAULTS = { maxCount: 10, maxBytes: 4096, intervalMs: 10, idleMs: 1 };

/** Collects events and hands them to `flush` in batches. See the module doc for guarantees. */
export class Batcher<T> {
  readonly #flush: (items: T[], reason: FlushReason) => void;
  readonly #options: typeof DEFAULTS;
  readonly #sizeOf: (item: T) => number;
  readonly #clock: Clock;
  #items: T[] = [];
  #bytes = 0;
  #firstAt = 0;
  #lastAt = 0;
  #timer: TimerHandle | undefined;
  #closed = false;
  #messages = 0;
  #flushed = 0;
  #frames = 0;
  #reasons: Record<FlushReason, number> = {
    count: 0,
    bytes: 0,
    interval: 0,
    idle: 0,
    urgent: 0,
    manual: 0,
    close: 0,
  };

  /** Makes a batcher that calls `flush` with each batch. */
  constructor(
    flush: (items: T[], reason: FlushReason) => void,
    options: BatcherOptions<T> = {},
  ) {
    this.#flush = flush;
    this.#options = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const value = options[key] ?? DEFAULTS[key];
      const min = key === "maxCount" || key === "maxBytes" ? 1 : 0;
      if (!(Number.isFinite(value) && value >= min)) {
        throw new RangeError(`${key} must be a number ≥ ${min}, got ${value}`);
      }
      this.#options[key] = value;
    }
    this.#sizeOf = options.sizeOf ?? estimateSize;
    this.#clock = options.clock ?? realClock;
  }

  /** Events waiting now. */
  get size(): number {
    return this.#items.length;
  }

  /**
   * Adds an event; returns `false` (and drops it) once closed. With `urgent`, the batch, this
   * event included, is flushed at once.
   */
  add(item: T, options: { urgent?: boolean } = {}): boolean {
    if (this.#closed) return false;
    const now = this.#clock.now();
    if (this.#items.length === 0) this.#firstAt = now;
    this.#lastAt = now;
    this.#items.push(item);
    this.#messages++;
    this.#bytes += this.#sizeOf(item);
    if (options.urgent) this.flush("urgent");
    else if (this.#items.length >= this.#options.maxCount) this.flush("count");
    else if (this.#bytes >= this.#options.maxBytes) this.flush("bytes");
    else if (this.#timer === undefined) this.#arm(now);
    return true;
  }

  /** Flushes the waiting events now (no-op when none wait). */
  flush(reason: FlushReason = "manual"): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.#bytes = 0;
    this.#frames++;
    this.#flushed += items.length;
    this.#reasons[reason]++;
    this.#flush(items, reason);
  }

  #arm(now: number): void {
    const { intervalMs, idleMs } = this.#options;
    const due = Math.min(this.#firstAt + intervalMs, this.#lastAt + idleMs);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      const t = this.#clock.now();
      if (t >= this.#firstAt + intervalMs) this.flush("interval");
      else if (t >= this.#lastAt + idleMs) this.flush("idle");
      else this.#arm(t);
    }, Math.max(0, due - now));
  }

  /** A snapshot of the counters. */
  stats(): BatchStats {
    return {
      messages: this.#messages,
      frames: this.#frames,
      averageBatchSize: this.#frames === 0 ? 0 : this.#flushed / this.#frames,
      flushes: { ...this.#reasons },
    };
  }

  /** Flushes what waits (reason `close`) and refuses further events. */
  close(): void {
    if (this.#closed) return;
    this.flush("close");
    this.#closed = true;
  }
}

/**
 * A cheap estimate of a value's JSON size in bytes, without serializing it (strings count their
 * UTF-16 length). Good enough for a flush threshold.
 */
export function estimateSize(value: unknown): number {
  switch (typeof value) {
    case "string":
      return value.length + 2;
    case "number":
      return Number.isInteger(value) && Math.abs(value) < 1e6 ? String(value).length : 12;
    case "boolean":
      return 5;
    case "object": {
      if (value === null) return 4;
      let n = 2;
      if (Array.isArray(value)) {
        for (const v of value) n += estimateSize(v) + 1;
      } else {
        for (const k in value) {
          n += k.length + 4 + estimateSize((value as Record<string, unknown>)[k]);
        }
      }
      return n;
    }
    default:
      return 4;
  }
}
