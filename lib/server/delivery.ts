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
 * - A client seq at or below the highest one accepted is a duplicate: never delivered twice.
 *
 * @module
 */
import type { Event } from "../protocol/event.ts";
import type { ResumeGap, ResumeState } from "../protocol/handshake.ts";
import {
  formatResumeToken,
  newResumeToken,
  newSessionId,
  parseResumeToken,
} from "../protocol/resume_token.ts";
import { type Clock, realClock, type TimerHandle } from "../util/clock.ts";
import { timingSafeEqual } from "../util/secret.ts";
import { utf8ByteLength } from "../util/utf8.ts";
import { type Held, SizeIndex } from "./delivery_budget.ts";

/** The capability name announced in the handshake when resume is on for a connection. */
export const CAP_RESUME = "resume";
/** The upgrade query parameter by which a client opts in: `resume=<last server seq it has>`. */
export const RESUME_PARAM = "resume";
/**
 * Close code for a connection replaced by a newer one of the same session, which proved it holds
 * the session's resume token (an application "client error" code: a client that still reads it
 * stops instead of fighting for the session).
 */
export const CLOSE_SUPERSEDED = 4409;

/**
 * Bytes charged per buffered message on top of its size, for the entry and the event's objects in
 * memory (measured: ~160 B of heap for a 20-byte event), so `maxBytes` bounds memory also when
 * messages are tiny.
 */
export const ENTRY_BYTES = 128;

/** Buffering and resume settings (`ServerOptions.delivery`). */
export interface DeliveryOptions {
  /**
   * Messages one buffer keeps: the un-acknowledged messages of a session, or the messages held
   * for a uid without connections. The oldest go first. A backstop: `maxBytes` is the real bound
   * (size buffers by rate × (reconnect time + ack delay) × message size, docs/delivery.md).
   * @default {10000}
   */
  maxMessages?: number;
  /**
   * Bytes one buffer keeps: each message's packed frame size (JSON size for messages held offline)
   * plus {@linkcode ENTRY_BYTES}. All buffers together are bounded by `maxTotalBytes`.
   * @default {1048576}
   */
  maxBytes?: number;
  /**
   * Bytes all session and offline buffers keep together (counted like `maxBytes`): the memory
   * bound of delivery. A message that would pass it first trims the oldest messages of the
   * largest disconnected session or offline buffer (reported as `overflow`); only when those hold
   * nothing, the largest connected session's (already written to its socket).
   * @default {67108864}
   */
  maxTotalBytes?: number;
  /**
   * How long (ms) a disconnected session keeps its messages, and how long a message waits in a
   * uid's offline buffer.
   * @default {300000}
   */
  ttlMs?: number;
  /**
   * Sessions kept at most (connected, disconnected or expired), and separately offline buffers
   * kept at most; beyond it the least recently used is evicted (its messages reported).
   * @default {10000}
   */
  maxSessions?: number;
  /**
   * The server acknowledges a client's sequenced messages after this many.
   * @default {16}
   */
  ackEvery?: number;
  /**
   * …or this long (ms) after the first one not yet acknowledged.
   * @default {50}
   */
  ackDelayMs?: number;
}

/** The defaults of {@linkcode DeliveryOptions}. */
export const DELIVERY_DEFAULTS: Readonly<Required<DeliveryOptions>> = Object.freeze({
  maxMessages: 10_000,
  maxBytes: 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  ttlMs: 5 * 60_000,
  maxSessions: 10_000,
  ackEvery: 16,
  ackDelayMs: 50,
});

/** Fills in defaults and range-checks; `false` stays `false` (no buffering, no resume). */
export function resolveDelivery(
  options: DeliveryOptions | false | undefined,
): Required<DeliveryOptions> | false {
  if (options === false) return false;
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`ServerOptions.delivery must be an object or false, got ${options}`);
  }
  const o = { ...DELIVERY_DEFAULTS, ...options };
  for (const k of Object.keys(DELIVERY_DEFAULTS) as (keyof DeliveryOptions)[]) {
    const v = o[k];
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`ServerOptions.delivery.${k} must be a positive integer, got ${v}`);
    }
  }
  return o;
}

/** Reads the `resume` upgrade parameter: the client's last server seq, or `null` (no resume). */
export function parseResumeParam(value: string | null): number | null {
  if (value === null || !/^[0-9]{1,15}$/.test(value)) return null;
  return Number(value);
}

/** Why messages were lost. */
export type LossReason = "overflow" | "expired" | "evicted";

