/**
 * `delivery.maxParkedPerIp` for durable sessions (a node of a cluster, docs/delivery.md "Parked
 * sessions per IP"): a peer that opens resume connections with fresh client ids one after
 * another leaves a session in the shared store each time, kept `ttlMs`, with the messages of its
 * channels. Each node counts the sessions its own connections parked, by client IP; past the cap
 * the IP's oldest one is evicted from the store — only if it is still parked by that connection
 * (`DeliveryStore.evict`), so a session resumed since (on any node, from any address) is never
 * touched, nor another IP's.
 *
 * No store call on the hot path: parking and resuming are counted in memory; the store is asked
 * only to evict, past the cap. The cap is per node: behind a load balancer that spreads one
 * address over `n` nodes, it keeps at most `n × maxParkedPerIp`. Entries older than the store's
 * session lifetime are forgotten (their sessions are gone), so the books hold at most the
 * sessions parked here within one `ttlMs`, `maxParkedPerIp` per IP.
 *
 * @module
 */
import type { Attachment, DeliveryStore } from "../backplane/backplane.ts";
import type { Clock } from "../util/clock.ts";
import { ipKey } from "./ip_budget.ts";
import { ParkedByIp } from "./parked.ts";

/** One session parked by a connection of this node. */
interface Parked {
  readonly ip: string;
  readonly uid: string;
  readonly clientId: string;
  readonly sessionId: string;
  /** The connection that parked it (the store evicts only while it is the one). */
  readonly at: Attachment;
  /** When it was parked (clock ms). */
  readonly time: number;
}

/** What an eviction lost: reported like the in-memory books' `evicted`. */
export type EvictedReport = (uid: string, clientId: string, dropped: number) => void;

/** The sessions this node's connections parked, by IP. */
export class DurableParking {
  readonly #store: DeliveryStore;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #byIp: ParkedByIp<string>;
  /** By `uid\0sessionId`, oldest parked first (re-parking moves an entry to the end). */
  readonly #entries = new Map<string, Parked>();
  readonly #evicted: EvictedReport;
  readonly #failed: (e: unknown) => void;
  /** Evictions sent to the store (kept or not). */
  evictions = 0;

  /** `max`: parked sessions per IP; `ttlMs`: how long the store keeps a detached session. */
  constructor(
    store: DeliveryStore,
    clock: Clock,
    max: number,
    ttlMs: number,
    evicted: EvictedReport,
    failed: (e: unknown) => void,
  ) {
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#byIp = new ParkedByIp(max);
    this.#evicted = evicted;
    this.#failed = failed;
  }

  /** Sessions counted. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The connection `at` from `ip` parked the session (the store's detach said so). Past the cap,
   * the IP's oldest parked session is evicted. O(1) amortized.
   */
  park(ip: string | null, uid: string, clientId: string, sessionId: string, at: Attachment): void {
    if (ip === null || this.#store.evict === undefined) return;
    const now = this.#clock.now();
    this.#forgetExpired(now);
    const key = `${uid}\u0000${sessionId}`;
    this.unpark(uid, sessionId);
    const p: Parked = { ip: ipKey(ip), uid, clientId, sessionId, at, time: now };
    this.#entries.set(key, p);
    const oldest = this.#byIp.park(p.ip, key);
    if (oldest !== undefined) this.#evict(oldest);
  }

  /** The session attached again on this node (resumed): it no longer counts. */
  unpark(uid: string, sessionId: string): void {
    const key = `${uid}\u0000${sessionId}`;
    const p = this.#entries.get(key);
    if (p === undefined) return;
    this.#entries.delete(key);
    this.#byIp.unpark(p.ip, key);
  }

  #evict(key: string): void {
    const p = this.#entries.get(key)!;
    this.unpark(p.uid, p.sessionId);
    this.evictions++;
    this.#store.evict!(p.uid, p.sessionId, p.at).then((n) => {
      if (n !== null && n > 0) this.#evicted(p.uid, p.clientId, n);
    }).catch(this.#failed);
  }

  /** Entries older than the store's session lifetime: their sessions expired there. */
  #forgetExpired(now: number): void {
    for (const p of this.#entries.values()) {
      if (now - p.time < this.#ttlMs) return;
      this.unpark(p.uid, p.sessionId);
    }
  }
}
