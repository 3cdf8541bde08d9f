/**
 * `rateLimit.messagesPerIp`: inbound messages per remote IP, across all its connections. The
 * per-connection rate (`rateLimit.messages`) alone let one address open `maxConnectionsPerIp`
 * connections and send at that rate on each (1000 × 2000 messages a second by default).
 *
 * Every connection of an IP holds the IP's one {@linkcode TokenBucket}, taken at open, so a message
 * costs one more bucket take and no lookup. The bucket outlives the IP's connections until it has
 * refilled, so closing every connection and reconnecting does not buy a fresh budget: an IP with no
 * connection left is kept (at most `maxIps` of them, least recently left dropped first) and looked
 * at for expiry a few at a time on each open and close. IPv6 addresses count by their /64
 * (`ipKey`); connections without a known address are not limited.
 *
 * @example
 * ```ts
 * import { IpMessageRates } from "./ip_message_rate.ts";
 * import { VirtualClock } from "../util/clock.ts";
 * const rates = new IpMessageRates({ perSecond: 10, burst: 2 }, new VirtualClock());
 * const a = rates.join("192.0.2.1")!;
 * const b = rates.join("192.0.2.1")!; // the same bucket
 * console.assert(a.take() && b.take() && !a.take());
 * ```
 *
 * @module
 */
import type { Clock } from "../util/clock.ts";
import { checkPerIp, DEFAULT_MAX_IPS, ipKey } from "./ip_budget.ts";
import { type Rate, TokenBucket } from "./rate_limit.ts";

/** Idle entries looked at for expiry on each open or close: O(1) each, enough to keep up. */
const SWEEP = 4;

interface Entry {
  readonly bucket: TokenBucket;
  /** Open connections holding the bucket. */
  n: number;
}

/** One message bucket per remote IP, shared by its connections (see the module doc). */
export class IpMessageRates {
  /** IPs with connections. */
  readonly #live = new Map<string, Entry>();
  /** IPs without connections whose bucket has not refilled yet, least recently left first. */
  readonly #idle = new Map<string, Entry>();

  /** Every IP gets `rate`; at most `maxIps` idle IPs are kept. @throws {RangeError} on a bad rate. */
  constructor(
    readonly rate: Rate,
    readonly clock: Clock,
    readonly maxIps: number = DEFAULT_MAX_IPS,
  ) {
    checkPerIp(rate, clock, maxIps);
  }

  /** A connection from `ip` opened: its IP's bucket (`null`: unknown address, not limited). */
  join(ip: string | null): TokenBucket | null {
    if (ip === null) return null;
    const key = ipKey(ip);
    let entry = this.#live.get(key);
    if (entry === undefined) {
      entry = this.#idle.get(key);
      if (entry !== undefined) this.#idle.delete(key);
      else entry = { bucket: new TokenBucket(this.rate, this.clock), n: 0 };
      this.#live.set(key, entry);
    }
    entry.n++;
    this.#sweep();
    return entry.bucket;
  }

  /** A connection from `ip` that {@linkcode join}ed closed. */
  leave(ip: string | null): void {
    if (ip === null) return;
    const key = ipKey(ip);
    const entry = this.#live.get(key);
    if (entry === undefined || --entry.n > 0) return;
    this.#live.delete(key);
    entry.bucket.take(0); // refills
    if (entry.bucket.tokens < this.rate.burst) {
      this.#idle.set(key, entry);
      if (this.#idle.size > this.maxIps) this.#idle.delete(this.#idle.keys().next().value!);
    }
    this.#sweep();
  }

  /** IPs tracked now: with connections, and without but not yet refilled. */
  get size(): number {
    return this.#live.size + this.#idle.size;
  }

  /** Drops the least recently left idle IPs whose bucket has refilled. */
  #sweep(): void {
    if (this.#idle.size === 0) return;
    const now = this.clock.now();
    let seen = 0;
    for (const [key, entry] of this.#idle) {
      if (seen++ >= SWEEP) break;
      entry.bucket.take(0, now);
      if (entry.bucket.tokens >= this.rate.burst) this.#idle.delete(key);
    }
  }
}
