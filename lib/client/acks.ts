// This module is browser compatible.
/**
 * The client's side of resume's inbound numbering (docs/delivery.md): the highest server seq
 * received, duplicates dropped, and acknowledgements sent in batches (`sente-lite/ack`).
 *
 * Guarantees:
 * - A numbered push is accepted once: a seq at or below the highest received is a duplicate.
 * - An ack goes out after `ackEvery` unacknowledged pushes or `ackDelayMs` after the first of
 *   them, whichever comes first, and never twice for the same seq.
 *
 * @module
 */
import { clientEventEnvelope } from "../protocol/envelope.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
import type { ClientResumeOptions } from "./options.ts";

/** The inbound seq of one client and its acknowledgements. */
export class InboundAcks {
  /** The highest server seq received (sent in the upgrade URL to resume from). */
  seq = 0;
  /** The highest seq acknowledged. */
  #acked = 0;
  #timer: TimerHandle | undefined;
  #clock: Clock;
  #send: (value: unknown) => void;

  /** Acks go out through `send` (an envelope), on timers of `clock`. */
  constructor(clock: Clock, send: (value: unknown) => void) {
    this.#clock = clock;
    this.#send = send;
  }

  /** A resumed socket: the server numbers on from `seq`, everything up to it acknowledged. */
  reset(seq: number): void {
    this.seq = this.#acked = seq;
  }

  /** `true` for a new seq (now the highest), `false` for a duplicate. */
  received(seq: number): boolean {
    if (seq <= this.seq) return false;
    this.seq = seq;
    return true;
  }

  /** Acknowledges now when `ackEvery` are waiting, else within `ackDelayMs`. */
  schedule(r: Required<ClientResumeOptions>): void {
    if (this.seq - this.#acked >= r.ackEvery) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, r.ackDelayMs);
    }
  }

  /** Acknowledges everything received, if anything is unacknowledged. */
  flush(): void {
    this.stop();
    if (this.seq <= this.#acked) return;
    this.#acked = this.seq;
    this.#send(clientEventEnvelope("sente-lite/ack", { seq: this.seq }, null));
  }

  /** Cancels a scheduled ack (the socket is gone). */
  stop(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
