/**
 * An open-addressing hash table over one array of the entries themselves (linear probing, at
 * most 3/4 full), instead of a `Map`. A `Map` entry costs 40–200 B of heap on Bun (JSC grows its
 * table fourfold, and just past a step most of it is empty), and 40 B on Deno; a slot here costs
 * 8 B, 11–21 B per entry. Used for the delivery books' sessions (lib/server/session_table.ts)
 * and the Hub's connections (lib/server/connection_map.ts).
 *
 * Entries carry their own key; the table mixes the key's 32-bit hash (Fibonacci hashing), so
 * keys that are random words spread over the slots as they are.
 *
 * @module
 */

/** The smallest table (slots). */
const MIN_BITS = 4;

/** `n` empty slots, as a packed array (not a sparse one). */
function emptySlots<S>(n: number): (S | null)[] {
  const slots: (S | null)[] = [];
  for (let i = 0; i < n; i++) slots.push(null);
  return slots;
}

/** Entries by key; one entry per key. Not to be changed while iterated. */
export class SlotTable<S, K> {
  readonly #keyOf: (entry: S) => K;
  readonly #hashOf: (key: K) => number;
  #bits = MIN_BITS;
  #slots: (S | null)[] = emptySlots(1 << MIN_BITS);
  #size = 0;

  /** A table of entries whose key is `keyOf(entry)`, hashed to 32 bits by `hashOf`. */
  constructor(keyOf: (entry: S) => K, hashOf: (key: K) => number) {
    this.#keyOf = keyOf;
    this.#hashOf = hashOf;
  }

  /** How many entries it holds. */
  get size(): number {
    return this.#size;
  }

  /** The slot where `key` starts looking. */
  #home(key: K): number {
    return Math.imul(this.#hashOf(key), 0x9e3779b1) >>> (32 - this.#bits);
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  #find(key: K): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = this.#home(key);
    for (let s = slots[i]; s !== null && this.#keyOf(s) !== key; s = slots[i]) i = (i + 1) & mask;
    return i;
  }

  /** The entry of `key`, if any. */
  get(key: K): S | undefined {
    return this.#slots[this.#find(key)] ?? undefined;
  }

  /** `true` when an entry has `key`. */
  has(key: K): boolean {
    return this.#slots[this.#find(key)] !== null;
  }

  /** Adds `entry`, or puts it in place of the entry with its key. */
  set(entry: S): void {
    const i = this.#find(this.#keyOf(entry));
    if (this.#slots[i] === null) this.#size++;
    this.#slots[i] = entry;
    if (this.#size * 4 > this.#slots.length * 3) this.#resize(this.#bits + 1);
  }

  /** Removes the entry with `key`; `false` when there was none. */
  delete(key: K): boolean {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let hole = this.#find(key);
    if (slots[hole] === null) return false;
    slots[hole] = null;
    this.#size--;
    // Backward shift: an entry after the hole moves into it unless its home lies after the hole
    // (cyclically, up to the entry), so every entry stays reachable from its home.
    for (let j = (hole + 1) & mask; slots[j] !== null; j = (j + 1) & mask) {
      const home = this.#home(this.#keyOf(slots[j]!));
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      slots[hole] = slots[j];
      slots[j] = null;
      hole = j;
    }
    if (this.#bits > MIN_BITS && this.#size * 8 < slots.length) this.#resize(this.#bits - 1);
    return true;
  }

  /** The entries, in no particular order. */
  *values(): IterableIterator<S> {
    for (const s of this.#slots) if (s !== null) yield s;
  }

  #resize(bits: number): void {
    const old = this.#slots;
    this.#bits = bits;
    this.#slots = emptySlots(1 << bits);
    for (const s of old) if (s !== null) this.#slots[this.#find(this.#keyOf(s))] = s;
  }
}
