// This module is browser compatible.
/**
 * A stall detector for one stream (internal): fires when nothing moved for `ms` while the stream
 * waited on its peer. One timer per stream, re-armed lazily, so progress costs a clock read, not
 * a timer.
 *
 * @module
 */
import type { Clock, TimerHandle } from "../util/clock.ts";

/** Calls `onIdle` once the stream waited on its peer for `ms` without progress. */
export class IdleWatch {
  readonly #clock: Clock;
  readonly #ms: number;
  readonly #onIdle: () => void;
  readonly #waiting: () => boolean;
  #last: number;
  #timer: TimerHandle | undefined;

  /** `ms` of 0 turns the watch off; `waiting()` says whether the peer holds the stream up now. */
  constructor(clock: Clock, ms: number, waiting: () => boolean, onIdle: () => void) {
    this.#clock = clock;
    this.#ms = ms;
    this.#waiting = waiting;
    this.#onIdle = onIdle;
    this.#last = clock.now();
  }

  /** Progress: starts the watch, or pushes its deadline back. */
  touch(): void {
    if (this.#ms === 0) return;
    this.#last = this.#clock.now();
    if (this.#timer === undefined) this.#arm(this.#ms);
  }

  /** Stops watching (suspended or final); `touch()` starts again. */
  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      const elapsed = this.#clock.now() - this.#last;
      if (!this.#waiting()) {
        this.touch(); // our own side holds it up (a slow reader, a slow body): not the peer's fault
      } else if (elapsed >= this.#ms) {
        this.#onIdle();
      } else {
        this.#arm(this.#ms - elapsed);
      }
    }, ms);
  }
}
