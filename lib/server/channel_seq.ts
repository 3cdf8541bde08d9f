/**
 * Channel sequences (capability `"channel-seq"`, docs/delivery.md "Channel sequences"): a channel
 * publish or a broadcast to a connection that negotiated them carries the stream's own number,
 * the same for every subscriber, instead of the session's `seq`:
 *
 *     ["sente-lite/msg", {"ch": "room", "cseq": 42, "event": ["sente-lite/channel-msg", {…}]}]
 *     ["sente-lite/msg", {"ch": null, "cseq": 7, "event": ["my-app/alert", {…}]}]   (broadcast)
 *
 * so the frames of one publish are the same bytes for all of them (one packing per frame
 * variant, Bun's native topics), and the copy kept for resume is one per stream
 * (lib/server/channel_log.ts) instead of one per session.
 *
 * A client resumes a stream from its cursor: broadcasts with the upgrade parameter `cseq=<n>`,
 * a channel with `"after": n` in its re-subscribe. Only a session that proved with its resume
 * token that it was a recipient gets a replay (the broadcasts of a found session, the channels
 * its session kept while away); anything else learns of the gap, never of older messages.
 *
 * @module
 */
import { eventValue } from "../protocol/envelope.ts";
import type { Event } from "../protocol/event.ts";
import type { ResumeGap } from "../protocol/handshake.ts";
import type { Clock } from "../util/clock.ts";
import { BROADCAST_STREAM, ChannelLogs, type LogEntry, type Since } from "./channel_log.ts";
import type { Connection } from "./connection.ts";
import { type DeliveryOptions, ENTRY_BYTES } from "./delivery_options.ts";
import { estimateBytes } from "./session.ts";

/** The capability announced in the handshake when a connection numbers channels per stream. */
export const CAP_CHANNEL_SEQ = "channel-seq";
/** The upgrade parameter by which a client opts in: `cseq=` (no cursor) or `cseq=<n>`. */
export const CHANNEL_SEQ_PARAM = "cseq";

/**
 * Reads the `cseq` upgrade parameter: `undefined` when not offered, `null` when offered without a
 * broadcast cursor, else the cursor.
 */
export function parseChannelSeqParam(value: string | null): number | null | undefined {
  if (value === null) return undefined;
  return /^[0-9]{1,16}$/.test(value) ? Number(value) : null;
}

/** The stream's name on the wire: the channel, `null` for broadcasts. */
function wireName(key: string): string | null {
  return key === BROADCAST_STREAM ? null : key;
}

/** The push of one stream message (the same for every recipient). */
export function streamEvent(key: string, cseq: number, event: Event): Event {
  const [id, data] = event;
  return ["sente-lite/msg", { ch: wireName(key), cseq, event: eventValue(id, data) }];
}

/** The gap of a stream: messages after the client's cursor it will not get. */
export function streamGap(key: string, gap: ResumeGap): Event {
  return ["sente-lite/gap", { ch: wireName(key), dropped: gap.dropped, reason: gap.reason }];
}

/** What a connection's streams need from the server's channel sequences (local or durable). */
export interface StreamHost {
  /** A connection holds `channel`'s stream (subscribed, or waiting to resume it). */
  retain(channel: string): void;
  /** One holder less. */
  release(channel: string): void;
  /** `delta` more (or fewer) resumed connections wait for their cursor in `channel`. */
  pending(channel: string, delta: number): void;
  /**
   * `conn` became a subscriber of `channel` with the cursor `after` (`restored`: its session kept
   * the channel, so a replay is its due). Returns the reply's extra fields (`cseq`).
   */
  subscribed(
    conn: Connection,
    channel: string,
    after: number | null,
    restored: boolean,
  ): Record<string, unknown> | Promise<Record<string, unknown>>;
  /**
   * Makes a channel `conn`'s resumed session kept live: `add` subscribes it, and what it missed
   * after `after` is sent before anything newer. Returns the reply's extra fields.
   */
  activate(
    conn: Connection,
    channel: string,
    after: number | null,
    add: () => void,
  ): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** The stream state of one channel-seq connection. */
export class ConnStreams {
  /**
   * Channels its resumed session kept while away, not yet live: their messages are in the logs;
   * the client's re-subscribe with its cursor replays them and makes them live (so nothing newer
   * overtakes the replay).
   */
  pending: Set<string> | null = null;
  /**
   * On a node of a cluster, until its broadcast replay ran: the broadcast number it continues
   * after (broadcasts reach it only after the replay; `null`: live).
   */
  broadcastAfter: number | null = null;
  /** Called once the broadcast replay ran (it may join its native topics then). */
  onLive: (() => void) | null = null;

