/**
 * One resume session (`docs/delivery.md`): its sequence numbers, un-acknowledged messages and
 * resume-token secret, plus what delivery reports to its owner (attachments, losses, counters).
 *
 * @module
 */
import type { Event } from "../protocol/event.ts";
import type { ResumeState } from "../protocol/handshake.ts";
import type { TimerHandle } from "../util/clock.ts";
import { readWords, wordsEqual, wordsHex } from "./session_key.ts";
import { randomWord } from "../util/ids.ts";
import { utf8ByteLength } from "../util/utf8.ts";
import type { Held, SizeIndex } from "./delivery_budget.ts";

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

/** Delivery counters at zero (a server's start, or books of their own in tests and benches). */
export function zeroDeliveryCounters(): DeliveryCounters {
  return {
    offlineBuffered: 0,
    offlineDropped: 0,
    offlineExpired: 0,
    resumed: 0,
    resumeFailed: 0,
    duplicatesDropped: 0,
  };
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

/**
 * @internal The buffer of every session that holds no message: shared, so an idle session costs
 * no array; frozen, so a push to it throws instead of reaching every session.
 */
export const NO_MESSAGES: Buffered[] = Object.freeze([]) as unknown as Buffered[];

/**
 * What a session holds once it has traffic, was away or resumed: an idle connected session (most
 * of them) has none of it (see {@linkcode Session}).
 */
class SessionBooks {
  /** The id, when it is not 16 hex digits (a `DeliveryStore` of its own may make such ids). */
  idText: string | null = null;
  /** The secret presented to get the current one, as 4 words (`hasPrevious`). */
  p0 = 0;
  p1 = 0;
  p2 = 0;
  p3 = 0;
  hasPrevious = false;
  outSeq = 0;
  inAck = 0;
  buffer: Buffered[] = NO_MESSAGES;
  bytes = 0;
  counted = 0;
  bucket = -1;
  index: SizeIndex<Held> | null = null;
  lostThrough = 0;
  channels: Set<string> | null = null;
  expired = false;
  timer: TimerHandle | undefined = undefined;
  unacked = 0;
  ackTimer: TimerHandle | undefined = undefined;
}

/**
 * The resume state of one client session; `C` is the connection type.
 *
 * An idle connected session keeps only its identity, its connection and its secret, the id and
 * the secret as 32-bit words (lib/server/session_key.ts): sequence numbers, buffer, budget
 * bookkeeping, timers and the previous secret live in one object made on the first write that
 * is not a default (reads of an unmade one give the defaults).
 */
export class Session<C> implements Held {
  /** The id's high word. */
  readonly idHi: number;
  /** The id's low word: its key in the books (unique among the sessions kept). */
  readonly idLo: number;
  // Private fields: a session logged or inspected (it hangs off every connection) shows no secret.
  /** The secret issued in the last handshake, as 4 words. */
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;
  #books: SessionBooks | null = null;
  /** The attached connection, `null` while disconnected. */
  conn: C | null = null;
  /**
   * @internal The key (`ipKey`, `ip_budget.ts`) of its last connection's peer (`null`: unknown), under which
   * it counts against `maxParkedPerIp` while disconnected.
   */
  ip: string | null = null;
  /**
   * Its last connection negotiated channel sequences: the channels it keeps are replayed from the
   * channel logs (lib/server/channel_seq.ts), not buffered here.
   */
  channelSeq = false;

  /**
   * Makes an empty session; `id` is the lookup key at the head of its resume tokens (16 hex
   * digits, kept as two words; an id of another form, from a store's sessions, is kept as it is),
   * or its high word, with `idLo` its low word (a fresh id drawn as words: no hex to read back).
   */
  constructor(readonly uid: string, readonly clientId: string, id: string | number, idLo = 0) {
    if (typeof id === "number") {
      this.idHi = id;
      this.idLo = idLo;
      return;
    }
    const words = readWords(id, 2);
    this.idHi = words === null ? 0 : words[0];
    this.idLo = words === null ? 0 : words[1];
    if (words === null) this.#more().idText = id;
  }

  /** The session id, written out from its words when read. */
  get id(): string {
    return this.#books?.idText ?? wordsHex(this.idHi, this.idLo);
  }

  #more(): SessionBooks {
    return this.#books ??= new SessionBooks();
  }

  /** The number of the last message numbered for this client. */
  get outSeq(): number {
    return this.#books?.outSeq ?? 0;
  }
  set outSeq(n: number) {
    if (n !== 0 || this.#books !== null) this.#more().outSeq = n;
  }

  /** The highest client seq accepted (inbound deduplication). */
  get inAck(): number {
    return this.#books?.inAck ?? 0;
  }
  set inAck(n: number) {
    if (n !== 0 || this.#books !== null) this.#more().inAck = n;
  }

  /**
   * Un-acknowledged server→client messages, oldest first. Empty, it is the shared (frozen)
   * {@linkcode NO_MESSAGES}: delivery swaps in an array of its own on the first message.
   */
  get buffer(): Buffered[] {
    return this.#books?.buffer ?? NO_MESSAGES;
  }
  set buffer(b: Buffered[]) {
    if (b !== NO_MESSAGES || this.#books !== null) this.#more().buffer = b;
  }

  /** Bytes charged for `buffer` (sizes plus `ENTRY_BYTES` each). */
  get bytes(): number {
    return this.#books?.bytes ?? 0;
  }
  set bytes(n: number) {
    if (n !== 0 || this.#books !== null) this.#more().bytes = n;
  }

  /** @internal The bytes the budget last counted for `buffer`. */
  get counted(): number {
    return this.#books?.counted ?? 0;
  }
  set counted(n: number) {
    if (n !== 0 || this.#books !== null) this.#more().counted = n;
  }

  /** @internal The budget index's bucket. */
  get bucket(): number {
    return this.#books?.bucket ?? -1;
  }
  set bucket(n: number) {
    if (n !== -1 || this.#books !== null) this.#more().bucket = n;
  }

  /** @internal The budget index holding the session. */
  get index(): SizeIndex<Held> | null {
    return this.#books?.index ?? null;
  }
  set index(i: SizeIndex<Held> | null) {
    if (i !== null || this.#books !== null) this.#more().index = i;
  }

  /** The highest seq dropped from `buffer` before it was acknowledged. */
  get lostThrough(): number {
    return this.#books?.lostThrough ?? 0;
  }
  set lostThrough(n: number) {
    if (n !== 0 || this.#books !== null) this.#more().lostThrough = n;
  }

  /** `true` once the TTL ran out while disconnected: its messages are gone, it keeps no more. */
  get expired(): boolean {
    return this.#books?.expired ?? false;
  }
  set expired(e: boolean) {
    if (e || this.#books !== null) this.#more().expired = e;
  }

  /** @internal TTL timer while disconnected. */
  get timer(): TimerHandle | undefined {
    return this.#books?.timer;
  }
  set timer(t: TimerHandle | undefined) {
    if (t !== undefined || this.#books !== null) this.#more().timer = t;
  }

  /** @internal Client messages accepted and not yet acknowledged. */
  get unacked(): number {
    return this.#books?.unacked ?? 0;
  }
  set unacked(n: number) {
    if (n !== 0 || this.#books !== null) this.#more().unacked = n;
  }

  /** @internal The pending acknowledgement timer. */
  get ackTimer(): TimerHandle | undefined {
    return this.#books?.ackTimer;
  }
  set ackTimer(t: TimerHandle | undefined) {
    if (t !== undefined || this.#books !== null) this.#more().ackTimer = t;
  }

  /**
   * Channels kept for the client while it is disconnected (so it misses no channel message).
   * Made on first access: read {@linkcode keepsChannels} first where none is the common case.
   */
  get channels(): Set<string> {
    const books = this.#more();
    return books.channels ??= new Set();
  }

  /** Whether it keeps any channel (without making the set). */
  get keepsChannels(): boolean {
    const set = this.#books?.channels;
    return set != null && set.size > 0;
  }

  /** Forgets the kept channels (and the set that held them). */
  dropChannels(): void {
    if (this.#books !== null) this.#books.channels = null;
  }

  /**
   * Whether `secret` (32 hex digits), offered by `uid` with `clientId`, opens this session: the
   * secret issued last, or the one presented to get it. Both are compared, each in constant time
   * (word by word, no early exit), so timing tells nothing about which was close.
   */
  opens(uid: string, clientId: string, secret: string): boolean {
    const w = readWords(secret, 4);
    if (w === null) return false; // not a secret's form: the length and alphabet are not secret
    const current = wordsEqual(w[0], w[1], w[2], w[3], this.#s0, this.#s1, this.#s2, this.#s3);
    const b = this.#books;
    const previous = b !== null && b.hasPrevious &&
      wordsEqual(w[0], w[1], w[2], w[3], b.p0, b.p1, b.p2, b.p3);
    return (current || previous) && this.uid === uid && this.clientId === clientId;
  }

  /**
   * Replaces the secret after an attach (`presented`: the secret that opened the session, `null`
   * for a new one) and returns the new token's wire form.
   */
  rotate(presented: string | null): string {
    // As words: nothing is kept of the upgrade's subprotocol header it was cut from.
    const p = presented === null ? null : readWords(presented, 4);
    if (p !== null) {
      const b = this.#more();
      // Indexed, not destructured: no array iterator per attach.
      b.p0 = p[0];
      b.p1 = p[1];
      b.p2 = p[2];
      b.p3 = p[3];
      b.hasPrevious = true;
    } else if (this.#books !== null) this.#books.hasPrevious = false;
    // Four words (the 128-bit secret, lib/util/secret.ts) from the pool: no array per attach.
    this.#s0 = randomWord();
    this.#s1 = randomWord();
    this.#s2 = randomWord();
    this.#s3 = randomWord();
    return wordsHex(this.idHi, this.idLo, this.#s0, this.#s1, this.#s2, this.#s3);
  }
}

/** What `Delivery.attach` decided. */
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
