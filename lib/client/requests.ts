// This module is browser compatible.
/**
 * The client's request/reply bookkeeping: requests waiting for their reply, kept by callback
 * number, with their timeouts and abort signals.
 *
 * Guarantees:
 * - A request settles exactly once: with the reply, `TimeoutError`, the error it is rejected with
 *   or the abort reason; it leaves the map (and its signal) when it does.
 * - One timer serves every timeout, set for the earliest deadline; none is left once nothing
 *   is pending.
 * - A reply matches only the exact callback id the client wrote (see {@linkcode cbNumber}).
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import { REPLY_CLOSED, REPLY_ERROR, REPLY_TIMEOUT } from "../protocol/envelope.ts";
import { ClosedError, ServerError, TimeoutError } from "../protocol/errors.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
import type { Queued } from "./outbox.ts";

/**
 * A request waiting for its reply, and its own queue entry: one object per request, no closures
 * (it leaves the pending map when it settles).
 */
export class Pending implements Queued {
  // Every field is `declare`d and set in the constructor: the bundle then carries no list of
  // field names, and each object gets its fields in one order (one shape for all requests).
  /** The request's frame. */
  declare readonly frame: Frame;
  /** Its callback id. */
  declare readonly cb: string;
  /** The number `cb` writes in base 36: the key of the pending map. */
  declare readonly key: number;
  /** The event id, for the timeout message. */
  declare readonly id: string;
  /** Its timeout, for the timeout message. */
  declare readonly timeoutMs: number;
  /** Clock time after which the request rejects with `TimeoutError`. */
  declare readonly deadline: number;
  /** Send it again after a reconnect when the connection drops before the reply. */
  declare readonly retry: boolean;
  /** Aborting it rejects the request with the signal's reason. */
  declare readonly signal: AbortSignal | undefined;
  /** Settles the caller's promise with the reply (set by {@linkcode promiseOf}, or given). */
  declare resolve: (value: unknown) => void;
  /** Settles the caller's promise with an error (see `resolve`). */
  declare reject: (error: unknown) => void;
  /** Set once it settled: a queued frame of it is not sent. */
  declare cancelled: boolean;
  /** `true` once the frame went out on the current socket. */
  declare sent: boolean;
  /** When it was last written (a counter), to re-send in call order after a drop. */
  declare order: number | undefined;
  /** Its listener on `signal`, when one was given. */
  declare onAbort: (() => void) | null;
  /** Makes the request; {@linkcode PendingRequests.add} starts waiting for it. */
  constructor(
    frame: Frame,
    cb: string,
    key: number,
    id: string,
    timeoutMs: number,
    deadline: number,
    retry: boolean,
    signal: AbortSignal | undefined,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
  ) {
    this.frame = frame;
    this.cb = cb;
    this.key = key;
    this.id = id;
    this.timeoutMs = timeoutMs;
    this.deadline = deadline;
    this.retry = retry;
    this.signal = signal;
    this.resolve = resolve;
    this.reject = reject;
    this.cancelled = false;
    this.sent = false;
    this.order = undefined;
    this.onAbort = null;
  }
}

/** Settlers of a request whose promise is not made yet ({@linkcode promiseOf} replaces them). */
export function noSettler(): void {}

/** The request whose promise is being made: {@linkcode takeSettlers} hands it the settlers. */
let making: Pending | null = null;

/**
 * The executor of every request promise: one function for all of them, so a request makes no
 * closure (and no closure context holding its arguments) to learn its `resolve` and `reject`.
 * An executor runs synchronously inside `new Promise`, while `making` is that request.
 */
function takeSettlers(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  making!.resolve = resolve;
  making!.reject = reject;
}

/** Makes the promise of `p`, keeping its settlers on `p`. */
export function promiseOf(p: Pending): Promise<unknown> {
  making = p;
  try {
    return new Promise(takeSettlers);
  } finally {
    making = null;
  }
}

/**
 * The number a callback id of ours writes in base 36 (`key.toString(36)`), or -1 when it is not
 * one: not base 36, a leading zero, or too long to be exact. Only the form `toString(36)` writes
 * maps to a number, so a reply naming any other string matches no pending request.
 */
export function cbNumber(cb: string): number {
  const n = cb.length;
  if (n === 0 || n > 10 || (n > 1 && cb.charCodeAt(0) === 48)) return -1; // 36^10 < 2^53
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = cb.charCodeAt(i);
    let d;
    if (c >= 48 && c <= 57) d = c - 48; // 0-9
    else if (c >= 97 && c <= 122) d = c - 87; // a-z
    else return -1;
    v = v * 36 + d;
  }
  return v;
}