  /**
   * The streams of `host`; `replayBudget`: bytes of kept messages it may still be replayed
   * (`delivery.maxReplayBytes`, over all its streams).
   */
  constructor(readonly host: StreamHost, public replayBudget: number = Infinity) {}

  /** It became a subscriber of `channel`: the channel's stream is kept. */
  joined(channel: string): void {
    this.host.retain(channel);
  }

  /** It is no longer a subscriber of `channel`. */
  left(channel: string): void {
    this.host.release(channel);
  }

  /** Its resumed session kept `channel`: pending until the client's cursor comes. */
  addPending(channel: string): void {
    if (this.pending?.has(channel)) return;
    (this.pending ??= new Set()).add(channel);
    this.host.retain(channel);
    this.host.pending(channel, 1);
  }

  /**
   * `channel` is no longer pending (made live, unsubscribed, or left by the server); `true` if it
   * was.
   */
  dropPending(channel: string): boolean {
    if (!this.pending?.delete(channel)) return false;
    this.host.pending(channel, -1);
    this.host.release(channel);
    return true;
  }

  /** It closed: its channels are released (its session retains what it keeps). */
  cleared(channels: Iterable<string>): void {
    for (const channel of channels) this.left(channel);
    if (this.pending === null) return; // (the shared idle streams are never written)
    for (const channel of this.pending) this.dropPending(channel);
    this.pending = null;
  }
}

/** Where a connection's broadcast stream continues, and what to send it after the handshake. */
export interface StreamStart {
  /** The broadcast number after which its broadcasts continue (the handshake's `cseq`). */
  readonly position: number;
  /** What to send after the handshake (a gap, then kept messages), or `null`. */
  readonly since: Since | null;
}

/** The channel sequences of one server alone (its logs in memory). */
export class ChannelSeq implements StreamHost {
  /** The logs. */
  readonly logs: ChannelLogs;
  /**
   * The streams of every connection with none pending (most of them): shared, so an idle
   * connection costs no object; frozen, so a write meant for one connection throws instead of
   * reaching all. {@linkcode own} makes a connection its own on its first pending channel.
   */
  readonly #idle: ConnStreams = Object.freeze(new ConnStreams(this));

  readonly #maxReplayBytes: number;

  /** Logs bounded like delivery buffers (`options`), timed by `clock`. */
  constructor(options: Required<DeliveryOptions>, clock: Clock) {
    this.logs = new ChannelLogs(options, clock);
    this.#maxReplayBytes = options.maxReplayBytes;
  }

  /**
   * A connection negotiated channel sequences. `cursor`: the broadcast number its client has;
   * `found`: its session was found by its token (else it gets no replay, only the gap).
   */
  attach(conn: Connection, cursor: number | null, found: boolean): StreamStart {
    conn.cseq = this.#idle;
    const stream = this.logs.get(BROADCAST_STREAM) ?? this.logs.retain(BROADCAST_STREAM);
    if (cursor === null) return { position: stream.seq, since: null };
    const all = this.logs.since(BROADCAST_STREAM, cursor, !found)!;
    if (!found) {
      const gap = unproven(all, cursor);
      return {
        position: all.current,
        since: gap && { entries: [], gap, current: all.current },
      };
    }
    const since = withinBudget(this.own(conn), all); // a replay uses up its own budget
    return { position: startOf(since, cursor), since };
  }

