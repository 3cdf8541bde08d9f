/**
 * The Hub's open connections by id, without a `Map`: a `Map` entry cost an idle connection on Bun
 * 65 B at 10,000 connections and 179 B at 19,000 (JSC grows its table fourfold at a time).
 *
 * - Lookup: a `SlotTable` (lib/server/slot_table.ts) by `Connection.key` (8 B a slot, at most 3/4
 *   full); keys that are not a Hub id's number (ids made in tests) go to a `Map` made for them.
 * - Order: a doubly linked list through the connections themselves (`prevConn`, `nextConn`), in
 *   the order they were added, as a `Map` iterates.
 *
 * Broadcasts walk the connections across event-loop turns (lib/server/fanout.ts) while they open
 * and close. Each walk is a registered cursor holding the next connection to visit; removing that
 * connection moves the cursor on, so a walk never visits a removed connection and never skips or
 * repeats one that stays. A connection added during a walk is visited unless the walk had already
 * passed the last one (a fan-out leaves it out in any case: `openSeq`). Removed connections keep
 * no links, so a closed connection someone still holds keeps no other alive.
 *
 * @module
 */
import { type ConnKey, connKey } from "./conn_key.ts";
import { SlotTable } from "./slot_table.ts";

/** What the map needs of a connection: its key and id, and its two links (the map's own). */
export interface Linked<C> {
  readonly key: ConnKey;
  readonly id: string;
  /** The connection added before it (the map's; `null` for the first or when not in the map). */
  prevConn: C | null;
  /** The connection added after it (the map's; `null` for the last or when not in the map). */
  nextConn: C | null;
}

/** A walk under way: the connection it visits next. */
interface Cursor<C> {
  next: C | null;
}

/** The key of a connection whose key is a number. */
function numericKey(conn: Linked<unknown>): number {
  return conn.key as number;
}

/** The low 32 bits of a Hub id's 48-bit number (random bits: hashed as they are). */
function low32(key: number): number {
  return key | 0;
}

/**
 * The Hub's open connections: a `ReadonlyMap` by id string for readers, kept by `ConnKey` inside
 * (no id string per connection), iterated in the order they were added, live.
 */
export class ConnectionMap<C extends Linked<C>> implements ReadonlyMap<string, C> {
  readonly #byNumber = new SlotTable<C, number>(numericKey, low32);
  #byText: Map<string, C> | null = null;
  #first: C | null = null;
  #last: C | null = null;
  /** The walks under way (a broadcast's, rarely more than one or two). */
  readonly #cursors: Cursor<C>[] = [];

  /** Adds an open connection (one not in the map). */
  add(conn: C): void {
    const key = conn.key;
    if (typeof key === "number") this.#byNumber.set(conn);
    else (this.#byText ??= new Map()).set(key, conn);
    conn.prevConn = this.#last;
    conn.nextConn = null;
    if (this.#last === null) this.#first = conn;
    else this.#last.nextConn = conn;
    this.#last = conn;
  }

  /** Removes a connection; `false` when it was not here. */
  remove(conn: C): boolean {
    if (!this.holds(conn)) return false;
    const key = conn.key;
    if (typeof key === "number") this.#byNumber.delete(key);
    else this.#byText!.delete(key);
    const { prevConn: prev, nextConn: next } = conn;
    if (prev === null) this.#first = next;
    else prev.nextConn = next;
    if (next === null) this.#last = prev;
    else next.prevConn = prev;
    conn.prevConn = conn.nextConn = null;
    const cursors = this.#cursors;
    for (let i = cursors.length - 1; i >= 0; i--) {
      const cursor = cursors[i];
      if (cursor.next !== conn) continue;
      cursor.next = next;
      if (next === null) this.#drop(cursor); // done: nothing left to move it
    }
    return true;
  }

  /** `true` while `conn` is here. */
  holds(conn: C): boolean {
    return this.#get(conn.key) === conn;
  }

  #get(key: ConnKey): C | undefined {
    return typeof key === "number" ? this.#byNumber.get(key) : this.#byText?.get(key);
  }

  #drop(cursor: Cursor<C>): void {
    const cursors = this.#cursors;
    const i = cursors.indexOf(cursor);
    if (i < 0) return;
    cursors[i] = cursors[cursors.length - 1];
    cursors.pop();
  }

  /** The connection with id `id`. */
  get(id: string): C | undefined {
    return this.#get(connKey(id));
  }

  /** `true` when a connection has id `id`. */
  has(id: string): boolean {
    return this.#get(connKey(id)) !== undefined;
  }

  /** How many there are. */
  get size(): number {
    return this.#byNumber.size + (this.#byText?.size ?? 0);
  }

  /**
   * The connections in the order they were added, live (see the module's notes). A walk left
   * unfinished stays registered until it is returned (`for…of` does) or its next one is removed.
   */
  *values(): MapIterator<C> {
    if (this.#first === null) return;
    const cursor: Cursor<C> = { next: this.#first };
    this.#cursors.push(cursor);
    try {
      for (let conn = cursor.next; conn !== null; conn = cursor.next) {
        cursor.next = conn.nextConn;
        yield conn;
      }
    } finally {
      this.#drop(cursor);
    }
  }

  /** Their ids (each written out when read). */
  *keys(): MapIterator<string> {
    for (const conn of this.values()) yield conn.id;
  }

  /** `[id, connection]` pairs. */
  *entries(): MapIterator<[string, C]> {
    for (const conn of this.values()) yield [conn.id, conn];
  }

  /** `[id, connection]` pairs. */
  [Symbol.iterator](): MapIterator<[string, C]> {
    return this.entries();
  }

  /** Calls `fn` with each connection and its id. */
  forEach(fn: (conn: C, id: string, map: ReadonlyMap<string, C>) => void, thisArg?: unknown): void {
    for (const conn of this.values()) fn.call(thisArg, conn, conn.id, this);
  }
}
