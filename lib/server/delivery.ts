/**
 * Delivery state that outlives a connection (`docs/delivery.md`): resume sessions (sequence
 * numbers, un-acknowledged messages, inbound deduplication) and per-uid offline buffers.
 * The Hub does the I/O; this module only keeps the books, so it runs in virtual time in tests.
 *
 * Guarantees:
 * - Only the holder of a session's resume token (`lib/protocol/resume_token.ts`) reaches it: a
 *   session is found by the token's session id, and the token's secret, uid and client id must all
 *   match. Anything else gets a fresh session and leaves the other one (and its connection) alone;
 *   a client id is no credential. The secret changes on every attach.
 * - A session numbers its server→client messages 1, 2, 3, … and never reuses a number, across
 *   every connection that resumes it.
 * - A message leaves a buffer either acknowledged, or counted and reported exactly once
 *   (`overflow`, `expired` or `evicted`); nothing is dropped silently. Messages dropped from the
 *   buffer of a still-connected client were written to its socket: they count only when a resume
 *   finds them missing (a gap).
 * - Memory is bounded: each buffer by `maxMessages` and `maxBytes`, kept sessions and offline
 *   buffers each by `maxSessions` (the least recently used goes first), and all buffers together
 *   by `maxTotalBytes` (the largest disconnected buffer loses its oldest messages first).
 * - One client IP keeps at most `maxParkedPerIp` disconnected sessions: past it, its own oldest
 *   parked session is evicted, never another IP's (fresh sessions churned from one address cannot
 *   push others' out of `maxSessions`).
 * - A client seq at or below the highest one accepted is a duplicate: never delivered twice.
 *
 * @module
 */
import type { Event } from "../protocol/event.ts";
import type { ResumeGap } from "../protocol/handshake.ts";
import { parseResumeToken } from "../protocol/resume_token.ts";
import { sessionKey } from "./session_key.ts";
import { randomWord } from "../util/ids.ts";
import { SessionTable } from "./session_table.ts";
import { type Clock, unref } from "../util/clock.ts";
import { type Held, SizeIndex } from "./delivery_budget.ts";
import { ipKey } from "./ip_budget.ts";
import { ParkedByIp } from "./parked.ts";
import { ExpiryQueue, type ExpiryTicket } from "./expiry_queue.ts";
import { type DeliveryOptions, ENTRY_BYTES } from "./delivery_options.ts";
import { type OfflineBuffer, OfflineBuffers, type OfflineDelivery } from "./offline.ts";
import { addAway, type AwayByUid, removeAway } from "./away_by_uid.ts";
import { type BudgetBooks, trimToBudget } from "./budget_trim.ts";
import {
  type Attachment,
  type Buffered,
  type DeliveryCounters,
  type DeliveryHost,
  estimateBytes,
  type LossReason,
  NO_MESSAGES,
  Session,
} from "./session.ts";

// The split-out parts stay importable from here, where the rest of the server reaches delivery.
export * from "./delivery_options.ts";
export type { OfflineDelivery } from "./offline.ts";
export * from "./session.ts";

/** Resume sessions per token and offline buffers per uid, bounded and timed by `clock`. */
export class Delivery<C> {
  /** The settings. */
  readonly options: Required<DeliveryOptions>;
  #clock: Clock;
  #host: DeliveryHost<C>;
  #stats: DeliveryCounters;
  /**
   * Every session kept, by the low word of its id (lib/server/session_key.ts: unique among these),
   * in a table that costs a connected session 8–16 B (a `Map` entry cost up to 200 B on Bun).
   */
  #sessions = new SessionTable<Session<C>>();
  /**
   * Sessions without a connection (away or expired), least recently detached first: the ones
   * `maxSessions` evicts (a connected session is bounded by its connection).
   */
  #detached = new Set<Session<C>>();
  /**
   * Sessions away (disconnected, not expired), by uid (lib/server/away_by_uid.ts): the ones a send
   * to the uid is kept for. A connected session is not indexed: it gets its sends through its
   * connection, and an idle connection costs no entry here.
   */
  #live: AwayByUid<Session<C>> = new Map();
  /** Disconnected sessions (expired ones too) by IP key (`maxParkedPerIp`). */
  #parked: ParkedByIp<Session<C>>;
  /** Per-uid offline buffers; their bytes are charged here (`#sync`). */
  #offline: OfflineBuffers;
  /** Bytes of every buffer (`maxTotalBytes`). */
  #total = 0;
  /**
   * Disconnected sessions and offline buffers by size: the budget trims these. Connected sessions
   * are not indexed (a push and an ack each would move them): they are found by a scan, only when
   * nothing away is left to trim.
   */
  #away = new SizeIndex<Held>();
  /**
   * The TTLs of disconnected sessions, all `ttlMs` long: one timer for all (each session's
   * `timer` is its ticket here), not a timer made and cancelled per connection.
   */
  #ttl: ExpiryQueue<Session<C>>;
  /** What the offline buffers and the budget trim (lib/server/budget_trim.ts) reach here. */
  #books: BudgetBooks<C>;

