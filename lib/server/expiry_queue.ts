/**
 * Timeouts that all have the same delay, on ONE timer: items expire in the order they were added
 * (the deadlines are in that order too), so only the first live one needs a timer. Adding and
 * cancelling are O(1) and make no timer; a cancelled entry lets go of its item at once and is
 * skipped (and compacted away) later. With nothing live the timer is cleared.
 *
 * The resume sessions of churning clients (lib/server/delivery.ts: each closed connection parks
 * its session for `ttlMs`) made a timer and cancelled one per connection; this makes neither.
 *
 * @example
 * ```ts
 * import { ExpiryQueue } from "./expiry_queue.ts";
 * import { VirtualClock } from "../util/clock.ts";
 * const clock = new VirtualClock();
 * const gone: string[] = [];
 * const queue = new ExpiryQueue<string>(clock, 100, (item) => gone.push(item));
 * queue.add("a");
 * const b = queue.add("b");
 * queue.cancel(b);
 * clock.tick(100);
 * console.assert(gone.join() === "a" && clock.pending === 0);
 * ```
 *
 * @module
 */
import type { Clock, TimerHandle } from "../util/clock.ts";

/** One item's place in an {@linkcode ExpiryQueue}: what {@linkcode ExpiryQueue.cancel} takes. */
export interface ExpiryTicket {
  /** @internal The item; `null` once expired or cancelled. */
  item: unknown;
  /** @internal Clock time it expires. */
  readonly at: number;
}

/** Items expiring `delayMs` after they were added, in order, on one timer. */
export class ExpiryQueue<T> {
  readonly #clock: Clock;
  readonly #delayMs: number;
  readonly #expire: (item: T) => void;
  /** Makes a timer handle not keep the process alive (the caller's policy). */
  readonly #unref: (handle: TimerHandle) => TimerHandle;
  #entries: ExpiryTicket[] = [];
  #head = 0;
  #live = 0;
  #timer: TimerHandle | null = null;
  /** Inside `#due`: it arms the timer for the first live item when done. */
  #dueRunning = false;

  /**
   * `expire` runs for each item `delayMs` after it was added, unless cancelled first; `unref`
   * is applied to each timer made (default: none).
   */
  constructor(
    clock: Clock,
    delayMs: number,
    expire: (item: T) => void,
    unref: (handle: TimerHandle) => TimerHandle = (h) => h,
  ) {
    this.#clock = clock;
    this.#delayMs = delayMs;
    this.#expire = expire;
    this.#unref = unref;
  }

  /** Items waiting to expire. */
  get size(): number {
    return this.#live;
  }

  /** `item` expires `delayMs` from now; the ticket cancels it. */
  add(item: T): ExpiryTicket {
    const ticket: ExpiryTicket = { item, at: this.#clock.now() + this.#delayMs };
    this.#entries.push(ticket);
    this.#live++;
    if (this.#timer === null && !this.#dueRunning) this.#arm(this.#delayMs);
    return ticket;
  }

  /** The ticket's item will not expire (no-op once expired or cancelled). */
  cancel(ticket: ExpiryTicket): void {
    if (ticket.item === null) return;
    ticket.item = null;
    if (--this.#live === 0) return this.stop();
    const dead = this.#entries.length - this.#head - this.#live;
    if (dead > 1024 && dead > this.#live) this.#compact();
  }

  /** Cancels every item and the timer. */
  stop(): void {
    for (let i = this.#head; i < this.#entries.length; i++) this.#entries[i].item = null;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#entries = [];
    this.#head = 0;
    this.#live = 0;
  }

  #arm(ms: number): void {
    this.#timer = this.#unref(this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#due();
    }, Math.max(0, ms)));
  }

  /** Expires the items past their deadline; re-arms for the next live one. */
  #due(): void {
    const now = this.#clock.now();
    this.#dueRunning = true;
    try {
      for (;;) {
        // `expire` may add or cancel (and so compact): read the fields afresh each time.
        const ticket = this.#entries[this.#head];
        if (ticket === undefined || (ticket.item !== null && ticket.at > now)) break;
        this.#head++;
        const item = ticket.item as T | null;
        if (item === null) continue;
        ticket.item = null;
        this.#live--;
        this.#expire(item);
      }
    } finally {
      this.#dueRunning = false;
      this.#rearm(now);
    }
  }

  #rearm(now: number): void {
    if (this.#live === 0) return this.stop();
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) this.#compact();
    while (this.#entries[this.#head].item === null) this.#head++;
    if (this.#timer === null) this.#arm(this.#entries[this.#head].at - now);
  }

  /** Drops the expired and cancelled entries. */
  #compact(): void {
    const kept: ExpiryTicket[] = [];
    for (let i = this.#head; i < this.#entries.length; i++) {
      if (this.#entries[i].item !== null) kept.push(this.#entries[i]);
    }
    this.#entries = kept;
    this.#head = 0;
  }
}
