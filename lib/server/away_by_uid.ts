/**
 * The resume sessions away (disconnected, not expired) by uid, for `Delivery` (lib/server/delivery.ts):
 * the ones a send to the uid is kept for. A uid maps to its one session while it has one away
 * (most uids), and to a set only from the second on, so the common case costs no set per uid.
 * Plain functions over a `Map`: a send to a uid reads the map directly, with no wrapper on its path.
 *
 * @module
 */

/** @internal A uid's session away, or a set of them from the second on. */
export type AwayByUid<S> = Map<string, S | Set<S>>;

/** `session` of `uid` is away: sends to `uid` are kept for it. Idempotent. */
export function addAway<S>(away: AwayByUid<S>, uid: string, session: S): void {
  const live = away.get(uid);
  if (live === undefined) away.set(uid, session);
  else if (live instanceof Set) live.add(session);
  else if (live !== session) away.set(uid, new Set([live, session]));
}

/** `session` of `uid` is no longer away (back, expired or evicted). Idempotent. */
export function removeAway<S>(away: AwayByUid<S>, uid: string, session: S): void {
  const live = away.get(uid);
  if (live === session) away.delete(uid);
  else if (live instanceof Set && live.delete(session) && live.size <= 1) {
    const last = live.values().next().value;
    if (last === undefined) away.delete(uid);
    else away.set(uid, last); // back to one: no set
  }
}
