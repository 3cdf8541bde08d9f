// This module is browser compatible.
/**
 * An idle watch for one connection: after `intervalMs` without a received frame it asks for a
 * ping, after `timeoutMs` without one it declares the peer dead. Any received frame counts, so a
 * busy connection never pings. The client uses it for half-open detection; the server's
 * per-connection heartbeat (`lib/server/heartbeat.ts`) uses the same logic.
 *
 * Guarantees:
 * - At most one timer is pending, and it is re-armed at most once per `intervalMs`: recording a
 *   frame is one clock read, not a timer reset.
 * - `dead` is called at most once per `start()`; nothing fires after `stop()`.
 *
 * @module
 */
import type { Clock, TimerHandle } from "./clock.ts";

/** Timing of a {@linkcode Liveness} watch. */
export interface LivenessTiming {
  /** Idle time after which `ping` is called; 0 never pings. */
  intervalMs: number;
  /** Idle time after which `dead` is called; 0 never declares the peer dead. */
  timeoutMs: number;
}

/** What a {@linkcode Liveness} watch calls. */
export interface LivenessCallbacks {
  /** Send a ping frame. */
  ping(): void;
  /** The peer sent nothing for `timeoutMs`. */
  dead(): void;
  /**
   * Reads when a frame was last received, for owners that record it themselves (the server's
   * connections do); without it, call {@linkcode Liveness.seen} on every frame.
   */
  lastSeen?(): number;
}

/** Watches one connection for silence. */
export class Liveness {
  #clock: Clock;
  #timing: LivenessTiming;
  #callbacks: LivenessCallbacks;
  #lastSeen = 0;
  #pingedAt = -Infinity;
  #probedAt = Infinity;
  #deadline = Infinity;
  #timer: TimerHandle | undefined;
  #running = false;

  /** Makes a stopped watch. */
  constructor(clock: Clock, timing: LivenessTiming, callbacks: LivenessCallbacks) {
    this.#clock = clock;
    this.#timing = timing;
    this.#callbacks = callbacks;
  }

  /** When a frame was last seen (clock time). */
  get lastSeen(): number {
    return this.#callbacks.lastSeen ? this.#callbacks.lastSeen() : this.#lastSeen;
  }

  /** `true` between `start()` and `stop()` or death. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts watching, counting the connection as seen now. */
  start(): void {
    this.stop();
    this.#running = true;
    this.#lastSeen = this.#clock.now();
    this.#pingedAt = -Infinity;
    this.#probedAt = Infinity;
    this.#arm();
  }

  /** Records a received frame. */
  seen(): void {
    this.#lastSeen = this.#clock.now();
  }

  /**
   * Pings now and declares the peer dead unless a frame arrives within `withinMs` (used when a
   * page becomes visible again: its timers may have been throttled for minutes).
   */
  probe(withinMs: number): void {
    if (!this.#running) return;
    this.#pingedAt = this.#probedAt = this.#clock.now();
    this.#deadline = this.#probedAt + withinMs;
    this.#callbacks.ping();
    if (this.#running) this.#arm();
  }

  /** Stops watching. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const { intervalMs, timeoutMs } = this.#timing;
    const now = this.#clock.now();
    const lastSeen = this.lastSeen;
    let at = Infinity;
    if (timeoutMs > 0) at = lastSeen + timeoutMs;
    if (lastSeen <= this.#probedAt) at = Math.min(at, this.#deadline);
    if (intervalMs > 0 && this.#pingedAt <= lastSeen) at = Math.min(at, lastSeen + intervalMs);
    if (at === Infinity) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#check();
    }, Math.max(0, at - now));
  }

  #check(): void {
    if (!this.#running) return;
    const now = this.#clock.now();
    const lastSeen = this.lastSeen;
    const idle = now - lastSeen;
    const { intervalMs, timeoutMs } = this.#timing;
    const probeFailed = lastSeen <= this.#probedAt && now >= this.#deadline;
    if ((timeoutMs > 0 && idle >= timeoutMs) || probeFailed) {
      this.stop();
      this.#callbacks.dead();
      return;
    }
    if (intervalMs > 0 && idle >= intervalMs && this.#pingedAt <= lastSeen) {
      this.#pingedAt = now;
      this.#callbacks.ping();
      if (!this.#running) return; // the ping's send may have stopped us
    }
    this.#arm();
  }
}
