// This module is browser compatible.
/**
 * Rate limits in injectable time: a multi-window {@linkcode RateLimiter} ("n per window, per key",
 * Telemere's `:limit`/`:limit-by`) and a {@linkcode TokenBucket} for per-connection budgets.
 *
 * @module
 */

import { type Clock, realClock } from "../util/clock.ts";

/** One window: at most `n` signals per `windowMs` milliseconds. */
export type RateWindow = readonly [n: number, windowMs: number];

/**
 * A rate-limit spec: one window, a list of windows, or named windows
 * (`{ "1/s": [1, 1000], "10/min": [10, 60_000] }`). A signal passes only if every window allows it.
 */
export type RateLimitSpec =
  | RateWindow
  | readonly RateWindow[]
  | Readonly<Record<string, RateWindow>>;

/** Options for {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Time source.
   * @default {realClock} */
  clock?: Clock;
  /** Most keys tracked at once; the least recently created key is forgotten beyond this.
   * @default {10_000} */
  maxKeys?: number;
}

const RATE_LIMITER_DEFAULTS: Required<RateLimiterOptions> = { clock: realClock, maxKeys: 10_000 };

function isWindow(w: unknown): w is RateWindow {
  return Array.isArray(w) && w.length === 2 && typeof w[0] === "number" &&
    typeof w[1] === "number";
}

/**
 * Normalizes a spec to a list of windows.
 *
 * @throws {TypeError} if `spec` has the wrong shape.
 * @throws {RangeError} if a window has `n < 0` or `windowMs <= 0`.
 */
export function parseRateLimit(spec: RateLimitSpec, argName?: string): RateWindow[] {
  argName ??= "limit";
  let windows: RateWindow[];
  if (isWindow(spec)) windows = [spec];
  else if (Array.isArray(spec)) windows = [...spec];
  else if (spec !== null && typeof spec === "object") windows = Object.values(spec);
  else throw new TypeError(`${argName} must be [n, windowMs], a list or a record of them`);
  if (windows.length === 0) throw new RangeError(`${argName} must have at least one window`);
  for (const w of windows) {
    if (!isWindow(w)) {
      throw new TypeError(`${argName} windows must be [n, windowMs], got ${JSON.stringify(w)}`);
    }
    if (!(w[0] >= 0) || !Number.isInteger(w[0])) {
      throw new RangeError(`${argName}: n must be an integer >= 0, got ${w[0]}`);
    }
    if (!(w[1] > 0)) throw new RangeError(`${argName}: windowMs must be > 0, got ${w[1]}`);
  }
  return windows;
}

/**
 * Counts events per key in fixed windows that restart when they expire.
 *
 * - An event is allowed only if every window has room; only allowed events are counted.
 * - State per key is bounded by `maxKeys`.
 */
export class RateLimiter {
  readonly #windows: RateWindow[];
  readonly #clock: Clock;
  readonly #maxKeys: number;
  // Per key: [start0, count0, start1, count1, ...]
  readonly #state = new Map<string, number[]>();

  /** Builds a limiter for `spec`. */
  constructor(spec: RateLimitSpec, options: RateLimiterOptions = {}) {
    const o = { ...RATE_LIMITER_DEFAULTS, ...options };
    if (!(o.maxKeys >= 1)) throw new RangeError(`maxKeys must be >= 1, got ${o.maxKeys}`);
    this.#windows = parseRateLimit(spec);
    this.#clock = o.clock;
    this.#maxKeys = o.maxKeys;
  }

  /** Records one event for `key` and returns whether it is within the limit. */
  allow(key?: string): boolean {
    key ??= "";
    const now = this.#clock.now();
    let st = this.#state.get(key);
    if (st === undefined) {
      if (this.#state.size >= this.#maxKeys) {
        this.#state.delete(this.#state.keys().next().value as string);
      }
      st = new Array(this.#windows.length * 2).fill(now);
      for (let i = 1; i < st.length; i += 2) st[i] = 0;
      this.#state.set(key, st);
    }
    const w = this.#windows;
    for (let i = 0; i < w.length; i++) {
      if (now - st[2 * i] >= w[i][1]) {
        st[2 * i] = now;
        st[2 * i + 1] = 0;
      }
      if (st[2 * i + 1] >= w[i][0]) return false;
    }
    for (let i = 0; i < w.length; i++) st[2 * i + 1]++;
    return true;
  }

  /** Forgets all keys (or one). */
  reset(key?: string): void {
    if (key === undefined) this.#state.clear();
    else this.#state.delete(key);
  }

  /** How many keys are tracked. */
  get size(): number {
    return this.#state.size;
  }
}

/** Options for {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second.
   * @default {1000} */
  ratePerSec?: number;
  /** Bucket capacity (the largest burst).
   * @default {2000} */
  burst?: number;
  /** Time source.
   * @default {realClock} */
  clock?: Clock;
  /** Most keys tracked at once; the least recently created key is forgotten beyond this.
   * @default {10_000} */
  maxKeys?: number;
}

const TOKEN_BUCKET_DEFAULTS: Required<TokenBucketOptions> = {
  ratePerSec: 1000,
  burst: 2000,
  clock: realClock,
  maxKeys: 10_000,
};

/** A token bucket per key: `take(key, n)` succeeds while the key's bucket holds `n` tokens. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** Builds a bucket set; every key starts full. */
  constructor(options: TokenBucketOptions = {}) {
    const o = { ...TOKEN_BUCKET_DEFAULTS, ...options };
    if (!(o.ratePerSec >= 0)) throw new RangeError(`ratePerSec must be >= 0, got ${o.ratePerSec}`);
    if (!(o.burst > 0)) throw new RangeError(`burst must be > 0, got ${o.burst}`);
    if (!(o.maxKeys >= 1)) throw new RangeError(`maxKeys must be >= 1, got ${o.maxKeys}`);
    this.#rate = o.ratePerSec;
    this.#burst = o.burst;
    this.#clock = o.clock;
    this.#maxKeys = o.maxKeys;
  }

  /** Takes `n` tokens from `key`'s bucket; returns `false` (taking none) if there are too few. */
  take(key: string, n?: number): boolean {
    n ??= 1;
    const now = this.#clock.now();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.#maxKeys) {
        this.#buckets.delete(this.#buckets.keys().next().value as string);
      }
      b = { tokens: this.#burst, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#rate);
      b.at = now;
    }
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }

  /** Tokens currently available to `key`. */
  available(key: string): number {
    const b = this.#buckets.get(key);
    if (b === undefined) return this.#burst;
    return Math.min(this.#burst, b.tokens + ((this.#clock.now() - b.at) / 1000) * this.#rate);
  }

  /** Forgets a key (e.g. when its connection closes). */
  delete(key: string): void {
    this.#buckets.delete(key);
  }
}
