/**
 * A token bucket on an injected clock: the per-connection rate limit for messages and bytes, and
 * (as the parent of a connection's byte bucket, see `ip_budget.ts`) the per-IP bound on inflated
 * bytes.
 *
 * @module
 */
import type { Clock } from "../util/clock.ts";

/** A rate: `perSecond` sustained, up to `burst` at once. */
export interface Rate {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket capacity (the largest burst). */
  burst: number;
}

/** What a bucket charges alongside itself: the connection's IP budget (see `ip_budget.ts`). */
export interface ChargeParent {
  /** Charges `n` tokens, even into debt; `false` when in debt afterwards. */
  charge(n: number, now: number): boolean;
}

/** A token bucket that refills continuously from the clock. */
export class TokenBucket {
  #tokens: number;
  #last: number;

  /**
   * Starts full. A `parent` (the connection's IP budget) is charged alongside by
   * {@linkcode TokenBucket.charge}, and only by it: `take` (raw frame bytes) never touches it.
   */
  constructor(readonly rate: Rate, readonly clock: Clock, readonly parent?: ChargeParent) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) {
      throw new RangeError(
        `a rate needs perSecond > 0 and burst >= 1, got ${JSON.stringify(rate)}`,
      );
    }
    this.#tokens = rate.burst;
    this.#last = clock.now();
  }

  /** Takes `n` tokens if there are enough; returns `false` (taking none) otherwise. */
  take(n = 1, now: number = this.clock.now()): boolean {
    this.#tokens = Math.min(
      this.rate.burst,
      this.#tokens + ((now - this.#last) / 1000) * this.rate.perSecond,
    );
    this.#last = now;
    // A single item larger than the burst can never pass; let it through when the bucket is full
    // so one big (but size-limited) message is not refused forever.
    const cost = Math.min(n, this.rate.burst);
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }

  /**
   * Takes `n` tokens for work already done (bytes already inflated), even into debt: until the
   * debt is refilled, {@linkcode TokenBucket.take} refuses everything. Returns `false` when the
   * bucket (or its parent) is in debt afterwards; `charge(0)` asks whether either is in debt.
   */
  charge(n: number, now: number = this.clock.now()): boolean {
    this.take(0, now); // refills
    this.#tokens -= n;
    const parentOk = this.parent ? this.parent.charge(n, now) : true;
    return this.#tokens >= 0 && parentOk;
  }

  /** Tokens available now (for tests and stats); negative while in debt. */
  get tokens(): number {
    return this.#tokens;
  }
}