/** A delivery loss, as told to `onDeliveryLoss` and telemetry. */
export interface DeliveryLoss {
  /** `overflow` (buffer full), `expired` (TTL) or `evicted` (too many sessions kept). */
  reason: LossReason;
  /** The recipient uid. */
  uid: string;
  /** The client id of the session, or `null` for a uid's offline buffer. */
  clientId: string | null;
  /** How many messages. */
  dropped: number;
}

/** The counters delivery keeps (part of the server's stats). */
export interface DeliveryCounters {
  /** Messages put into a buffer while their recipient had no open connection. */
  offlineBuffered: number;
  /** Messages dropped by overflow from an offline buffer or a disconnected session, or evicted. */
  offlineDropped: number;
  /** Messages discarded by the TTL. */
  offlineExpired: number;
  /** Reconnects that resumed without loss. */
  resumed: number;
  /** Reconnects that asked to resume and could not (gap: overflow, expiry, unknown session). */
  resumeFailed: number;
  /** Sequenced client messages dropped as duplicates. */
  duplicatesDropped: number;
}

/** One message kept for (re)delivery. */
export interface Buffered {
  /** Its number in the session (0 in offline buffers). */
  readonly seq: number;
  /** The event. */
  readonly event: Event;
  /** Its size in bytes. */
  bytes: number;
  /** When it was buffered (clock ms). */
  readonly at: number;
}

/** The resume state of one client session; `C` is the connection type. */
export class Session<C> implements Held {
  // Private fields: a session logged or inspected (it hangs off every connection) shows no secret.
  /** The secret issued in the last handshake. */
  #secret = "";
  /**
   * The secret presented to get `#secret`: still accepted, as the client may have lost the socket
   * before it read the handshake that carried `#secret`.
   */
  #previous: string | null = null;
  /** The number of the last message numbered for this client. */
  outSeq = 0;
  /** The highest client seq accepted (inbound deduplication). */
  inAck = 0;
  /** Un-acknowledged server→client messages, oldest first. */
  buffer: Buffered[] = [];
  /** Bytes charged for `buffer` (sizes plus {@linkcode ENTRY_BYTES} each). */
  bytes = 0;
  /** @internal The bytes the budget last counted for `buffer`. */
  counted = 0;
  /** @internal The budget index's bucket. */
  bucket = -1;
  /** @internal The budget index holding the session. */
  index: SizeIndex<Held> | null = null;
  /** The highest seq dropped from `buffer` before it was acknowledged. */
  lostThrough = 0;
  /** The attached connection, `null` while disconnected. */
  conn: C | null = null;
  /** Channels kept for the client while it is disconnected (so it misses no channel message). */
  channels: Set<string> = new Set();
  /** `true` once the TTL ran out while disconnected: its messages are gone, it keeps no more. */
  expired = false;
  /** @internal TTL timer while disconnected. */
  timer: TimerHandle | undefined;
  /** @internal Client messages accepted and not yet acknowledged. */
  unacked = 0;
  /** @internal The pending acknowledgement timer. */
  ackTimer: TimerHandle | undefined;

  /** Makes an empty session; `id` is the lookup key at the head of its resume tokens. */
  constructor(readonly uid: string, readonly clientId: string, readonly id: string) {}

