/**
 * Connected uids: which connections each uid has, observable as Sente's `connected-uids`.
 *
 * @module
 */

/** A read-only, observable view of the connected uids. */
export interface ConnectedUids {
  /** The uids with at least one open connection. */
  current(): ReadonlySet<string>;
  /** Calls `listener` with the new set after every change; returns an unsubscribe function. */
  watch(listener: (uids: ReadonlySet<string>) => void): () => void;
}

/** Connections per uid; reports when a uid's first connection opens and its last one closes. */
export class UidRegistry<C> implements ConnectedUids {
  #byUid = new Map<string, Set<C>>();
  #listeners = new Set<(uids: ReadonlySet<string>) => void>();

  /** Adds a connection; returns `true` when the uid was not connected before. */
  add(uid: string, conn: C): boolean {
    let set = this.#byUid.get(uid);
    const first = !set;
    if (!set) this.#byUid.set(uid, set = new Set());
    set.add(conn);
    if (first) this.#notify();
    return first;
  }

  /** Removes a connection; returns `true` when it was the uid's last one. */
  remove(uid: string, conn: C): boolean {
    const set = this.#byUid.get(uid);
    if (!set?.delete(conn)) return false;
    if (set.size > 0) return false;
    this.#byUid.delete(uid);
    this.#notify();
    return true;
  }

  /** The open connections of `uid`. */
  connections(uid: string): ReadonlySet<C> {
    return this.#byUid.get(uid) ?? new Set();
  }

  /** Number of connected uids. */
  get size(): number {
    return this.#byUid.size;
  }

  /** The connected uids. */
  current(): ReadonlySet<string> {
    return new Set(this.#byUid.keys());
  }

  /** Watches changes; returns an unsubscribe function. */
  watch(listener: (uids: ReadonlySet<string>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    if (this.#listeners.size === 0) return;
    const snapshot = this.current();
    for (const l of this.#listeners) {
      try {
        l(snapshot);
      } catch (e) {
        console.error("sente-lite: connected-uids listener threw:", e);
      }
    }
  }
}
