/**
 * Per-uid offline buffers (`docs/delivery.md`): messages sent to a uid with no connection and no
 * resume session, kept for its next connection, bounded by `maxMessages`/`maxBytes` each and
 * `maxSessions` buffers (least recently used evicted), timed out after `ttlMs`.
 * `Delivery` owns the books: it charges their bytes to the shared budget.
 *
 * @module
 */
import type { Event } from "../protocol/event.ts";
import { type Clock, type TimerHandle, unref } from "../util/clock.ts";
import type { Held } from "./delivery_budget.ts";
import { type DeliveryOptions, ENTRY_BYTES } from "./delivery_options.ts";
import type { Buffered, LossReason } from "./session.ts";

/** @internal The messages kept for one uid. */
export interface OfflineBuffer extends Held {
  uid: string;
  messages: Buffered[];
  bytes: number;
  /** Dropped by overflow since the last delivery: told to the next connection. */
  overflow: number;
  /** Expired since the last delivery: told to the next connection. */
  expired: number;
  timer: TimerHandle | undefined;
}

/** @internal A new, empty offline buffer of `uid`, counted nowhere yet. */
export function emptyOfflineBuffer(uid: string): OfflineBuffer {
  return {
    uid,
    messages: [],
    bytes: 0,
    overflow: 0,
    expired: 0,
    timer: undefined,
    counted: 0,
    bucket: -1,
    index: null,
  };
}

/** What a uid's next connection receives from its offline buffer. */
export interface OfflineDelivery {
  /** The messages, oldest first. */
  messages: Buffered[];
  /** Messages lost to overflow while offline. */
  overflow: number;
  /** Messages lost to the TTL while offline. */
  expired: number;
}

/** @internal What the offline buffers need from `Delivery`. */
export interface OfflineHost {
  /** `buf.bytes` changed: the budget follows. */
  sync(buf: OfflineBuffer): void;
  /** Counts and reports a loss. */
  lose(reason: LossReason, uid: string, clientId: null, dropped: number): void;
  /** Trims to `maxTotalBytes`. */
  enforce(): void;
}

/** @internal The offline buffers by uid, least recently used first. */
export class OfflineBuffers {
  #options: Required<DeliveryOptions>;
  #clock: Clock;
  #host: OfflineHost;
  #buffers = new Map<string, OfflineBuffer>();

  /** Makes no buffers yet. */
  constructor(options: Required<DeliveryOptions>, clock: Clock, host: OfflineHost) {
    this.#options = options;
    this.#clock = clock;
    this.#host = host;
  }

  /** Uids with an offline buffer. */
  get size(): number {
    return this.#buffers.size;
  }

  /** Keeps `event` for `uid`, which has no connection and no session waiting. */
  hold(uid: string, event: Event, bytes: number): void {
    let buf = this.#buffers.get(uid);
    if (buf) this.#buffers.delete(uid);
    else buf = emptyOfflineBuffer(uid);
    this.#buffers.set(uid, buf);
    buf.messages.push({ seq: 0, event, bytes, at: this.#clock.now() });
    buf.bytes += bytes + ENTRY_BYTES;
    const { maxMessages, maxBytes } = this.#options;
    let dropped = 0;
    while (buf.messages.length > 0 && (buf.messages.length > maxMessages || buf.bytes > maxBytes)) {
      buf.bytes -= buf.messages.shift()!.bytes + ENTRY_BYTES;
      dropped++;
    }
    this.#host.sync(buf);
    if (dropped > 0) {
      buf.overflow += dropped;
      this.#host.lose("overflow", uid, null, dropped);
    }
    if (buf.timer === undefined && buf.messages.length > 0) this.#arm(buf);
    this.#evict();
    this.#host.enforce();
  }

  #arm(buf: OfflineBuffer): void {
    const due = buf.messages[0].at + this.#options.ttlMs - this.#clock.now();
    buf.timer = unref(this.#clock, this.#clock.setTimeout(() => this.#expire(buf), due));
  }

  #expire(buf: OfflineBuffer): void {
    buf.timer = undefined;
    const cutoff = this.#clock.now() - this.#options.ttlMs;
    let n = 0;
    while (n < buf.messages.length && buf.messages[n].at <= cutoff) {
      buf.bytes -= buf.messages[n++].bytes + ENTRY_BYTES;
    }
    if (n > 0) {
      buf.messages = buf.messages.slice(n);
      this.#host.sync(buf);
      buf.expired += n;
      this.#host.lose("expired", buf.uid, null, n);
    }
    if (buf.messages.length > 0) this.#arm(buf);
  }

  #evict(): void {
    while (this.#buffers.size > this.#options.maxSessions) {
      const [uid, buf] = this.#buffers.entries().next().value!;
      this.#buffers.delete(uid);
      this.#clock.clearTimeout(buf.timer);
      this.#drop(buf);
      if (buf.messages.length > 0) this.#host.lose("evicted", uid, null, buf.messages.length);
    }
  }

  /** Takes (and forgets) what waits for `uid`, for its connection that just opened. */
  take(uid: string): OfflineDelivery | null {
    const buf = this.#buffers.get(uid);
    if (!buf) return null;
    this.#buffers.delete(uid);
    this.#clock.clearTimeout(buf.timer);
    this.#drop(buf);
    const cutoff = this.#clock.now() - this.#options.ttlMs;
    let n = 0;
    while (n < buf.messages.length && buf.messages[n].at <= cutoff) n++;
    if (n > 0) this.#host.lose("expired", uid, null, n);
    return { messages: buf.messages.slice(n), overflow: buf.overflow, expired: buf.expired + n };
  }

  /** An offline buffer leaves the books (taken or evicted): its bytes leave the budget. */
  #drop(buf: OfflineBuffer): void {
    buf.bytes = 0;
    this.#host.sync(buf);
  }

  /** Stops every timer. */
  stop(): void {
    for (const b of this.#buffers.values()) {
      this.#clock.clearTimeout(b.timer);
      b.timer = undefined;
    }
  }
}
