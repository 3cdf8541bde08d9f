// This module is browser compatible.
/**
 * Handlers and their dispatch: each handler gets its own filter and a bounded queue that drains in
 * microtask batches, so a slow or throwing handler never slows down or breaks the caller.
 *
 * @module
 */

import { type Clock, realClock } from "../util/clock.ts";
import { SignalFilter, type SignalFilterOptions } from "./filter.ts";
import type { Signal } from "./signal.ts";

/** A handler as a plain function of one signal; may return a promise. */
export type HandlerFn = (signal: Signal) => unknown;

/**
 * A handler as an object. Give `handle` (one signal at a time) or `handleBatch` (a drained batch,
 * in order); a returned promise is awaited before the next call.
 */
export interface HandlerObject {
  /** Handles one signal. */
  handle?(signal: Signal): unknown;
  /** Handles a batch of signals; preferred over `handle` when both exist. */
  handleBatch?(signals: Signal[]): unknown;
  /** Writes out anything buffered; called by `flush()` after the queue has drained. */
  flush?(): unknown;
  /** Releases resources; called once by `stop()` after a final flush. */
  stop?(): unknown;
}

/** A handler: a function or a {@linkcode HandlerObject}. */
export type Handler = HandlerFn | HandlerObject;

/**
 * How a handler's queue behaves when full: `"dropping"` drops the new signal, `"sliding"` drops the
 * oldest queued one, `"sync"` has no queue and calls the handler inline on the caller's stack.
 */
export type QueueMode = "dropping" | "sliding" | "sync";

/** Information passed to an `onError` callback. */
export interface HandlerErrorInfo {
  /** The handler's id. */
  handlerId: string;
  /** The signal being handled (the first of the batch for `handleBatch`), if any. */
  signal?: Signal;
}

/** Options for a handler: its filter (see {@linkcode SignalFilterOptions}) plus dispatch settings. */
export interface HandlerOptions extends SignalFilterOptions {
  /** Queue mode.
   * @default {"dropping"} */
  mode?: QueueMode;
  /** Queue capacity, in signals.
   * @default {1024} */
  bufferSize?: number;
  /** Most signals handed to the handler per drain step.
   * @default {256} */
  maxBatch?: number;
  /** Handlers run in descending priority.
   * @default {100} */
  priority?: number;
  /** Called when the handler throws or rejects. By default logs to `console.error`, at most once
   * a minute per handler.
   * @default {undefined} */
  onError?: (error: unknown, info: HandlerErrorInfo) => void;
}

/** Counters and state of one handler. */
export interface HandlerStats {
  /** Signals waiting in the queue now. */
  queued: number;
  /** Signals handed to the handler without error. */
  handled: number;
  /** Signals dropped because the queue was full. */
  dropped: number;
  /** Handler calls that threw or rejected. */
  errors: number;
  /** Signals rejected by the handler's level, kind, namespace, id or `when` filter. */
  filtered: number;
  /** Signals rejected by the handler's sampling. */
  sampled: number;
  /** Signals rejected by the handler's rate limit. */
  rateLimited: number;
  /** Total time spent in the handler, milliseconds. */
  handlingMs: number;
  /** Whether the handler has been stopped. */
  stopped: boolean;
}

const HANDLER_DEFAULTS = {
  mode: "dropping" as QueueMode,
  bufferSize: 1024,
  maxBatch: 256,
  priority: 100,
};

/** Dependencies a {@linkcode HandlerRunner} takes from its owner. */
export interface HandlerRunnerDeps {
  /** Time source for flush timeouts and the rate limit.
   * @default {realClock} */
  clock?: Clock;
  /** Random source for sampling.
   * @default {Math.random} */
  random?: () => number;
}

const ERROR_LOG_INTERVAL_MS = 60_000;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === "object" &&
    typeof (v as { then?: unknown }).then === "function";
}

/**
 * Runs one handler: filters, queues and delivers signals.
 *
 * - Order: signals reach the handler in the order they were offered (minus drops).
 * - Backpressure: the queue never exceeds `bufferSize`; overflow is dropped per `mode` and counted.
 * - Isolation: handler errors are caught, counted and reported to `onError`; never rethrown.
 * - `stop()` stops accepting signals, drains, flushes, then calls the handler's `stop`.
 */
