/**
 * The books of channel sequences (docs/delivery.md "Channel sequences"): one numbered, bounded log
 * per channel and one for broadcasts, shared by every subscriber that negotiated `"channel-seq"`.
 * No I/O: lib/server/channel_seq.ts sends; this module only numbers, keeps and trims, so it runs
 * in virtual time in tests.
 *
 * Guarantees:
 * - A stream numbers its messages `base + 1, base + 2, …` and never reuses a number. `base` is
 *   `clock.now() × 1000` when the stream is made (and above every number a dropped stream of
 *   this server gave out), so a stream made again, or one of a restarted server, starts above
 *   the numbers of the one before (unless that one averaged over 1000 messages per ms): a client
 *   cursor from an earlier incarnation is below `base` and is told of an `unknown` gap, never
 *   replayed into the wrong messages.
 * - A log keeps its newest messages within `maxMessages`, `maxBytes` (size + `ENTRY_BYTES` each)
 *   and `ttlMs`; all logs together within `maxTotalBytes` (the largest log loses its oldest
 *   first). A client asking for messages that are gone learns how many (`overflow`, `expired`).
 *
 * @module
 */
import type { Event } from "../protocol/event.ts";
import type { ResumeGap } from "../protocol/handshake.ts";
import type { Clock } from "../util/clock.ts";
import { type Held, SizeIndex } from "./delivery_budget.ts";
import { type DeliveryOptions, ENTRY_BYTES } from "./delivery_options.ts";

/** The stream key of broadcasts (a channel id is never empty). */
export const BROADCAST_STREAM = "";

/** One message of a stream's log. */
export interface LogEntry {
  /** Its number in the stream. */
  readonly cseq: number;
  /** The event. */
  readonly event: Event;
  /** Session (or connection) ids it skips (`except`), if any. */
  readonly except: readonly string[] | null;
  /** Its size estimate in bytes. */
  readonly bytes: number;
  /** When it was logged (clock ms). */
  readonly at: number;
}

/** What a cursor finds in a stream: the messages after it, and what is gone. */
export interface Since {
  /** The kept messages after the cursor, oldest first. */
  readonly entries: readonly LogEntry[];
  /** Messages after the cursor that are gone, or `null`. */
  readonly gap: ResumeGap | null;
  /** The stream's last number (where the client's cursor is once it has `entries`). */
  readonly current: number;
}

/** The log of one channel (or of broadcasts). */
export class StreamLog implements Held {
  /** The number before the stream's first message. */
  readonly base: number;
  /** The last number given out. */
  seq: number;
  /** Kept messages, oldest first. */
  entries: LogEntry[] = [];
  /** Bytes charged (sizes plus `ENTRY_BYTES` each). */
  bytes = 0;
  /** @internal */
  counted = 0;
  /** @internal */
  bucket = -1;
  /** @internal */
  index: SizeIndex<Held> | null = null;
  /** The highest number trimmed by the TTL, and by the bounds (`maxMessages`, bytes, budget). */
  expiredThrough: number;
  /** The highest number trimmed by a bound. */
  overflowThrough: number;
  /** Channel-seq connections and sessions holding the stream (it is dropped at 0). */
  holders = 0;
  /** Resumed connections whose subscription waits for the client's cursor (counted as reached). */
  pending = 0;

  /** An empty stream numbering from `base + 1`. */
  constructor(readonly key: string, base: number) {
    this.base =
      this.seq =
      this.expiredThrough =
      this.overflowThrough =
        base;
  }
}

/** The channel logs of one server. */
export class ChannelLogs {
  readonly #options: Required<DeliveryOptions>;
  readonly #clock: Clock;
  readonly #streams = new Map<string, StreamLog>();
  readonly #index = new SizeIndex<StreamLog>();
  #total = 0;
  /** The highest number a dropped stream gave out: a stream made again starts above it. */
  #floor = 0;
  /** Messages trimmed by the bounds or the TTL (counted once each). */
  trimmed = 0;

  /** Logs bounded by `options` (the `delivery` option), timed by `clock`. */
  constructor(options: Required<DeliveryOptions>, clock: Clock) {
    this.#options = options;
    this.#clock = clock;
  }

  /** Bytes all logs hold together (at most `maxTotalBytes`). */
  get bytes(): number {
    return this.#total;
  }

  /** Streams kept. */
  get size(): number {
    return this.#streams.size;
  }