  /** `conn`'s streams, its own (made from the shared idle ones, to be written). */
  own(conn: Connection): ConnStreams {
    if (conn.cseq === this.#idle || conn.cseq === null) {
      conn.cseq = new ConnStreams(this, this.#maxReplayBytes);
    }
    return conn.cseq;
  }

  /** A connection holds `channel`'s stream. */
  retain(channel: string): void {
    this.logs.retain(channel);
  }

  /** One holder less. */
  release(channel: string): void {
    this.logs.release(channel);
  }

  /** Resumed connections waiting for their cursor count as reached by a publish. */
  pending(channel: string, delta: number): void {
    const log = this.logs.get(channel);
    if (log) log.pending += delta;
  }

  /** Subscribes at once, then replays (nothing runs in between). */
  activate(
    conn: Connection,
    channel: string,
    after: number | null,
    add: () => void,
  ): Record<string, unknown> {
    add();
    return this.subscribed(conn, channel, after, true);
  }

  /** Sends the gap and kept messages of `key` after the handshake or a re-subscribe. */
  replay(conn: Connection, key: string, since: Since): void {
    if (since.gap) conn.send({ type: "push", events: [streamGap(key, since.gap)] });
    const id = conn.session?.id;
    for (const e of since.entries) {
      if (skips(e, id, conn.id)) continue;
      conn.send({ type: "push", events: [streamEvent(key, e.cseq, e.event)] });
    }
  }

  /**
   * A channel-seq connection subscribes to `channel` with the cursor `after` (`null`: none).
   * `restored`: its session kept the channel (a replay is its due); else only the gap is told.
   * Returns the reply's extra fields (`cseq`: the stream's number now).
   */
  subscribed(
    conn: Connection,
    channel: string,
    after: number | null,
    restored: boolean,
  ): Record<string, unknown> {
    const since = after === null ? null : this.logs.since(channel, after, !restored);
    if (since && restored) this.replay(conn, channel, withinBudget(this.own(conn), since));
    else if (since) {
      const gap = unproven(since, after!);
      if (gap) conn.send({ type: "push", events: [streamGap(channel, gap)] });
    }
    return { cseq: this.logs.get(channel)?.seq ?? 0 };
  }

  /**
   * Numbers a publish in `key`'s stream (when some channel-seq connection or session holds it);
   * `except`: connection ids it skips. Returns the number, or `null`.
   */
  append(
    key: string,
    event: Event,
    except: readonly string[],
    conns: ReadonlyMap<string, Connection>,
  ): number | null {
    if (this.logs.get(key) === undefined) return null; // no channel-seq connection or session
    // A session resumes on a new connection: the sender's session is what a replay skips.
    const x = except.length === 0 ? null : except.map((id) => conns.get(id)?.session?.id ?? id);
    return this.logs.append(key, event, estimateBytes(event), x);
  }
}

/**
 * Of `items` (oldest first), the index of the first one to replay: the newest that fit in the
 * connection's replay budget (`delivery.maxReplayBytes`), which they use up. The ones before it
 * are told as lost (`cutGap`). Without a budget (`streams` null), 0.
 */
export function replayFrom<T>(
  streams: ConnStreams | null,
  items: readonly T[],
  bytes: (item: T) => number,
): number {
  if (streams === null) return 0;
  let i = items.length;
  let left = streams.replayBudget;
  while (i > 0) {
    const b = bytes(items[i - 1]);
    if (b > left) break;
    left -= b;
    i--;
  }
  streams.replayBudget = left;
  return i;
}

/** A stream's gap once `cut` older kept messages were left out of the replay (`overflow`). */
export function cutGap(gap: ResumeGap | null, cut: number): ResumeGap | null {
  if (cut === 0 || (gap !== null && gap.dropped === null)) return gap;
  return { reason: "overflow", dropped: (gap?.dropped ?? 0) + cut };
}

/** `since` cut to the newest messages within the connection's replay budget. */
function withinBudget(streams: ConnStreams | null, since: Since): Since {
  const cut = replayFrom(streams, since.entries, (e) => e.bytes + ENTRY_BYTES);
  if (cut === 0) return since;
  return { entries: since.entries.slice(cut), gap: cutGap(since.gap, cut), current: since.current };
}

/**
 * The gap told to a cursor no session vouches for (no replay): how many it missed, when that can
 * be counted (a cursor of another incarnation is covered by the handshake's own gap).
 */
function unproven(since: Since, cursor: number): ResumeGap | null {
  const dropped = since.gap ? since.gap.dropped : since.current - cursor;
  return dropped === null || dropped <= 0 ? null : { reason: "unknown", dropped };
}

/** The number after which a found session's stream continues (where its replay starts). */
function startOf(since: Since, cursor: number): number {
  if (!since.gap) return cursor;
  const first = since.entries[0];
  return first ? first.cseq - 1 : since.current;
}

function skips(e: LogEntry, sessionId: string | undefined, connId: string): boolean {
  return e.except !== null && (e.except.includes(connId) ||
    (sessionId !== undefined && e.except.includes(sessionId)));
}
