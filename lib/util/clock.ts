// This module is browser compatible.
/**
 * Injectable time. Everything time-based in sente-lite (timeouts, heartbeats, backoff, TTLs,
 * batching windows) reads time and schedules work through a {@linkcode Clock}, so tests can run it
 * in virtual time with {@linkcode VirtualClock}.
 *
 * @module
 */

/** An opaque handle returned by {@linkcode Clock.setTimeout}. */
export type TimerHandle = unknown;

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds since the epoch (or any fixed origin). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown or already-fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now` and the global timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/**
 * A real timer that must not keep a process (or a test) alive by itself: the server's listener does
 * that while it runs (expiring a buffer, timing out a handshake). Other clocks' handles pass through.
 */
export function unref(clock: Clock, handle: TimerHandle): TimerHandle {
  if (clock !== realClock) return handle;
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof handle === "number" && deno?.unrefTimer) deno.unrefTimer(handle);
  else (handle as { unref?: () => void } | undefined)?.unref?.();
  return handle;
}

interface VirtualTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. Timers fire in time order (ties in creation order) during
 * {@linkcode VirtualClock.tick}.
 *
 * @example
 * ```ts
 * import { VirtualClock } from "./clock.ts";
 * const clock = new VirtualClock();
 * let fired = false;
 * clock.setTimeout(() => fired = true, 100);
 * clock.tick(100);
 * console.assert(fired);
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: VirtualTimer[] = [];
  #cleared = 0;

  /** Starts at `start` ms (default 0). */
  constructor(start?: number) {
    this.#now = start ?? 0;
  }

  /**
   * The current virtual time.
   *
   * @example
   * ```ts
   * import { VirtualClock } from "@sente-lite/sente-lite";
   *
   * const clock = new VirtualClock();
   * console.log(clock.now()); // 0
   * ```
   */
  now(): number {
    return this.#now;
  }

  /**
   * Schedules `fn` at `now() + ms`.
   *
   * @example
   * ```ts
   * import { VirtualClock } from "@sente-lite/sente-lite";
   *
   * const clock = new VirtualClock();
   * clock.setTimeout(() => console.log("fired at", clock.now()), 100);
   * clock.tick(100); // fired at 100
   * ```
   */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return timer.id;
  }

  /**
   * Cancels a pending timer.
   *
   * @example
   * ```ts
   * import { VirtualClock } from "@sente-lite/sente-lite";
   *
   * const clock = new VirtualClock();
   * const handle = clock.setTimeout(() => console.log("never"), 100);
   * clock.clearTimeout(handle);
   * clock.tick(1000);
   * ```
   */
  clearTimeout(handle: TimerHandle): void {
    this.#cleared++;
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** How many timers are pending. */
  get pending(): number {
    return this.#timers.length;
  }

  /** How many timers were scheduled so far (for tests that count timer work). */
  get scheduled(): number {
    return this.#nextId - 1;
  }

  /** How many times `clearTimeout` was called so far, with a pending handle or not. */
  get cleared(): number {
    return this.#cleared;
  }

  /**
   * Advances time by `ms`, firing every timer that comes due, including ones scheduled meanwhile.
   *
   * @example
   * ```ts
   * import { VirtualClock } from "@sente-lite/sente-lite";
   *
   * const clock = new VirtualClock();
   * clock.setTimeout(() => console.log("a"), 10);
   * clock.setTimeout(() => console.log("b"), 20);
   * clock.tick(15); // a
   * ```
   */
  tick(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: VirtualTimer | undefined;
      for (const t of this.#timers) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) {
          next = t;
        }
      }
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
  }

  /**
   * Advances to the next pending timer and fires it; returns `false` when none is pending.
   *
   * @example
   * ```ts
   * import { VirtualClock } from "@sente-lite/sente-lite";
   *
   * const clock = new VirtualClock();
   * clock.setTimeout(() => console.log("later"), 5000);
   * while (clock.next()) {} // runs every pending timer, jumping time forward
   * console.log(clock.now()); // 5000
   * ```
   */
  next(): boolean {
    if (this.#timers.length === 0) return false;
    const at = Math.min(...this.#timers.map((t) => t.at));
    this.tick(at - this.#now);
    return true;
  }
}
