/**
 * Holder counts per key, for things that are "on" while anyone holds them (a uid is online on a
 * node while any of its connections is there): only the first hold and the last release matter.
 *
 * @module
 */

/** How many hold each key; a key nobody holds is absent. */
export class Refcounts<K> {
  #counts = new Map<K, number>();

  /** One more holder of `key`; `true` when it is the first. */
  hold(key: K): boolean {
    const n = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, n);
    return n === 1;
  }

  /** One holder of `key` less; `true` when that was the last (`false` when nobody held it). */
  release(key: K): boolean {
    const n = this.#counts.get(key);
    if (n === undefined) return false;
    if (n > 1) {
      this.#counts.set(key, n - 1);
      return false;
    }
    this.#counts.delete(key);
    return true;
  }

  /** The keys held now. */
  keys(): IterableIterator<K> {
    return this.#counts.keys();
  }

  /** Forgets every holder. */
  clear(): void {
    this.#counts.clear();
  }
}
