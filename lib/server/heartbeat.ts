/**
 * The server's per-connection heartbeat: Sente's application-level ping frame
 * (`["chsk/ws-ping", null]`) after `intervalMs` without a received frame, and a close with 4008
 * after `timeoutMs` without one. Any received frame counts (the Hub records `lastSeen` on every
 * frame), so busy connections are never pinged.
 *
 * The runtimes' own keepalives stay off (Deno `idleTimeout: 0`, Bun `idleTimeout: 0` and
 * `sendPings: false`): protocol-level pings reach browsers' JavaScript, which WebSocket control
 * frames never do, so both ends see the same liveness, and the timings live in one place, run on
 * the Hub's clock, and are tested in virtual time.
 *
 * @module
 */
import { CLOSE_HEARTBEAT_TIMEOUT } from "../protocol/close_codes.ts";
import type { ServerMessage } from "../protocol/envelope.ts";
import { type Clock, type TimerHandle, unref } from "../util/clock.ts";

/** Server heartbeat timings. */
export interface HeartbeatOptions {
  /**
   * Send a ping after this long (ms) without a frame from the client.
   * @default {30000}
   */
  intervalMs?: number;
  /**
   * Close the connection (4008) and clean it up after this long (ms) without a frame.
   * @default {60000}
   */
  timeoutMs?: number;
}

/** The defaults of {@linkcode HeartbeatOptions}. */
export const HEARTBEAT_DEFAULTS: Required<HeartbeatOptions> = {
  intervalMs: 30_000,
  timeoutMs: 60_000,
};

/** Fills in defaults and range-checks; `false` stays `false` (no heartbeat). */
export function resolveHeartbeatOptions(
  options: HeartbeatOptions | false | undefined,
): Required<HeartbeatOptions> | false {
  if (options === false) return false;
  const o = {
    intervalMs: options?.intervalMs ?? HEARTBEAT_DEFAULTS.intervalMs,
    timeoutMs: options?.timeoutMs ?? HEARTBEAT_DEFAULTS.timeoutMs,
  };
  if (!Number.isInteger(o.intervalMs) || o.intervalMs < 1) {
    throw new RangeError(
      `ServerOptions.heartbeat.intervalMs must be a positive integer, got ${o.intervalMs}`,
    );
  }
  if (!Number.isInteger(o.timeoutMs) || o.timeoutMs <= o.intervalMs) {
    throw new RangeError(
      `ServerOptions.heartbeat.timeoutMs must be an integer > intervalMs (${o.intervalMs}), got ${o.timeoutMs}`,
    );
  }
  return o;
}

/** The part of a connection the heartbeat needs. */
export interface HeartbeatTarget {
  /** Clock time of the last received frame. */
  readonly lastSeen: number;
  /** Encodes, packs and sends one message. */
  send(message: ServerMessage): boolean;
  /** Closes the socket. */
  close(code: number, reason: string): void;
  /**
   * The scheduler's bookkeeping, kept on the target so a connection costs no record of its own:
   * when it is looked at next, when it was last pinged (`-Infinity` before the first), its place
   * in the heap (-1 when not watched). Start them at `0`, `-Infinity`, `-1`.
   */
  hbAt: number;
  /** See `hbAt`. */
  hbPingedAt: number;
  /** See `hbAt`. */
  hbIndex: number;
}

const PING: ServerMessage = { type: "ping" };

/**
 * The heartbeats of every connection of a server on ONE clock timer: the connections wait in a
 * min-heap by the time of their next look, and the timer is armed for the earliest. A connection
 * costs three numbers on itself and no timer; opening or closing one is O(log n), and a received
 * frame costs nothing (its `lastSeen` is read when its time comes).
 *
 * Same timing as a timer per connection: a ping `intervalMs` after the last frame (once per
 * silence), and `timedOut` (after a close with 4008) `timeoutMs` after it.
 */
