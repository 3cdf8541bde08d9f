// This module is browser compatible.
/**
 * Chunking: a payload larger than the chunk size travels as several chunk frames, and a
 * {@linkcode Reassembler} puts it back together.
 *
 * A chunk frame is binary, big-endian, with a 17-byte header:
 *
 * ```
 * 0      1            5        9        13           17
 * | 0x03 | message id | index  | count  | total bytes | chunk bytes …
 * ```
 *
 * Chunk `i` of `count` covers bytes `[floor(i·total/count), floor((i+1)·total/count))` of the
 * payload, so every chunk's length follows from the header: the receiver checks it, writes it
 * straight into one buffer of `total` bytes, and needs no per-chunk offset. The payload is a
 * flagged frame (`0x00` raw, `0x01`/`0x02` compressed): compression happens first, then chunking.
 *
 * Guarantees of the {@linkcode Reassembler}:
 * - Chunks may arrive in any order; duplicates (also late ones, after completion) are ignored.
 * - A message is dropped when no chunk of it arrives for `timeoutMs` (virtual time via `clock`).
 * - Memory is reserved per message on its first chunk (`total` bytes) and bounded per connection
 *   (`maxBufferedBytes`) and, through a shared {@linkcode ReassemblyBudget}, globally; when a bound
 *   would be passed the oldest incomplete messages are evicted first.
 *
 * @module
 */
import type { Clock, TimerHandle } from "../util/clock.ts";
import { realClock } from "../util/clock.ts";
import { WireError } from "./errors.ts";
import { FLAG_CHUNK } from "./flags.ts";
import type { Payload } from "./flags.ts";

/** Bytes of a chunk frame's header. */
export const CHUNK_HEADER_BYTES = 17;

/** The largest message id; ids wrap around to 0 after it. */
export const MAX_MESSAGE_ID = 0xffff_ffff;

/** The header of one chunk frame. */
export interface ChunkHeader {
  /** The sender's id of the chunked message (unique among its messages in flight). */
  messageId: number;
  /** This chunk's position, `0 ≤ index < count`. */
  index: number;
  /** How many chunks the message has. */
  count: number;
  /** The payload's total length in bytes. */
  totalBytes: number;
}

/** What can be chunked: plain bytes, or a flagged payload (flag and body, not yet joined). */
export type ChunkSource = Uint8Array | Payload;

/** The length of a chunk source. */
export function sourceLength(source: ChunkSource): number {
  return source instanceof Uint8Array ? source.byteLength : source.body.byteLength + 1;
}

/** How many chunks of at most `chunkSize` bytes carry `totalBytes`. */
export function chunkCount(totalBytes: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(totalBytes / chunkSize));
}

/** The byte range `[start, end)` of chunk `index` of `count` in a payload of `totalBytes`. */
export function chunkRange(index: number, count: number, totalBytes: number): [number, number] {
  return [Math.floor(index * totalBytes / count), Math.floor((index + 1) * totalBytes / count)];
}

/** Makes chunk frame `index` of `count` of `source`. */
export function encodeChunk(
  source: ChunkSource,
  messageId: number,
  index: number,
  count: number,
): Uint8Array {
  const total = sourceLength(source);
  const [start, end] = chunkRange(index, count, total);
  const frame = new Uint8Array(CHUNK_HEADER_BYTES + end - start);
  const view = new DataView(frame.buffer);
  frame[0] = FLAG_CHUNK;
  view.setUint32(1, messageId);
  view.setUint32(5, index);
  view.setUint32(9, count);
  view.setUint32(13, total);
  if (source instanceof Uint8Array) {
    frame.set(source.subarray(start, end), CHUNK_HEADER_BYTES);
  } else {
    // The virtual payload is [flag, ...body].
    let at = CHUNK_HEADER_BYTES;
    if (start === 0) frame[at++] = source.flag;
    frame.set(source.body.subarray(Math.max(0, start - 1), end - 1), at);
  }
  return frame;
}

