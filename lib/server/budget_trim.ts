/**
 * What the server-wide byte budget of delivery buffers (`DeliveryOptions.maxTotalBytes`,
 * docs/delivery.md) drops once it is exceeded. `Delivery` (lib/server/delivery.ts) keeps the
 * total and checks it on every message; only past the budget does it call {@linkcode trimToBudget}.
 *
 * Guarantees:
 * - The largest disconnected session or offline buffer loses its oldest messages first (an
 *   attacker's many parked sessions are the big ones; least recently used would hit a victim's
 *   older session first).
 * - Each buffer trimmed reports its loss once per call, as `overflow`.
 * - Connected sessions are trimmed only when nothing away is left; their messages were written
 *   to their sockets, so that is no loss now (an `overflow` gap if they resume without them).
 *
 * @module
 */
import type { Held, SizeIndex } from "./delivery_budget.ts";
import { ENTRY_BYTES } from "./delivery_options.ts";
import type { OfflineBuffer } from "./offline.ts";
import { type LossReason, Session } from "./session.ts";

/** @internal The books the trim reads and changes, kept by `Delivery`. */
export interface BudgetBooks<C> {
  /** Bytes every buffer holds together now. */
  total(): number;
  /** Disconnected sessions and offline buffers by size. */
  readonly away: SizeIndex<Held>;
  /** Every session kept (connected ones are found by this scan). */
  sessions(): Iterable<Session<C>>;
  /** `h.bytes` changed: the total and the size index follow. */
  sync(h: Session<C> | OfflineBuffer): void;
  /** Empties a session's buffer. */
  clear(session: Session<C>): void;
  /** Counts and reports a loss. */
  lose(reason: LossReason, uid: string, clientId: string | null, dropped: number): void;
}

/**
 * Trims until the books hold at most `max` bytes: the oldest messages of the largest buffer away
 * first, then, when nothing away is left, whole buffers of connected sessions.
 */
export function trimToBudget<C>(books: BudgetBooks<C>, max: number): void {
  const trimmed = new Map<Session<C> | OfflineBuffer, number>();
  while (books.total() > max) {
    const h = books.away.largest() as Session<C> | OfflineBuffer | undefined;
    if (h === undefined) {
      trimConnected(books, max);
      break;
    }
    if (h instanceof Session) {
      const old = h.buffer.shift()!;
      h.bytes -= old.bytes + ENTRY_BYTES;
      h.lostThrough = old.seq;
    } else {
      h.bytes -= h.messages.shift()!.bytes + ENTRY_BYTES;
    }
    books.sync(h);
    trimmed.set(h, (trimmed.get(h) ?? 0) + 1);
  }
  for (const [h, n] of trimmed) {
    if (!(h instanceof Session)) {
      h.overflow += n;
      books.lose("overflow", h.uid, null, n);
    } else if (h.conn === null) books.lose("overflow", h.uid, h.clientId, n);
  }
}

/**
 * Connected sessions alone hold more than the budget (clients that do not acknowledge): the
 * largest lose their whole buffers until 7/8 of the budget is left, so the O(sessions) scan
 * runs once per budget/8 bytes buffered, not per message.
 */
function trimConnected<C>(books: BudgetBooks<C>, max: number): void {
  const connected: Session<C>[] = [];
  for (const s of books.sessions()) if (s.conn !== null && s.bytes > 0) connected.push(s);
  connected.sort((a, b) => b.bytes - a.bytes);
  const target = max - Math.floor(max / 8);
  for (const s of connected) {
    if (books.total() <= target) break;
    const last = s.buffer[s.buffer.length - 1];
    if (last !== undefined) s.lostThrough = last.seq;
    books.clear(s);
  }
}