/** The requests of one client that wait for their reply. */
export class PendingRequests {
  /** Pending requests by callback number (a number hashes cheaper than a fresh string). */
  #pending = new Map<number, Pending>();
  /** Request callback ids: a counter is unique by construction and costs no random bytes. */
  #nextCb = 0;
  /** One timer for every request timeout, set for the earliest deadline. */
  #deadlineTimer: TimerHandle | undefined;
  #deadlineAt = Infinity;
  #clock: Clock;

  /** Makes an empty set; timeouts run on `clock`. */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The callback number of the next request (its id is the number in base 36). */
  next(): number {
    return this.#nextCb++;
  }

  /** Starts waiting for `p`: its reply, its deadline and its signal. */
  add(p: Pending): void {
    const signal = p.signal;
    if (signal) {
      p.onAbort = () => this.reject(p, signal.reason);
      signal.addEventListener("abort", p.onAbort, { once: true });
    }
    this.#pending.set(p.key, p);
    this.#armDeadline(p.deadline);
  }

  /** The pending request callback id `cb` names, if any. */
  get(cb: string): Pending | undefined {
    return this.#pending.get(cbNumber(cb));
  }

  /** Forgets `p` (it settled) and rejects it with `error`. */
  reject(p: Pending, error: unknown): void {
    this.#forget(p);
    p.reject(error);
  }

  /**
   * Settles the request `cbId` names with the server's reply (`chsk/timeout`, `chsk/closed` and
   * `chsk/error` reject); `false` when none is pending (a late reply).
   */
  settle(cbId: string, value: unknown): boolean {
    const p = this.get(cbId);
    if (!p) return false;
    this.#forget(p);
    if (value === REPLY_TIMEOUT) p.reject(new TimeoutError("the server answered chsk/timeout"));
    else if (value === REPLY_CLOSED) p.reject(new ClosedError("the server answered chsk/closed"));
    else if (value === REPLY_ERROR) {
      p.reject(new ServerError("chsk/error", "the server answered chsk/error"));
    } else p.resolve(value);
    return true;
  }

  /**
   * The socket the requests were written to is lost: those that retry are returned (to be
   * queued again), the others reject with `error`.
   */
  lost(error: Error): Queued[] {
    const again: Queued[] = [];
    for (const p of [...this.#pending.values()]) {
      if (!p.sent) continue;
      if (p.retry) {
        p.sent = false;
        again.push(p);
      } else this.reject(p, error);
    }
    return again;
  }

  /** Rejects every pending request with `error`. */
  rejectAll(error: Error): void {
    for (const p of [...this.#pending.values()]) this.reject(p, error);
  }

  /** A request settled (or is about to): it leaves the queue and the pending map. */
  #forget(p: Pending): void {
    p.cancelled = true;
    this.#pending.delete(p.key);
    if (p.onAbort !== null) p.signal!.removeEventListener("abort", p.onAbort);
    // Nothing left to time out: no timer may keep the process (or a test) alive.
    if (this.#pending.size === 0) this.#disarmDeadline();
  }

  /**
   * Request timeouts share one timer set for the earliest deadline (one timer per request was a
   * fifth of the client's CPU at high request rates). When it fires, every expired request
   * rejects and the timer moves to the next deadline.
   */
  #armDeadline(deadline: number): void {
    if (deadline >= this.#deadlineAt) return;
    const clock = this.#clock;
    if (this.#deadlineTimer !== undefined) clock.clearTimeout(this.#deadlineTimer);
    this.#deadlineAt = deadline;
    this.#deadlineTimer = clock.setTimeout(() => this.#expire(), deadline - clock.now());
  }

  #disarmDeadline(): void {
    if (this.#deadlineTimer !== undefined) this.#clock.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    this.#deadlineAt = Infinity;
  }

  #expire(): void {
    this.#deadlineTimer = undefined;
    this.#deadlineAt = Infinity;
    const now = this.#clock.now();
    let next = Infinity;
    for (const p of [...this.#pending.values()]) {
      if (p.deadline <= now) {
        this.reject(p, new TimeoutError(`no reply to ${p.id} within ${p.timeoutMs} ms`));
      } else if (p.deadline < next) next = p.deadline;
    }
    if (next !== Infinity) this.#armDeadline(next);
  }
}
