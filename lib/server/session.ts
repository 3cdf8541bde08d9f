/**
 * One resume session (`docs/delivery.md`): its sequence numbers, un-acknowledged messages and
 * resume-token secret, plus what delivery reports to its owner (attachments, losses, counters).
 *
 * @module
 */
import type { Event } from "../protocol/event.ts";
import type { ResumeState } from "../protocol/handshake.ts";
import { formatResumeToken, newResumeToken } from "../protocol/resume_token.ts";
import { type Clock, realClock, type TimerHandle } from "../util/clock.ts";
import { ownCopy, timingSafeEqual } from "../util/secret.ts";
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
  /**
   * Un-acknowledged server→client messages, oldest first. Empty, it is the shared (frozen)
   * {@linkcode NO_MESSAGES}: delivery swaps in an array of its own on the first message.
   */
  buffer: Buffered[] = NO_MESSAGES;
  /** Bytes charged for `buffer` (sizes plus `ENTRY_BYTES` each). */
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
  /**
   * @internal The key (`ipKey`, `ip_budget.ts`) of its last connection's peer (`null`: unknown), under which
   * it counts against `maxParkedPerIp` while disconnected.
   */
  ip: string | null = null;
  /** The kept channels, made on the first one: most sessions never keep any (see `channels`). */
  #channels: Set<string> | null = null;
  /**
   * Its last connection negotiated channel sequences: the channels it keeps are replayed from the
   * channel logs (lib/server/channel_seq.ts), not buffered here.
   */
  channelSeq = false;
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
   * Channels kept for the client while it is disconnected (so it misses no channel message).
   * Made on first access: read {@linkcode keepsChannels} first where none is the common case.
   */
  get channels(): Set<string> {
    return this.#channels ??= new Set();
  }

  /** Whether it keeps any channel (without making the set). */
  get keepsChannels(): boolean {
    return this.#channels !== null && this.#channels.size > 0;
  }

  /** Forgets the kept channels (and the set that held them). */
  dropChannels(): void {
    this.#channels = null;
  }

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
    // Its own copy: `presented` is a slice of the upgrade's subprotocol header.
    this.#previous = presented === null ? null : ownCopy(presented);
    const next = newResumeToken(this.id);
    this.#secret = next.secret;
    return formatResumeToken(next);
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

/**
 * @internal A real timer must not keep a process (or a test) alive just to expire a buffer: the server's
 * listener does that while it runs.
 */
export function unref(clock: Clock, handle: TimerHandle): TimerHandle {
  if (clock !== realClock) return handle;
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof handle === "number" && deno?.unrefTimer) deno.unrefTimer(handle);
  else (handle as { unref?: () => void } | undefined)?.unref?.();
  return handle;
}