export class HeartbeatScheduler<T extends HeartbeatTarget> {
  readonly #clock: Clock;
  readonly #timing: Required<HeartbeatOptions>;
  readonly #timedOut: (target: T) => void;
  readonly #heap: T[] = [];
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;

  /** `timedOut` runs after the socket was closed with 4008, so the Hub cleans up at once. */
  constructor(clock: Clock, timing: Required<HeartbeatOptions>, timedOut: (target: T) => void) {
    this.#clock = clock;
    this.#timing = timing;
    this.#timedOut = timedOut;
  }

  /** Connections watched. */
  get size(): number {
    return this.#heap.length;
  }

  /** Starts watching `target` (counted as seen at its `lastSeen`). */
  add(target: T): void {
    if (target.hbIndex >= 0) return;
    target.hbPingedAt = -Infinity;
    target.hbAt = this.#next(target);
    this.#push(target);
    this.#arm();
  }

  /** Stops watching `target`. */
  remove(target: T): void {
    if (target.hbIndex < 0) return;
    this.#removeAt(target.hbIndex);
    this.#arm();
  }

  /** When `target` must be looked at next. */
  #next(target: T): number {
    const { intervalMs, timeoutMs } = this.#timing;
    const lastSeen = target.lastSeen;
    let at = lastSeen + timeoutMs;
    if (target.hbPingedAt <= lastSeen) at = Math.min(at, lastSeen + intervalMs);
    return at;
  }

  #arm(): void {
    const at = this.#heap.length ? this.#heap[0].hbAt : Infinity;
    if (at === this.#timerAt) return;
    // A timer that fires no later than needed is kept: it finds nothing due then and arms again.
    // Connections mostly close in the order they opened, each taking the heap's top with it:
    // re-arming for the next one would cost a clear and a set per close. With nothing left to
    // watch the timer runs out too (unref'd, it keeps no process alive): under a churn of short
    // connections the heap empties between them, and clearing it there cost a clear and a set per
    // connection.
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === Infinity) return;
    this.#timer = unref(
      this.#clock,
      this.#clock.setTimeout(this.#fired, Math.max(0, at - this.#clock.now())),
    );
  }

  #fired = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#fire();
  };

  #fire(): void {
    const { intervalMs, timeoutMs } = this.#timing;
    const heap = this.#heap;
    while (heap.length && heap[0].hbAt <= this.#clock.now()) {
      const target = heap[0];
      const now = this.#clock.now();
      const idle = now - target.lastSeen;
      if (idle >= timeoutMs) {
        this.#removeAt(0);
        target.close(CLOSE_HEARTBEAT_TIMEOUT, "heartbeat timeout");
        this.#timedOut(target);
        continue;
      }
      if (idle >= intervalMs && target.hbPingedAt <= target.lastSeen) {
        target.hbPingedAt = now;
        target.send(PING);
        if (target.hbIndex < 0) continue; // the ping's send closed it
      }
      target.hbAt = this.#next(target);
      this.#down(target.hbIndex);
    }
    this.#arm();
  }

  // ---- the min-heap by `hbAt`

  #push(target: T): void {
    target.hbIndex = this.#heap.length;
    this.#heap.push(target);
    this.#up(target.hbIndex);
  }

  #removeAt(i: number): void {
    const heap = this.#heap;
    const gone = heap[i];
    const last = heap.pop()!;
    gone.hbIndex = -1;
    if (i < heap.length) {
      heap[i] = last;
      last.hbIndex = i;
      this.#down(i);
      this.#up(last.hbIndex);
    }
  }

  #up(i: number): void {
    const heap = this.#heap;
    const target = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p].hbAt <= target.hbAt) break;
      heap[i] = heap[p];
      heap[i].hbIndex = i;
      i = p;
    }
    heap[i] = target;
    target.hbIndex = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const target = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r].hbAt < heap[l].hbAt ? r : l;
      if (heap[c].hbAt >= target.hbAt) break;
      heap[i] = heap[c];
      heap[i].hbIndex = i;
      i = c;
    }
    heap[i] = target;
    target.hbIndex = i;
  }
}
