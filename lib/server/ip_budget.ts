/**
 * Per-IP budgets of inflated bytes: one {@linkcode TokenBucket} per remote IP that outlives the
 * connections, so reconnecting does not buy a fresh budget (each new connection starts with a full
 * byte bucket of its own). A connection's byte bucket charges its IP's alongside its own (see
 * `TokenBucket.parent`); a compressed message is refused before it inflates while either is in
 * debt.
 *
 * Memory is bounded: at most `maxIps` entries, least recently charged dropped first, and an entry
 * is dropped once it has refilled. Connections hold no bucket, only their IP: every charge looks
 * the bucket up, so a dropped (full) entry is simply made again, full, and nothing is forgotten.
 *
 * @example
 * ```ts
 * import { IpBudget } from "./ip_budget.ts";
 * import { realClock } from "../util/clock.ts";
 * const budget = new IpBudget({ perSecond: 1024, burst: 4096 }, realClock);
 * budget.forIp("192.0.2.1")!.charge(5000, realClock.now());
 * console.assert(!budget.forIp("192.0.2.1")!.charge(0, realClock.now())); // for every connection
 * ```
 *
 * @module
 */
import type { Clock } from "../util/clock.ts";
import { type ChargeParent, type Rate, TokenBucket } from "./rate_limit.ts";

/**
 * The key an address is budgeted under: an IPv4 address itself (IPv4-mapped IPv6 too), an IPv6
 * address by its /64, the smallest block a host is usually given (else one host would have 2^64
 * fresh budgets).
 */
export function ipKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  return prefix64(ip) ?? parsedKey(ip);
}

/**
 * The /64 of an IPv6 address whose first four groups are written out in lowercase hex (what the
 * runtimes hand over for global addresses), with no regex or arrays: every upgrade asks for it
 * (`rateLimit.upgradesPerIp`). `null` for any other form, which {@linkcode parsedKey} reads.
 */
function prefix64(ip: string): string | null {
  let key = "";
  let start = 0;
  for (let g = 0; g < 4; g++) {
    const end = ip.indexOf(":", start);
    if (end <= start || end - start > 4) return null; // "::" within the prefix, or not a group
    let s = start;
    while (s < end - 1 && ip.charCodeAt(s) === 48) s++; // leading zeros, as parseInt drops them
    for (let i = s; i < end; i++) {
      const c = ip.charCodeAt(i);
      if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return null;
    }
    key += g === 0 ? ip.slice(s, end) : ":" + ip.slice(s, end);
    start = end + 1;
  }
  return key + "::/64";
}

/** {@linkcode ipKey} of any form: brackets, zone, `::` anywhere, upper case, IPv4-mapped. */
function parsedKey(ip: string): string {
  const addr = ip.toLowerCase().replace(/^\[|\]$/g, "").replace(/%.*$/, ""); // brackets, zone
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (mapped) return mapped[1];
  const [head, tail] = addr.split("::", 2);
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined
    ? h
    : [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t];
  const prefix = groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16));
  return `${prefix.join(":")}::/64`;
}

/** Default bound on the IPs tracked at once. */
export const DEFAULT_MAX_IPS = 10_000;

/**
 * Throws `RangeError` for a bad `rate` or `maxIps` of a per-IP limit: when the server is made, not
 * at its first connection.
 */
export function checkPerIp(rate: Rate, clock: Clock, maxIps: number): void {
  new TokenBucket(rate, clock);
  if (!Number.isInteger(maxIps) || maxIps < 1) {
    throw new RangeError(`maxIps must be a positive integer, got ${maxIps}`);
  }
}

/** Entries looked at for expiry on each charge: enough to keep up, O(1) per charge. */
const SWEEP = 4;

/** What one connection charges to its IP's bucket: an object, no closure per connection. */
class IpCharge implements ChargeParent {
  readonly #budget: IpBudget;
  readonly #key: string;
  constructor(budget: IpBudget, key: string) {
    this.#budget = budget;
    this.#key = key;
  }
  charge(n: number, now: number): boolean {
    return this.#budget.charge(this.#key, n, now);
  }
}

/** One token bucket per remote IP, bounded in count and dropped once refilled. */
export class IpBudget {
  /** By IP, least recently charged first (a Map keeps insertion order; a charge re-inserts). */
  readonly #buckets = new Map<string, TokenBucket>();

  /** Every IP gets `rate`; at most `maxIps` are tracked. @throws {RangeError} on a bad rate. */
  constructor(
    readonly rate: Rate,
    readonly clock: Clock,
    readonly maxIps: number = DEFAULT_MAX_IPS,
  ) {
    checkPerIp(rate, clock, maxIps);
  }

  /** What a connection from `ip` charges (`undefined` when the IP is unknown: no bound). */
  forIp(ip: string | null): ChargeParent | undefined {
    if (ip === null) return undefined;
    return new IpCharge(this, ipKey(ip));
  }

  /**
   * Charges `n` inflated bytes to `ip` (a key: see {@linkcode ipKey}), even into debt; `false`
   * when it is in debt afterwards.
   */
  charge(ip: string, n: number, now: number = this.clock.now()): boolean {
    this.#sweep(now);
    let bucket = this.#buckets.get(ip);
    if (bucket) this.#buckets.delete(ip);
    else if (n <= 0) return true; // full, as a new one would be
    else bucket = new TokenBucket(this.rate, this.clock);
    const ok = bucket.charge(n, now);
    this.#buckets.set(ip, bucket);
    if (this.#buckets.size > this.maxIps) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    return ok;
  }

  /** Tokens of `ip` now (the burst when not tracked; negative while in debt). */
  tokens(ip: string, now: number = this.clock.now()): number {
    const bucket = this.#buckets.get(ip);
    if (!bucket) return this.rate.burst;
    bucket.take(0, now); // refills
    return bucket.tokens;
  }

  /** IPs tracked now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Drops the least recently charged entries that have refilled. */
  #sweep(now: number): void {
    let seen = 0;
    for (const [ip, bucket] of this.#buckets) {
      if (seen++ >= SWEEP) break;
      bucket.take(0, now); // refills
      if (bucket.tokens >= this.rate.burst) this.#buckets.delete(ip);
    }
  }
}