export class HandlerRunner {
  /** The handler's id. */
  readonly id: string;
  /** Dispatch priority. */
  readonly priority: number;
  /** The handler's minimum level value (`-Infinity` when none). */
  readonly minLevel: number;
  readonly #fn: HandlerFn | undefined;
  readonly #obj: HandlerObject | undefined;
  readonly #filter: SignalFilter | undefined;
  readonly #mode: QueueMode;
  readonly #capacity: number;
  readonly #maxBatch: number;
  readonly #clock: Clock;
  readonly #onError: ((error: unknown, info: HandlerErrorInfo) => void) | undefined;
  #ring: (Signal | undefined)[];
  #head = 0;
  #count = 0;
  #draining = false;
  #idleWaiters: (() => void)[] = [];
  #stopped = false;
  #closed = false;
  #lastErrorLog = -Infinity;
  readonly #stats = {
    handled: 0,
    dropped: 0,
    errors: 0,
    filtered: 0,
    sampled: 0,
    rateLimited: 0,
    handlingMs: 0,
  };
  readonly #drainFn = () => void this.#drain();

  /**
   * Wraps `handler` under `id`; `deps` supplies the owner's clock and random source.
   *
   * @throws {TypeError} if `handler` is neither a function nor an object with `handle`/`handleBatch`.
   * @throws {RangeError} if `bufferSize` or `maxBatch` is not a positive integer.
   */
  constructor(
    id: string,
    handler: Handler,
    options: HandlerOptions = {},
    deps: HandlerRunnerDeps = {},
  ) {
    const o = { ...HANDLER_DEFAULTS, ...options };
    if (typeof handler === "function") this.#fn = handler;
    else if (
      handler !== null && typeof handler === "object" &&
      (typeof handler.handle === "function" || typeof handler.handleBatch === "function")
    ) this.#obj = handler;
    else {
      throw new TypeError(`handler must be a function or have handle/handleBatch, got ${handler}`);
    }
    if (!Number.isInteger(o.bufferSize) || o.bufferSize < 1) {
      throw new RangeError(`bufferSize must be a positive integer, got ${o.bufferSize}`);
    }
    if (!Number.isInteger(o.maxBatch) || o.maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${o.maxBatch}`);
    }
    if (o.mode !== "dropping" && o.mode !== "sliding" && o.mode !== "sync") {
      throw new TypeError(`mode must be "dropping", "sliding" or "sync", got ${String(o.mode)}`);
    }
    this.id = id;
    this.priority = o.priority;
    this.#mode = o.mode;
    this.#capacity = o.bufferSize;
    this.#maxBatch = o.maxBatch;
    this.#clock = deps.clock ?? realClock;
    this.#onError = options.onError;
    const hasFilter = options.minLevel !== undefined || options.kind !== undefined ||
      options.ns !== undefined || options.id !== undefined || options.when !== undefined ||
      options.sample !== undefined || options.limit !== undefined;
    this.#filter = hasFilter ? new SignalFilter(options, this.#clock, deps.random) : undefined;
    this.minLevel = this.#filter?.minLevel ?? -Infinity;
    this.#ring = o.mode === "sync" ? [] : new Array(o.bufferSize);
  }

  /** Offers a signal: filters it, then queues it (or, in `"sync"` mode, handles it now). */
  offer(signal: Signal): void {
    if (this.#stopped) return;
    const f = this.#filter;
    if (f !== undefined) {
      const r = f.check(signal);
      if (r !== 0) {
        if (r === 1) this.#stats.filtered++;
        else if (r === 2) this.#stats.sampled++;
        else this.#stats.rateLimited++;
        return;
      }
      if (f.sample < 1) signal = { ...signal, sample: signal.sample * f.sample };
    }
    if (this.#mode === "sync") {
      this.#deliverSync(signal);
      return;
    }
    if (this.#count === this.#capacity) {
      this.#stats.dropped++;
      if (this.#mode === "dropping") return;
      // sliding: overwrite the oldest
      this.#ring[this.#head] = signal;
      this.#head = this.#head + 1 === this.#capacity ? 0 : this.#head + 1;
      return;
    }
    let tail = this.#head + this.#count;
    if (tail >= this.#capacity) tail -= this.#capacity;
    this.#ring[tail] = signal;
    this.#count++;
    if (!this.#draining) {
      this.#draining = true;
      queueMicrotask(this.#drainFn);
    }
  }

  #report(error: unknown, signal: Signal | undefined): void {
    this.#stats.errors++;
    try {
      if (this.#onError !== undefined) {
        this.#onError(error, { handlerId: this.id, signal });
      } else {
        const now = this.#clock.now();
        if (now - this.#lastErrorLog >= ERROR_LOG_INTERVAL_MS) {
          this.#lastErrorLog = now;
          console.error(`[telemetry] handler "${this.id}" failed:`, error);
        }
      }
    } catch {
      // An onError that throws must not break dispatch either.
    }
  }

  #deliverSync(signal: Signal): void {
    const t0 = performance.now();
    try {
      const r = this.#obj === undefined
        ? this.#fn!(signal)
        : this.#obj.handleBatch !== undefined
        ? this.#obj.handleBatch([signal])
        : this.#obj.handle!(signal);
      if (isThenable(r)) {
        r.then(undefined, (e: unknown) => {
          this.#stats.handled--;
          this.#report(e, signal);
        });
      }
      this.#stats.handled++;
    } catch (e) {
      this.#report(e, signal);
    }
    this.#stats.handlingMs += performance.now() - t0;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#count > 0) {
        const n = Math.min(this.#count, this.#maxBatch);
        const batch: Signal[] = new Array(n);
        let head = this.#head;
        for (let i = 0; i < n; i++) {
          batch[i] = this.#ring[head]!;
          this.#ring[head] = undefined;
          if (++head === this.#capacity) head = 0;
        }
        this.#head = head;
        this.#count -= n;
        const t0 = performance.now();
        await this.#deliver(batch);
        this.#stats.handlingMs += performance.now() - t0;
      }
    } finally {
      this.#draining = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  async #deliver(batch: Signal[]): Promise<void> {
    const obj = this.#obj;
    if (obj?.handleBatch !== undefined) {
      try {
        const r = obj.handleBatch(batch);
        if (isThenable(r)) await r;
        this.#stats.handled += batch.length;
      } catch (e) {
        this.#report(e, batch[0]);
      }
      return;
    }
    const fn = this.#fn ?? ((s: Signal) => obj!.handle!(s));
    for (let i = 0; i < batch.length; i++) {
      try {
        const r = fn(batch[i]);
        if (isThenable(r)) await r;
        this.#stats.handled++;
      } catch (e) {
        this.#report(e, batch[i]);
      }
    }
  }

  #whenIdle(): Promise<void> {
    if (!this.#draining && this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #withTimeout(p: Promise<unknown>, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(false), timeoutMs);
      p.then(
        () => {
          this.#clock.clearTimeout(timer);
          resolve(true);
        },
        (e) => {
          this.#clock.clearTimeout(timer);
          this.#report(e, undefined);
          resolve(true);
        },
      );
    });
  }

  /**
   * Waits until the queue has drained, then calls the handler's `flush`. Resolves `true` when both
   * finished within `timeoutMs`, `false` on timeout.
   */
  async flush(timeoutMs?: number): Promise<boolean> {
    timeoutMs ??= 5000;
    const start = this.#clock.now();
    if (!await this.#withTimeout(this.#whenIdle(), timeoutMs)) return false;
    const obj = this.#obj;
    if (obj?.flush === undefined || this.#closed) return true;
    const left = Math.max(0, timeoutMs - (this.#clock.now() - start));
    return await this.#withTimeout(Promise.resolve().then(() => obj.flush!()), left);
  }

  /** Stops accepting signals, flushes (up to `timeoutMs`), then calls the handler's `stop`. */
  async stop(timeoutMs?: number): Promise<boolean> {
    timeoutMs ??= 5000;
    if (this.#stopped) return true;
    this.#stopped = true;
    const ok = await this.flush(timeoutMs);
    this.#closed = true;
    const obj = this.#obj;
    if (obj?.stop !== undefined) {
      try {
        await obj.stop();
      } catch (e) {
        this.#report(e, undefined);
      }
    }
    return ok;
  }

  /** A snapshot of the handler's counters. */
  stats(): HandlerStats {
    return { ...this.#stats, queued: this.#count, stopped: this.#stopped };
  }
}
