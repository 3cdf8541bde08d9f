/**
 * The delivery books' sessions by key (the low word of the session id, lib/server/session_key.ts):
 * an open-addressing hash table over one array of the sessions themselves (linear probing, at most
 * 3/4 full), instead of a `Map`. A `Map` entry costs every resuming connection 40–200 B of heap on
 * Bun (its table doubles, and just past a power of two most of it is empty), and 40 B on Deno;
 * a slot here costs 8 B, 11–21 B per session.
 *
 * Keys are the books' own random words (a client's token only looks one up), so they spread over
 * the slots without help; they are mixed anyway (Fibonacci hashing).
 *
 * @module
 */

/** What the table needs of an entry: its key, a 32-bit integer. */
export interface Keyed {
  /** The key. */
  readonly idLo: number;
}

/** The smallest table (slots). */
const MIN_BITS = 4;

/** `n` empty slots, as a packed array (not a sparse one). */
function emptySlots<S>(n: number): (S | null)[] {
  const slots: (S | null)[] = [];
  for (let i = 0; i < n; i++) slots.push(null);
  return slots;
}

/** Entries by key; one entry per key. Not to be changed while iterated. */
export class SessionTable<S extends Keyed> {
  #bits = MIN_BITS;
  #slots: (S | null)[] = emptySlots(1 << MIN_BITS);
  #size = 0;

  /** How many entries it holds. */
  get size(): number {
    return this.#size;
  }

  /** The slot where `key` starts looking. */
  #home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> (32 - this.#bits);
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  #find(key: number): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = this.#home(key);
    for (let s = slots[i]; s !== null && s.idLo !== key; s = slots[i]) i = (i + 1) & mask;
    return i;
  }

  /** The entry of `key`, if any. */
  get(key: number): S | undefined {
    return this.#slots[this.#find(key)] ?? undefined;
  }

  /** `true` when an entry has `key`. */
  has(key: number): boolean {
    return this.#slots[this.#find(key)] !== null;
  }

  /** Adds `entry`, or puts it in place of the entry with its key. */
  set(entry: S): void {
    const i = this.#find(entry.idLo);
    if (this.#slots[i] === null) this.#size++;
    this.#slots[i] = entry;
    if (this.#size * 4 > this.#slots.length * 3) this.#resize(this.#bits + 1);
  }

  /** Removes the entry with `key`; `false` when there was none. */
  delete(key: number): boolean {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let hole = this.#find(key);
    if (slots[hole] === null) return false;
    slots[hole] = null;
    this.#size--;
    // Backward shift: an entry after the hole moves into it unless its home lies after the hole
    // (cyclically, up to the entry), so every entry stays reachable from its home.
    for (let j = (hole + 1) & mask; slots[j] !== null; j = (j + 1) & mask) {
      const home = this.#home(slots[j]!.idLo);
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
    for (const s of old) if (s !== null) this.#slots[this.#find(s.idLo)] = s;
  }
}
