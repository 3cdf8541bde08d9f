/**
 * Disconnected ("parked") resume sessions per client IP, for `DeliveryOptions.maxParkedPerIp`
 * (docs/delivery.md "Memory"): a peer that opens resume connections with fresh client ids one
 * after another parks a session each time, and `maxSessions` evicts the least recently used one of
 * anybody. Counted per IP, its churn evicts only its own oldest parked sessions.
 *
 * @example
 * ```ts
 * import { ParkedByIp } from "./parked.ts";
 * const parked = new ParkedByIp<string>(2);
 * parked.park("192.0.2.1", "a");
 * parked.park("192.0.2.1", "b");
 * parked.park("192.0.2.9", "x");
 * console.assert(parked.park("192.0.2.1", "c") === "a"); // its own oldest, not "x"
 * ```
 *
 * @module
 */

/** Parked items by IP key, oldest parked first; every operation O(1). */
export class ParkedByIp<T> {
  /** Insertion order is park order: the first of a set is the IP's oldest. */
  #byIp = new Map<string, Set<T>>();

  /** `max`: parked items one IP keeps (`maxParkedPerIp`). */
  constructor(readonly max: number) {}

  /** IPs with a parked item. */
  get ips(): number {
    return this.#byIp.size;
  }

  /** Items `ip` has parked. */
  count(ip: string): number {
    return this.#byIp.get(ip)?.size ?? 0;
  }

  /**
   * Parks `item` under `ip` (again: it becomes the newest). Returns the IP's oldest parked item
   * when `ip` is now past `max`, for the caller to evict (and {@linkcode unpark}); else `undefined`.
   */
  park(ip: string, item: T): T | undefined {
    let parked = this.#byIp.get(ip);
    if (!parked) this.#byIp.set(ip, parked = new Set());
    parked.delete(item);
    parked.add(item);
    return parked.size > this.max ? parked.values().next().value : undefined;
  }

  /** `item` is no longer parked under `ip` (it resumed or was evicted); no-op if it was not. */
  unpark(ip: string, item: T): void {
    const parked = this.#byIp.get(ip);
    if (parked?.delete(item) && parked.size === 0) this.#byIp.delete(ip);
  }
}