  /**
   * Whether `secret`, offered by `uid` with `clientId`, opens this session: the secret issued
   * last, or the one presented to get it. Both are compared, each in constant time, so timing
   * tells nothing about which was close.
   */
  opens(uid: string, clientId: string, secret: string): boolean {
    const current = timingSafeEqual(secret, this.#secret);
    const previous = this.#previous !== null && timingSafeEqual(secret, this.#previous);
    return (current || previous) && this.uid === uid && this.clientId === clientId;
  }

  /**
   * Replaces the secret after an attach (`presented`: the secret that opened the session, `null`
   * for a new one) and returns the new token's wire form.
   */
  rotate(presented: string | null): string {
    this.#previous = presented;
    const next = newResumeToken(this.id);
    this.#secret = next.secret;
    return formatResumeToken(next);
  }
}

interface OfflineBuffer extends Held {
  uid: string;
  messages: Buffered[];
  bytes: number;
  /** Dropped by overflow since the last delivery: told to the next connection. */
  overflow: number;
  /** Expired since the last delivery: told to the next connection. */
  expired: number;
  timer: TimerHandle | undefined;
}

/** What a uid's next connection receives from its offline buffer. */
export interface OfflineDelivery {
  /** The messages, oldest first. */
  messages: Buffered[];
  /** Messages lost to overflow while offline. */
  overflow: number;
  /** Messages lost to the TTL while offline. */
  expired: number;
}

/** What {@linkcode Delivery.attach} decided. */
export interface Attachment<C> {
  /** The session, now attached to the connection. */
  session: Session<C>;
  /** What the handshake tells the client. */
  state: ResumeState;
  /** Messages to send again, oldest first (all with `seq > state.seq`). */
  replay: Buffered[];
  /** A connection of the same session that was still attached: the caller closes it. */
  superseded: C | null;
  /**
   * `true` when the offered token named a kept session but did not match it (wrong secret, uid or
   * client id): a forged or stolen token, or a stale one. The session was left alone.
   */
  rejected: boolean;
}

/** What delivery needs from its owner. */
export interface DeliveryHost<C> {
  /** Reports a loss (stats are already counted). */
  loss(loss: DeliveryLoss): void;
  /** Sends `["sente-lite/ack", {"seq": seq}]` to the connection. */
  ack(conn: C, seq: number): void;
  /** A disconnected session expired or was evicted: it will not resume. */
  ended?(session: Session<C>): void;
}

/** The byte estimate of an event held without a connection: its JSON size (0 if not JSON). */
export function estimateBytes(event: Event): number {
  try {
    return utf8ByteLength(JSON.stringify(event) ?? "");
  } catch {
    return 0;
  }
}

/**
 * A real timer must not keep a process (or a test) alive just to expire a buffer: the server's
 * listener does that while it runs.
 */
function unref(clock: Clock, handle: TimerHandle): TimerHandle {
  if (clock !== realClock) return handle;
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof handle === "number" && deno?.unrefTimer) deno.unrefTimer(handle);
  else (handle as { unref?: () => void } | undefined)?.unref?.();
  return handle;
}

