/**
 * Connected uids: which connections each uid has, observable as Sente's `connected-uids`. In a
 * cluster (a backplane with {@linkcode Presence}) the observable view is the cluster's: a uid is
 * connected while any node holds one of its connections, and `add`/`remove` report the uid's
 * first and last connection in the whole cluster (as this node last heard).
 *
 * @module
 */
import type { Presence } from "../backplane/backplane.ts";

/** A read-only, observable view of the connected uids. */
export interface ConnectedUids {
  /** The uids with at least one open connection. */
  current(): ReadonlySet<string>;
  /** Calls `listener` with the new set after every change; returns an unsubscribe function. */
  watch(listener: (uids: ReadonlySet<string>) => void): () => void;
}

/** Told when a uid's first connection on this node opens and its last one here closes. */
export interface UidHooks {
  /** The first connection of `uid` on this node opened. */
  first(uid: string): void;
  /** The last connection of `uid` on this node closed. */
  last(uid: string): void;
}

/**
 * The uid every anonymous connection shares (Sente's `nil-uid`): its connections are only counted,
 * and listed from `members` when asked (rarely: one Set entry per anonymous connection was memory
 * every idle connection paid).
 */
export interface UidCrowd<C> {
  /** The shared uid. */
  readonly uid: string;
  /** Its open connections, listed when asked. */
  members(): Iterable<C>;
}

/** The open connections of a uid, iterated live (as a Set is): what `connections()` gives. */
export interface UidConnections<C> extends Iterable<C> {
  /** How many there are now. */
  readonly size: number;
}

/** Connections per uid; reports when a uid's first connection opens and its last one closes. */
export class UidRegistry<C> implements ConnectedUids {
  #byUid = new Map<string, Set<C>>();
  #listeners = new Set<(uids: ReadonlySet<string>) => void>();
  readonly #presence: Presence | null;
  readonly #hooks: UidHooks | null;
  readonly #crowd: UidCrowd<C> | null;
  /** Open connections of the crowd's uid. */
  #crowdSize = 0;
  /** The crowd's connections, listed live from `members` when iterated. */
  readonly #crowdView: UidConnections<C> | null;

  /**
   * Local only, or, with `presence`, the cluster's view (`hooks` follow this node's uids). The
   * `crowd` uid's connections are counted, not kept.
   */
  constructor(
    presence: Presence | null = null,
    hooks: UidHooks | null = null,
    crowd: UidCrowd<C> | null = null,
  ) {
    this.#presence = presence;
    this.#hooks = hooks;
    this.#crowd = crowd;
    const size = () => this.#crowdSize;
    this.#crowdView = crowd === null ? null : {
      get size(): number {
        return size();
      },
      [Symbol.iterator]: () => crowd.members()[Symbol.iterator](),
    };
  }

  /** Adds a connection; returns `true` when the uid was not connected before (anywhere). */
  add(uid: string, conn: C): boolean {
    let first: boolean;
    if (uid === this.#crowd?.uid) {
      first = this.#crowdSize++ === 0;
      if (first) this.#byUid.set(uid, new Set()); // listed in `current()`; stays empty
    } else {
      let set = this.#byUid.get(uid);
      first = !set;
      if (!set) this.#byUid.set(uid, set = new Set());
      set.add(conn);
    }
    if (!first) return false;
    const presence = this.#presence;
    if (presence === null) {
      this.#notify();
      return true;
    }
    const elsewhere = presence.has(uid);
    presence.add(uid); // tells the watchers when it is the cluster's first
    this.#hooks?.first(uid);
    return !elsewhere;
  }

  /** Removes a connection; returns `true` when it was the uid's last one (anywhere). */
  remove(uid: string, conn: C): boolean {
    const set = this.#byUid.get(uid);
    if (set === undefined) return false;
    if (uid === this.#crowd?.uid) {
      if (--this.#crowdSize > 0) return false;
    } else {
      if (!set.delete(conn)) return false;
      if (set.size > 0) return false;
    }
    this.#byUid.delete(uid);
    const presence = this.#presence;
    if (presence === null) {
      this.#notify();
      return true;
    }
    presence.remove(uid);
    this.#hooks?.last(uid);
    return !presence.has(uid);
  }

  /** The open connections of `uid`, iterated live (a queued fan-out reads them at its turn). */
  connections(uid: string): UidConnections<C> {
    if (uid === this.#crowd?.uid) return this.#crowdView!;
    return this.#byUid.get(uid) ?? new Set();
  }

  /** How many open connections `uid` has. */
  count(uid: string): number {
    if (uid === this.#crowd?.uid) return this.#crowdSize;
    return this.#byUid.get(uid)?.size ?? 0;
  }

  /** Number of connected uids. */
  get size(): number {
    return this.#byUid.size;
  }

  /** The connected uids (in the cluster, when it has presence). */
  current(): ReadonlySet<string> {
    return this.#presence?.current() ?? new Set(this.#byUid.keys());
  }

  /** Watches changes; returns an unsubscribe function. */
  watch(listener: (uids: ReadonlySet<string>) => void): () => void {
    const presence = this.#presence;
    if (presence !== null) return presence.watch(() => listener(presence.current()));
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