  /** The stream of `key`, if kept. */
  get(key: string): StreamLog | undefined {
    return this.#streams.get(key);
  }

  /** One more holder of `key`'s stream (made on first use). */
  retain(key: string): StreamLog {
    let s = this.#streams.get(key);
    if (!s) {
      const base = Math.max(this.#floor, Math.floor(Math.max(0, this.#clock.now())) * 1000);
      this.#streams.set(key, s = new StreamLog(key, base));
    }
    s.holders++;
    return s;
  }

  /** One holder less: a channel's stream nobody holds is dropped (broadcasts' stays). */
  release(key: string): void {
    const s = this.#streams.get(key);
    if (!s || --s.holders > 0 || key === BROADCAST_STREAM) return;
    this.#streams.delete(key);
    this.#floor = Math.max(this.#floor, s.seq);
    this.#index.remove(s);
    this.#total -= s.counted;
  }

  /** Numbers `event` in `key`'s stream (if kept) and logs it; `null` when nobody holds the stream. */
  append(
    key: string,
    event: Event,
    bytes: number,
    except: readonly string[] | null,
  ): number | null {
    const s = this.#streams.get(key);
    if (!s) return null;
    const now = this.#clock.now();
    this.#expire(s, now);
    const entry: LogEntry = { cseq: ++s.seq, event, except, bytes, at: now };
    s.entries.push(entry);
    s.bytes += bytes + ENTRY_BYTES;
    const { maxMessages, maxBytes } = this.#options;
    while (s.entries.length > 1 && (s.entries.length > maxMessages || s.bytes > maxBytes)) {
      this.#drop(s, false);
    }
    this.#sync(s);
    this.#enforce(s);
    return entry.cseq;
  }

  /**
   * What follows `after` in `key`'s stream (`null`: the stream is not kept). `counted`: only the
   * gap and `current` are wanted (`entries` empty), for a cursor no session vouches for. O(1)
   * but for the entries copied: a log's numbers are consecutive.
   */
  since(key: string, after: number, counted = false): Since | null {
    const s = this.#streams.get(key);
    if (!s) return null;
    this.#expire(s, this.#clock.now());
    const current = s.seq;
    if (after < s.base || after > s.seq) {
      // A cursor of another incarnation of the stream (or of another server).
      const entries = counted ? [] : s.entries;
      return { entries, gap: { reason: "unknown", dropped: null }, current };
    }
    const n = s.entries.length;
    const oldest = n === 0 ? s.seq + 1 : s.entries[0].cseq;
    const i = Math.min(n, Math.max(0, after - oldest + 1)); // the first entry after the cursor
    const entries = counted ? [] : i === 0 ? s.entries : s.entries.slice(i);
    const first = i < n ? s.entries[i].cseq : s.seq + 1;
    const dropped = first - after - 1;
    if (dropped <= 0) return { entries, gap: null, current };
    // The newest loss wins the reason: a message past its TTL may have overflowed first.
    const reason = s.overflowThrough > after && s.overflowThrough >= s.expiredThrough
      ? "overflow"
      : "expired";
    return { entries, gap: { reason, dropped }, current };
  }

  #expire(s: StreamLog, now: number): void {
    const cutoff = now - this.#options.ttlMs;
    let n = 0;
    while (s.entries.length > 0 && s.entries[0].at <= cutoff) {
      this.#drop(s, true);
      n++;
    }
    if (n > 0) this.#sync(s);
  }

  #drop(s: StreamLog, expired: boolean): void {
    const old = s.entries.shift()!;
    s.bytes -= old.bytes + ENTRY_BYTES;
    if (expired) s.expiredThrough = old.cseq;
    else s.overflowThrough = old.cseq;
    this.trimmed++;
  }

  #sync(s: StreamLog): void {
    this.#total += s.bytes - s.counted;
    s.counted = s.bytes;
    this.#index.place(s);
  }

  /** Past `maxTotalBytes`, the largest logs lose their oldest messages (never the newest one). */
  #enforce(last: StreamLog): void {
    const max = this.#options.maxTotalBytes;
    while (this.#total > max) {
      const s = this.#index.largest();
      if (s === undefined || (s === last && s.entries.length <= 1)) return;
      if (s.entries.length === 0) {
        this.#index.remove(s);
        continue;
      }
      this.#drop(s, false);
      this.#sync(s);
    }
  }
}