/** Resume sessions per token and offline buffers per uid, bounded and timed by `clock`. */
export class Delivery<C> {
  /** The settings. */
  readonly options: Required<DeliveryOptions>;
  #clock: Clock;
  #host: DeliveryHost<C>;
  #stats: DeliveryCounters;
  /** By session id, least recently used first. */
  #sessions = new Map<string, Session<C>>();
  /** Sessions that are not expired, by uid. */
  #live = new Map<string, Set<Session<C>>>();
  /** Least recently used first. */
  #offline = new Map<string, OfflineBuffer>();
  /** Bytes of every buffer (`maxTotalBytes`). */
  #total = 0;
  /**
   * Disconnected sessions and offline buffers by size: the budget trims these. Connected sessions
   * are not indexed (a push and an ack each would move them): they are found by a scan, only when
   * nothing away is left to trim.
   */
  #away = new SizeIndex<Held>();

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
    return this.#sessions.get(id);
  }

  // ------------------------------------------------------------ sessions

  /**
   * Attaches a connection that asked to resume with `lastSeq` (the last server seq its client
   * has; 0 when it has none) and offered the resume token `offered` (wire form; `null`: none).
   * Without a token that matches a kept session it gets a fresh one. The client learns
   * `resumed: true` only when every message after `lastSeq` is still here. Either way the
   * handshake carries a new token.
   */
  attach(
    uid: string,
    clientId: string,
    conn: C,
    lastSeq: number,
    offered: string | null = null,
  ): Attachment<C> {
    const token = offered === null ? null : parseResumeToken(offered);
    let session = token === null ? undefined : this.#sessions.get(token.sessionId);
    const rejected = session !== undefined && !session.opens(uid, clientId, token!.secret);
    if (rejected) session = undefined;
    const opened = session !== undefined;
    let superseded: C | null = null;
    let resumed = false;
    let gap: ResumeGap | null = null;
    let seq = 0;
    if (!session) {
      let id = newSessionId();
      while (this.#sessions.has(id)) id = newSessionId();
      session = new Session(uid, clientId, id);
      // A client that offered a token had a session: what it held is unknown here.
      if (lastSeq > 0 || offered !== null) gap = { reason: "unknown", dropped: null };
    } else {
      superseded = session.conn;
      this.#clock.clearTimeout(session.timer);
      session.timer = undefined;
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
      this.#sessions.delete(session.id);
    }
    if (resumed) this.#stats.resumed++;
    else if (lastSeq > 0 || gap !== null) this.#stats.resumeFailed++;
    // A new secret on every attach: a token seen once is useless after its owner's next resume.
    const issued = session.rotate(opened ? token!.secret : null);
    session.conn = conn;
    this.#sync(session);
    this.#sessions.set(session.id, session);
    let live = this.#live.get(uid);
    if (!live) this.#live.set(uid, live = new Set());
    live.add(session);
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
    this.#clock.clearTimeout(session.ackTimer);
    session.ackTimer = undefined;
    session.unacked = 0;
    if (this.#sessions.get(session.id) !== session) return; // evicted meanwhile
    this.#sessions.delete(session.id);
    this.#sessions.set(session.id, session);
    const clock = this.#clock;
    session.timer = unref(clock, clock.setTimeout(() => this.#expire(session), this.options.ttlMs));
  }

  /** Numbers `event` for the session and keeps it until acknowledged; call {@linkcode account} with its size. */
  sequence(session: Session<C>, event: Event): Buffered {
    const entry: Buffered = { seq: ++session.outSeq, event, bytes: 0, at: this.#clock.now() };
    session.buffer.push(entry);
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
    if (i > 0) session.buffer = i === buffer.length ? [] : buffer.slice(i);
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

  #expire(session: Session<C>): void {
    session.timer = undefined;
    if (session.conn !== null) return;
    const n = session.buffer.length;
    this.#clear(session);
    session.expired = true;
    this.#unlive(session);
    this.#host.ended?.(session);
    if (n > 0) this.#lose("expired", session.uid, session.clientId, n);
  }

  #clear(session: Session<C>): void {
    session.buffer = [];
    session.bytes = 0;
    this.#sync(session);
  }

  #unlive(session: Session<C>): void {
    const live = this.#live.get(session.uid);
    if (live?.delete(session) && live.size === 0) this.#live.delete(session.uid);
  }

  #evictSessions(): void {
    if (this.#sessions.size <= this.options.maxSessions) return;
    for (const [key, session] of this.#sessions) {
      if (session.conn !== null) continue; // attached sessions are bounded by connections
      this.#sessions.delete(key);
      this.#clock.clearTimeout(session.timer);
      this.#unlive(session);
      this.#host.ended?.(session);
      const n = session.expired ? 0 : session.buffer.length;
      this.#clear(session);
      if (n > 0) this.#lose("evicted", session.uid, session.clientId, n);
      if (this.#sessions.size <= this.options.maxSessions) return;
    }
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
    if (live) {
      for (const session of live) {
        if (session.conn !== null) continue;
        if (bytes < 0) bytes = estimateBytes(event);
        this.account(session, this.sequence(session, event), bytes);
        held++;
      }
    }
    if (delivered === 0 && held === 0) {
      this.#holdOffline(uid, event, estimateBytes(event));
      held = 1;
    }
    this.#stats.offlineBuffered += held;
    return held;
  }

  #holdOffline(uid: string, event: Event, bytes: number): void {
    let buf = this.#offline.get(uid);
    if (buf) this.#offline.delete(uid);
    else {
      buf = {
        uid,
        messages: [],
        bytes: 0,
        overflow: 0,
        expired: 0,
        timer: undefined,
        counted: 0,
        bucket: -1,
        index: null,
      };
    }
    this.#offline.set(uid, buf);
    buf.messages.push({ seq: 0, event, bytes, at: this.#clock.now() });
    buf.bytes += bytes + ENTRY_BYTES;
    const { maxMessages, maxBytes } = this.options;
    let dropped = 0;
    while (buf.messages.length > 0 && (buf.messages.length > maxMessages || buf.bytes > maxBytes)) {
      buf.bytes -= buf.messages.shift()!.bytes + ENTRY_BYTES;
      dropped++;
    }
    this.#sync(buf);
    if (dropped > 0) {
      buf.overflow += dropped;
      this.#lose("overflow", uid, null, dropped);
    }
    if (buf.timer === undefined && buf.messages.length > 0) this.#armOffline(buf);
    this.#evictOffline();
    this.#enforce();
  }

  #armOffline(buf: OfflineBuffer): void {
    const due = buf.messages[0].at + this.options.ttlMs - this.#clock.now();
    buf.timer = unref(this.#clock, this.#clock.setTimeout(() => this.#expireOffline(buf), due));
  }

  #expireOffline(buf: OfflineBuffer): void {
    buf.timer = undefined;
    const cutoff = this.#clock.now() - this.options.ttlMs;
    let n = 0;
    while (n < buf.messages.length && buf.messages[n].at <= cutoff) {
      buf.bytes -= buf.messages[n++].bytes + ENTRY_BYTES;
    }
    if (n > 0) {
      buf.messages = buf.messages.slice(n);
      this.#sync(buf);
      buf.expired += n;
      this.#lose("expired", buf.uid, null, n);
    }
    if (buf.messages.length > 0) this.#armOffline(buf);
  }

  #evictOffline(): void {
    while (this.#offline.size > this.options.maxSessions) {
      const [uid, buf] = this.#offline.entries().next().value!;
      this.#offline.delete(uid);
      this.#clock.clearTimeout(buf.timer);
      this.#drop(buf);
      if (buf.messages.length > 0) this.#lose("evicted", uid, null, buf.messages.length);
    }
  }

  /** Takes (and forgets) what waits for `uid`, for its connection that just opened. */
  takeOffline(uid: string): OfflineDelivery | null {
    const buf = this.#offline.get(uid);
    if (!buf) return null;
    this.#offline.delete(uid);
    this.#clock.clearTimeout(buf.timer);
    this.#drop(buf);
    const cutoff = this.#clock.now() - this.options.ttlMs;
    let n = 0;
    while (n < buf.messages.length && buf.messages[n].at <= cutoff) n++;
    if (n > 0) this.#lose("expired", uid, null, n);
    return { messages: buf.messages.slice(n), overflow: buf.overflow, expired: buf.expired + n };
  }

  // ------------------------------------------------------------ the budget (maxTotalBytes)

  /** `h.bytes` changed: the total and the size index follow. O(1). */
  #sync(h: Session<C> | OfflineBuffer): void {
    this.#total += h.bytes - h.counted;
    h.counted = h.bytes;
    if (!(h instanceof Session) || h.conn === null) this.#away.place(h);
    else this.#away.remove(h);
  }

  /** An offline buffer leaves the books (taken or evicted): its bytes leave the budget. */
  #drop(buf: OfflineBuffer): void {
    buf.bytes = 0;
    this.#sync(buf);
  }

  /**
   * Past `maxTotalBytes`, drops the oldest messages of the largest disconnected session or
   * offline buffer (an attacker's many parked sessions are the big ones; least recently used would
   * hit a victim's older session first). Each buffer trimmed reports its loss once, as
   * `overflow`. Only when nothing away is left, connected sessions (`#trimConnected`).
   */
  #enforce(): void {
    const max = this.options.maxTotalBytes;
    if (this.#total <= max) return;
    const trimmed = new Map<Session<C> | OfflineBuffer, number>();
    while (this.#total > max) {
      const h = this.#away.largest() as Session<C> | OfflineBuffer | undefined;
      if (h === undefined) {
        this.#trimConnected(max);
        break;
      }
      if (h instanceof Session) {
        const old = h.buffer.shift()!;
        h.bytes -= old.bytes + ENTRY_BYTES;
        h.lostThrough = old.seq;
      } else {
        h.bytes -= h.messages.shift()!.bytes + ENTRY_BYTES;
      }
      this.#sync(h);
      trimmed.set(h, (trimmed.get(h) ?? 0) + 1);
    }
    for (const [h, n] of trimmed) {
      if (!(h instanceof Session)) {
        h.overflow += n;
        this.#lose("overflow", h.uid, null, n);
      } else if (h.conn === null) this.#lose("overflow", h.uid, h.clientId, n);
    }
  }

  /**
   * Connected sessions alone hold more than the budget (clients that do not acknowledge): the
   * largest lose their whole buffers until 7/8 of the budget is left, so the O(sessions) scan
   * runs once per budget/8 bytes buffered, not per message. Their messages were written to their
   * sockets: no loss now, an `overflow` gap if they resume without them.
   */
  #trimConnected(max: number): void {
    const connected: Session<C>[] = [];
    for (const s of this.#sessions.values()) if (s.conn !== null && s.bytes > 0) connected.push(s);
    connected.sort((a, b) => b.bytes - a.bytes);
    const target = max - Math.floor(max / 8);
    for (const s of connected) {
      if (this.#total <= target) break;
      const last = s.buffer[s.buffer.length - 1];
      if (last !== undefined) s.lostThrough = last.seq;
      this.#clear(s);
    }
  }

  #lose(reason: LossReason, uid: string, clientId: string | null, dropped: number): void {
    if (reason === "expired") this.#stats.offlineExpired += dropped;
    else this.#stats.offlineDropped += dropped;
    this.#host.loss({ reason, uid, clientId, dropped });
  }

  /** Stops every timer (the server is going away); the books stay readable. */
  stop(): void {
    for (const s of this.#sessions.values()) {
      this.#clock.clearTimeout(s.timer);
      this.#clock.clearTimeout(s.ackTimer);
      s.timer = s.ackTimer = undefined;
    }
    for (const b of this.#offline.values()) {
      this.#clock.clearTimeout(b.timer);
      b.timer = undefined;
    }
  }
}