  /** Makes the books; counters are added to `stats`. */
  constructor(
    options: Required<DeliveryOptions>,
    clock: Clock,
    host: DeliveryHost<C>,
    stats: DeliveryCounters,
  ) {
    this.options = options;
    this.#clock = clock;
    this.#host = host;
    this.#stats = stats;
    this.#parked = new ParkedByIp(options.maxParkedPerIp);
    this.#ttl = new ExpiryQueue(
      clock,
      options.ttlMs,
      (s) => this.#expire(s),
      (h) => unref(clock, h),
    );
    this.#books = {
      total: () => this.#total,
      away: this.#away,
      sessions: () => this.#sessions.values(),
      sync: (h) => this.#sync(h),
      clear: (session) => this.#clear(session),
      lose: (reason, uid, clientId, dropped) => this.#lose(reason, uid, clientId, dropped),
    };
    this.#offline = new OfflineBuffers(options, clock, {
      sync: this.#books.sync,
      lose: this.#books.lose,
      enforce: () => this.#enforce(),
    });
  }

  /** Sessions kept (connected, disconnected and expired). */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Uids with an offline buffer. */
  get offlineUids(): number {
    return this.#offline.size;
  }

  /** Bytes all buffers hold together (bounded by `maxTotalBytes`). */
  get bytes(): number {
    return this.#total;
  }

  /** The session of a session id, if kept. */
  session(id: string): Session<C> | undefined {
    const session = this.#sessions.get(sessionKey(id));
    return session !== undefined && session.id === id ? session : undefined;
  }

  // ------------------------------------------------------------ sessions

  /**
   * Attaches a connection that asked to resume with `lastSeq` (the last server seq its client
   * has; 0 when it has none) and offered the resume token `offered` (wire form; `null`: none).
   * Without a token that matches a kept session it gets a fresh one. The client learns
   * `resumed: true` only when every message after `lastSeq` is still here. Either way the
   * handshake carries a new token. `ip` is the peer's address (`null`: unknown), the key of
   * `maxParkedPerIp` once the session is parked.
   */
  attach(
    uid: string,
    clientId: string,
    conn: C,
    lastSeq: number,
    offered: string | null = null,
    ip: string | null = null,
  ): Attachment<C> {
    const token = offered === null ? null : parseResumeToken(offered);
    let session = token === null ? undefined : this.session(token.sessionId);
    const rejected = session !== undefined && !session.opens(uid, clientId, token!.secret);
    if (rejected) session = undefined;
    const opened = session !== undefined;
    let superseded: C | null = null;
    let resumed = false;
    let gap: ResumeGap | null = null;
    let seq = 0;
    if (!session) {
      // A fresh id as two random words (16 hex digits on the wire); its low word, the key, is unique.
      let idHi = randomWord();
      let idLo = randomWord();
      while (this.#sessions.has(idLo)) {
        idHi = randomWord();
        idLo = randomWord();
      }
      session = new Session(uid, clientId, idHi, idLo);
      // A client that offered a token had a session: what it held is unknown here.
      if (lastSeq > 0 || offered !== null) gap = { reason: "unknown", dropped: null };
    } else {
      superseded = session.conn;
      this.#unpark(session);
      this.#cancelTtl(session);
      if (session.expired) {
        session.expired = false;
        seq = session.outSeq;
        gap = { reason: "expired", dropped: Math.max(0, session.outSeq - lastSeq) };
      } else if (lastSeq > session.outSeq) {
        // The client counts from another server's session: nothing here continues it.
        this.#clear(session);
        seq = session.outSeq;
        gap = { reason: "unknown", dropped: null };
      } else {
        this.acked(session, lastSeq);
        if (lastSeq < session.lostThrough) {
          seq = session.lostThrough;
          gap = { reason: "overflow", dropped: session.lostThrough - lastSeq };
        } else {
          seq = lastSeq;
          resumed = true;
        }
      }
      this.#detached.delete(session);
    }
    if (resumed) this.#stats.resumed++;
    else if (lastSeq > 0 || gap !== null) this.#stats.resumeFailed++;
    // A new secret on every attach: a token seen once is useless after its owner's next resume.
    const issued = session.rotate(opened ? token!.secret : null);
    session.conn = conn;
    session.ip = ip === null ? null : ipKey(ip);
    this.#sync(session);
    this.#sessions.set(session);
    // Back: a send to its uid reaches it through its connection.
    removeAway(this.#live, session.uid, session);
    this.#evictSessions();
    return {
      session,
      state: { resumed, gap, ack: session.inAck, seq, token: issued },
      replay: session.buffer.slice(),
      superseded: superseded === conn ? null : superseded,
      rejected,
    };
  }

  /** The connection closed: the session keeps its messages for `ttlMs`, then expires. */
  detach(session: Session<C>, conn: C): void {
    if (session.conn !== conn) return;
    session.conn = null;
    this.#sync(session);
    if (session.ackTimer !== undefined) {
      this.#clock.clearTimeout(session.ackTimer);
      session.ackTimer = undefined;
    }
    session.unacked = 0;
    if (this.#sessions.get(session.idLo) !== session) return; // evicted meanwhile
    this.#detached.add(session);
    this.#cancelTtl(session);
    session.timer = this.#ttl.add(session);
    this.#park(session);
    addAway(this.#live, session.uid, session);
  }

  /** Numbers `event` for the session and keeps it until acknowledged; call {@linkcode account} with its size. */
  sequence(session: Session<C>, event: Event): Buffered {
    const entry: Buffered = { seq: ++session.outSeq, event, bytes: 0, at: this.#clock.now() };
    if (session.buffer === NO_MESSAGES) session.buffer = [entry];
    else session.buffer.push(entry);
    return entry;
  }

  /** Charges the message's size to the session and drops the oldest beyond the bounds. */
  account(session: Session<C>, entry: Buffered, bytes: number): void {
    entry.bytes = bytes;
    session.bytes += bytes + ENTRY_BYTES;
    const { maxMessages, maxBytes } = this.options;
    let dropped = 0;
    while (
      session.buffer.length > 0 &&
      (session.buffer.length > maxMessages || session.bytes > maxBytes)
    ) {
      const old = session.buffer.shift()!;
      session.bytes -= old.bytes + ENTRY_BYTES;
      session.lostThrough = old.seq;
      dropped++;
    }
    this.#sync(session);
    if (dropped > 0 && session.conn === null) {
      this.#lose("overflow", session.uid, session.clientId, dropped);
    }
    this.#enforce();
  }

  /** The client has everything up to `seq`: drop it from the buffer. */
  acked(session: Session<C>, seq: number): void {
    const buffer = session.buffer;
    let i = 0;
    while (i < buffer.length && buffer[i].seq <= seq) {
      session.bytes -= buffer[i++].bytes + ENTRY_BYTES;
    }
    if (i > 0) session.buffer = i === buffer.length ? NO_MESSAGES : buffer.slice(i);
    this.#sync(session);
  }

  /**
   * A sequenced client message arrived: `true` to deliver it, `false` for a duplicate. Either way
   * an acknowledgement is scheduled (`ackEvery` messages or `ackDelayMs`).
   */
  received(session: Session<C>, seq: number): boolean {
    const fresh = seq > session.inAck;
    if (fresh) session.inAck = seq;
    else this.#stats.duplicatesDropped++;
    if (++session.unacked >= this.options.ackEvery) this.#sendAck(session);
    else if (session.ackTimer === undefined) {
      const clock = this.#clock;
      session.ackTimer = unref(
        clock,
        clock.setTimeout(() => this.#sendAck(session), this.options.ackDelayMs),
      );
    }
    return fresh;
  }

  #sendAck(session: Session<C>): void {
    this.#clock.clearTimeout(session.ackTimer);
    session.ackTimer = undefined;
    session.unacked = 0;
    if (session.conn !== null) this.#host.ack(session.conn, session.inAck);
  }

  /** The session's TTL no longer runs (it is attached again, or evicted). */
  #cancelTtl(session: Session<C>): void {
    if (session.timer === undefined) return;
    this.#ttl.cancel(session.timer as ExpiryTicket);
    session.timer = undefined;
  }

  #expire(session: Session<C>): void {
    session.timer = undefined;
    if (session.conn !== null) return;
    const n = session.buffer.length;
    this.#clear(session);
    session.expired = true;
    removeAway(this.#live, session.uid, session);
    this.#host.ended?.(session);
    if (n > 0) this.#lose("expired", session.uid, session.clientId, n);
  }

  #clear(session: Session<C>): void {
    session.buffer = NO_MESSAGES;
    session.bytes = 0;
    this.#sync(session);
  }

  #evictSessions(): void {
    if (this.#sessions.size <= this.options.maxSessions) return;
    for (const session of this.#detached) {
      this.#evict(session);
      if (this.#sessions.size <= this.options.maxSessions) return;
    }
  }

  /** A disconnected session leaves the books; its messages are reported as `evicted`. */
  #evict(session: Session<C>): void {
    this.#sessions.delete(session.idLo);
    this.#detached.delete(session);
    this.#unpark(session);
    this.#cancelTtl(session);
    removeAway(this.#live, session.uid, session);
    this.#host.ended?.(session);
    const n = session.expired ? 0 : session.buffer.length;
    this.#clear(session);
    if (n > 0) this.#lose("evicted", session.uid, session.clientId, n);
  }

  /**
   * The session just lost its connection: it counts against its IP's `maxParkedPerIp`, and past
   * the cap the IP's oldest parked session is evicted (never another IP's). O(1).
   */
  #park(session: Session<C>): void {
    if (session.ip === null) return;
    const oldest = this.#parked.park(session.ip, session);
    if (oldest !== undefined) this.#evict(oldest);
  }

  #unpark(session: Session<C>): void {
    if (session.ip !== null) this.#parked.unpark(session.ip, session);
  }

  // ------------------------------------------------------------ sends to uids

  /**
   * After a send to `uid` reached `delivered` connections: keeps it for the uid's disconnected
   * sessions, or, when it reached nobody and no session waits, in the uid's offline buffer.
   * Returns how many buffers now hold it.
   */
  hold(uid: string, event: Event, delivered: number): number {
    let held = 0;
    let bytes = -1;
    const live = this.#live.get(uid);
    if (live !== undefined) {
      for (const session of live instanceof Set ? live : [live]) {
        if (session.conn !== null) continue;
        if (bytes < 0) bytes = estimateBytes(event);
        this.account(session, this.sequence(session, event), bytes);
        held++;
      }
    }
    if (delivered === 0 && held === 0) {
      this.#offline.hold(uid, event, estimateBytes(event));
      held = 1;
    }
    this.#stats.offlineBuffered += held;
    return held;
  }

  /** Takes (and forgets) what waits for `uid`, for its connection that just opened. */
  takeOffline(uid: string): OfflineDelivery | null {
    return this.#offline.take(uid);
  }

  // ------------------------------------------------------------ the budget (maxTotalBytes)

  /** `h.bytes` changed: the total and the size index follow. O(1). */
  #sync(h: Session<C> | OfflineBuffer): void {
    this.#total += h.bytes - h.counted;
    h.counted = h.bytes;
    if (!(h instanceof Session) || h.conn === null) this.#away.place(h);
    else this.#away.remove(h);
  }

  /** Past `maxTotalBytes`, trims the largest buffers (lib/server/budget_trim.ts). */
  #enforce(): void {
    const max = this.options.maxTotalBytes;
    if (this.#total <= max) return;
    trimToBudget(this.#books, max);
  }

  #lose(reason: LossReason, uid: string, clientId: string | null, dropped: number): void {
    if (reason === "expired") this.#stats.offlineExpired += dropped;
    else this.#stats.offlineDropped += dropped;
    this.#host.loss({ reason, uid, clientId, dropped });
  }

  /** Stops every timer (the server is going away); the books stay readable. */
  stop(): void {
    this.#ttl.stop();
    for (const s of this.#sessions.values()) {
      this.#clock.clearTimeout(s.ackTimer);
      s.timer = s.ackTimer = undefined;
    }
    this.#offline.stop();
  }
}