/** Options of {@linkcode splitIntoChunks}. */
export interface SplitOptions {
  /** Largest chunk body in bytes. @default {65536} */
  chunkSize?: number;
  /** Most chunks per message. @default {1000} */
  maxChunks?: number;
  /** The message id written into every chunk. */
  messageId: number;
}

/**
 * Splits a payload into chunk frames (all at once; the pipeline makes them lazily instead).
 * @throws {RangeError} when it needs more than `maxChunks` chunks.
 */
export function splitIntoChunks(source: ChunkSource, options: SplitOptions): Uint8Array[] {
  const { chunkSize = 65536, maxChunks = 1000, messageId } = options;
  const total = sourceLength(source);
  const count = chunkCount(total, chunkSize);
  if (count > maxChunks) {
    throw new RangeError(
      `a payload of ${total} bytes needs ${count} chunks of ${chunkSize}, over maxChunks ${maxChunks}`,
    );
  }
  return Array.from({ length: count }, (_, i) => encodeChunk(source, messageId, i, count));
}

/**
 * Reads and checks a chunk frame's header.
 * @throws {WireError} `bad-chunk` when it is not a well-formed chunk frame.
 */
export function readChunkHeader(frame: Uint8Array): ChunkHeader {
  if (frame.byteLength <= CHUNK_HEADER_BYTES || frame[0] !== FLAG_CHUNK) {
    throw new WireError("bad-chunk", `not a chunk frame (${frame.byteLength} bytes)`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const header = {
    messageId: view.getUint32(1),
    index: view.getUint32(5),
    count: view.getUint32(9),
    totalBytes: view.getUint32(13),
  };
  const { messageId, index, count, totalBytes } = header;
  if (count === 0 || index >= count || totalBytes < count) {
    throw new WireError(
      "bad-chunk",
      `chunk ${index} of ${count} for ${totalBytes} bytes is impossible`,
      { messageId },
    );
  }
  const [start, end] = chunkRange(index, count, totalBytes);
  if (frame.byteLength - CHUNK_HEADER_BYTES !== end - start) {
    throw new WireError(
      "bad-chunk",
      `chunk ${index} of ${count} carries ${
        frame.byteLength - CHUNK_HEADER_BYTES
      } bytes, expected ${end - start}`,
      { messageId },
    );
  }
  return header;
}

/**
 * A memory bound shared by many reassemblers (one server, all its connections). When a new message
 * would pass it, the oldest incomplete messages anywhere are evicted first.
 */
export class ReassemblyBudget {
  /** The bound in bytes. */
  readonly maxBytes: number;
  #used = 0;
  #entries = new Map<object, { bytes: number; evict: () => void }>();

  /** A budget of `maxBytes` (default 256 MiB). */
  constructor(maxBytes: number = 256 * 1024 * 1024) {
    if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /** Reserves `bytes` for `key`, evicting the oldest reservations of others while over the bound. */
  reserve(key: object, bytes: number, evict: () => void): void {
    for (const [other, entry] of this.#entries) {
      if (this.#used + bytes <= this.maxBytes) break;
      this.release(other);
      entry.evict();
    }
    this.#entries.set(key, { bytes, evict });
    this.#used += bytes;
  }

  /** Releases the reservation of `key` (unknown keys are ignored). */
  release(key: object): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#used -= entry.bytes;
  }
}

/** Options of a {@linkcode Reassembler}. */
export interface ReassemblerOptions {
  /** Most chunks per message. @default {1000} */
  maxChunks?: number;
  /** Largest reassembled payload in bytes. @default {67108864} (64 MiB) */
  maxAssembledBytes?: number;
  /** Bytes of incomplete messages held for this connection. @default {67108864} (64 MiB) */
  maxBufferedBytes?: number;
  /** An incomplete message with no new chunk for this long is dropped. @default {30000} */
  timeoutMs?: number;
  /** A bound shared with other reassemblers. @default {undefined} (none) */
  budget?: ReassemblyBudget;
  /** Time source. @default {realClock} */
  clock?: Clock;
  /** Told about every message dropped later (timeouts, evictions). @default {undefined} */
  onDrop?: (error: WireError) => void;
}

/** Counters of a {@linkcode Reassembler}. */
export interface ReassemblyStats {
  /** Chunk frames accepted. */
  chunks: number;
  /** Duplicate chunks ignored. */
  duplicates: number;
  /** Messages completed. */
  messages: number;
  /** Incomplete messages dropped for inactivity. */
  timeouts: number;
  /** Incomplete messages evicted to stay within the memory bounds. */
  evictions: number;
  /** Messages dropped for a malformed or inconsistent chunk. */
  corrupt: number;
  /** Bytes reserved by incomplete messages now. */
  bufferedBytes: number;
  /** Incomplete messages now. */
  pending: number;
}

interface Incomplete {
  id: number;
  count: number;
  total: number;
  buffer: Uint8Array;
  seen: Uint8Array;
  received: number;
  lastAt: number;
  timer: TimerHandle | undefined;
}

const DEFAULTS = {
  maxChunks: 1000,
  maxAssembledBytes: 64 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  timeoutMs: 30_000,
};

/** Completed ids remembered, so a late duplicate does not start a message that never completes. */
const RECENT_IDS = 64;

/** Puts chunked messages of one connection back together. See the module doc for guarantees. */
export class Reassembler {
  readonly #options: typeof DEFAULTS;
  readonly #budget: ReassemblyBudget | undefined;
  readonly #clock: Clock;
  readonly #onDrop: ((error: WireError) => void) | undefined;
  readonly #partials = new Map<number, Incomplete>();
  readonly #recent: number[] = [];
  #buffered = 0;
  #stats = { chunks: 0, duplicates: 0, messages: 0, timeouts: 0, evictions: 0, corrupt: 0 };

  /** Makes a reassembler; see {@linkcode ReassemblerOptions} for defaults. */
  constructor(options: ReassemblerOptions = {}) {
    this.#options = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const value = options[key] ?? DEFAULTS[key];
      if (!(Number.isInteger(value) && value > 0)) {
        throw new RangeError(`${key} must be a positive integer, got ${value}`);
      }
      this.#options[key] = value;
    }
    if (this.#options.maxBufferedBytes < this.#options.maxAssembledBytes) {
      throw new RangeError(
        `maxBufferedBytes (${this.#options.maxBufferedBytes}) must be at least maxAssembledBytes (${this.#options.maxAssembledBytes})`,
      );
    }
    if (options.budget && options.budget.maxBytes < this.#options.maxAssembledBytes) {
      throw new RangeError(
        `the budget (${options.budget.maxBytes}) must be at least maxAssembledBytes (${this.#options.maxAssembledBytes})`,
      );
    }
    this.#budget = options.budget;
    this.#clock = options.clock ?? realClock;
    this.#onDrop = options.onDrop;
  }

  /** A snapshot of the counters. */
  stats(): ReassemblyStats {
    return { ...this.#stats, bufferedBytes: this.#buffered, pending: this.#partials.size };
  }

  /**
   * Takes one chunk frame; returns the whole payload once its last missing chunk arrived, else
   * `null`.
   * @throws {WireError} `bad-chunk` (the message, if known, is dropped) or `assembled-too-large`.
   */
  accept(frame: Uint8Array): Uint8Array | null {
    let header: ChunkHeader;
    try {
      header = readChunkHeader(frame);
    } catch (e) {
      this.#stats.corrupt++;
      const id = (e as WireError).messageId;
      if (id !== undefined) this.#drop(id);
      throw e;
    }
    const { messageId: id, index, count, totalBytes } = header;
    let partial = this.#partials.get(id);
    if (!partial) {
      if (this.#recent.includes(id)) {
        this.#stats.duplicates++;
        return null;
      }
      partial = this.#start(header);
    } else if (partial.count !== count || partial.total !== totalBytes) {
      this.#stats.corrupt++;
      this.#drop(id);
      throw new WireError(
        "bad-chunk",
        `chunk ${index} of message ${id} says ${count} chunks of ${totalBytes} bytes, earlier ones said ${partial.count} of ${partial.total}`,
        { messageId: id },
      );
    }
    this.#stats.chunks++;
    partial.lastAt = this.#clock.now();
    if (partial.seen[index]) {
      this.#stats.duplicates++;
      return null;
    }
    partial.seen[index] = 1;
    partial.received++;
    partial.buffer.set(
      frame.subarray(CHUNK_HEADER_BYTES),
      chunkRange(index, count, totalBytes)[0],
    );
    if (partial.received < count) return null;
    this.#drop(id);
    this.#recent.push(id);
    if (this.#recent.length > RECENT_IDS) this.#recent.shift();
    this.#stats.messages++;
    return partial.buffer;
  }

  #start({ messageId: id, count, totalBytes }: ChunkHeader): Incomplete {
    const { maxChunks, maxAssembledBytes, maxBufferedBytes } = this.#options;
    if (count > maxChunks) {
      this.#stats.corrupt++;
      throw new WireError("bad-chunk", `message ${id} has ${count} chunks, over ${maxChunks}`, {
        messageId: id,
      });
    }
    if (totalBytes > maxAssembledBytes) {
      throw new WireError(
        "assembled-too-large",
        `message ${id} has ${totalBytes} bytes, over the limit of ${maxAssembledBytes}`,
        { messageId: id },
      );
    }
    for (const oldest of this.#partials.keys()) {
      if (this.#buffered + totalBytes <= maxBufferedBytes) break;
      this.#evict(oldest);
    }
    const partial: Incomplete = {
      id,
      count,
      total: totalBytes,
      buffer: new Uint8Array(totalBytes),
      seen: new Uint8Array(count),
      received: 0,
      lastAt: this.#clock.now(),
      timer: undefined,
    };
    this.#partials.set(id, partial);
    this.#buffered += totalBytes;
    this.#budget?.reserve(partial, totalBytes, () => this.#evict(id, true));
    this.#arm(partial, this.#options.timeoutMs);
    return partial;
  }

  #arm(partial: Incomplete, ms: number): void {
    partial.timer = this.#clock.setTimeout(() => {
      // Lazily re-armed: a chunk only updates lastAt, so the hot path never touches timers.
      const idle = this.#clock.now() - partial.lastAt;
      if (idle < this.#options.timeoutMs) {
        this.#arm(partial, this.#options.timeoutMs - idle);
        return;
      }
      this.#drop(partial.id);
      this.#stats.timeouts++;
      this.#onDrop?.(
        new WireError(
          "chunk-timeout",
          `message ${partial.id} got ${partial.received} of ${partial.count} chunks, then none for ${this.#options.timeoutMs} ms`,
          { messageId: partial.id },
        ),
      );
    }, ms);
  }

  #evict(id: number, released = false): void {
    const partial = this.#partials.get(id);
    if (!partial) return;
    this.#drop(id, released);
    this.#stats.evictions++;
    this.#onDrop?.(
      new WireError(
        "chunk-evicted",
        `message ${id} (${partial.received} of ${partial.count} chunks) was evicted to bound reassembly memory`,
        { messageId: id },
      ),
    );
  }

  #drop(id: number, released = false): void {
    const partial = this.#partials.get(id);
    if (!partial) return;
    this.#partials.delete(id);
    this.#buffered -= partial.total;
    if (partial.timer !== undefined) this.#clock.clearTimeout(partial.timer);
    if (!released) this.#budget?.release(partial);
  }

  /** Drops every incomplete message and cancels their timers (the connection closed). */
  close(): void {
    for (const id of [...this.#partials.keys()]) this.#drop(id);
  }
}
