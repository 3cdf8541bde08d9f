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
 * payload, so every chunk's length follows from the header and the receiver checks it exactly.
 * The payload is a flagged frame (`0x00` raw, `0x01`/`0x02` compressed): compression happens
 * first, then chunking.
 *
 * Guarantees of the {@linkcode Reassembler}:
 * - Chunks may arrive in any order; duplicates (also late ones, after completion) are ignored and
 *   are not progress (they do not re-arm the timeout).
 * - Reservation at admission, allocation as chunks arrive. A new message (its first chunk to
 *   arrive) reserves its announced `total` against the connection's own bounds
 *   (`maxBufferedBytes`, `maxPendingMessages`) and against the server-wide
 *   {@linkcode ReassemblyBudget}. If it does not fit, that new message is refused
 *   (`reassembly-busy`, not fatal) and later chunks of its id are ignored without another error.
 * - An admitted message is never refused or evicted for lack of memory: its reservation covers it
 *   to the end. It is dropped only by its own sender's doing (too slow, bad chunk, close).
 * - Memory itself follows the chunks that arrived: chunks are kept as they come (without a copy
 *   when the frame owns its buffer) and joined into one buffer of `total` bytes once the last one
 *   is there, so a lie about the size costs accounting, not memory (`bufferedBytes` counts held
 *   bytes, `reservedBytes` announced ones).
 * - Progress: `t` ms after its first chunk, a message must have received at least
 *   `(t − graceMs) × minRate / 1000` bytes, and no gap between new chunks may reach `timeoutMs`;
 *   else it is dropped (`chunk-timeout`) and its reservation released. Holding a reservation thus
 *   costs its holder a steady upload of `minRate`. Duplicates are not progress. Late chunks of a
 *   dropped id are ignored.
 * - The grace is earned: after one of its messages was dropped (too slow, silent, bad chunk), a
 *   connection's new messages get none until one of them completes. So announcing, idling through
 *   the grace and announcing again does not hold a reservation for free.
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
 * The server-wide bound on reassembly memory, shared by the reassemblers of all connections. It
 * counts the reservations (announced sizes) of admitted incomplete messages and never takes one
 * back from anyone: a reassembler asks with {@linkcode ReassemblyBudget.reserve} when a message
 * starts and is refused when it does not fit.
 */
export class ReassemblyBudget implements ReassemblySlots {
  /** The bound in bytes. */
  readonly maxBytes: number;
  #used = 0;
  /** Bytes reserved per key ({@linkcode ReassemblyBudget.forKey}), while above 0. */
  readonly #byKey = new Map<string, number>();

  /** A budget of `maxBytes` (default 256 MiB). */
  constructor(maxBytes: number = 256 * 1024 * 1024) {
    if (!(Number.isInteger(maxBytes) && maxBytes > 0)) {
      throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
  }

  /** Bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /** Whether `bytes` more would fit now. */
  fits(bytes: number): boolean {
    return this.#used + bytes <= this.maxBytes;
  }

  /** Reserves `bytes` if they fit and returns `true`; else reserves nothing and returns `false`. */
  reserve(bytes: number): boolean {
    if (!this.fits(bytes)) return false;
    this.#used += bytes;
    return true;
  }

  /** Gives back `bytes` reserved earlier. */
  release(bytes: number): void {
    this.#used -= bytes;
  }

  /**
   * This budget as seen by the connections of `key` (a client address; `null`: unknown, not
   * capped): they reserve at most `maxPerKey` bytes together, so one address cannot hold the
   * whole budget. Refusals say which bound was full (`refusal`).
   */
  forKey(key: string | null, maxPerKey: number): ReassemblySlots {
    if (key === null || maxPerKey >= this.maxBytes) return this;
    const byKey = this.#byKey;
    let refusal: string | undefined;
    return {
      maxBytes: this.maxBytes,
      get refusal() {
        return refusal;
      },
      reserve: (bytes) => {
        const held = byKey.get(key) ?? 0;
        refusal = undefined;
        if (held + bytes > maxPerKey) {
          refusal =
            `this address already reserves ${held} of the ${maxPerKey} bytes allowed from one address`;
          return false;
        }
        if (!this.reserve(bytes)) return false;
        byKey.set(key, held + bytes);
        return true;
      },
      release: (bytes) => {
        this.release(bytes);
        const left = (byKey.get(key) ?? 0) - bytes;
        if (left > 0) byKey.set(key, left);
        else byKey.delete(key);
      },
    };
  }
}

/** What a {@linkcode Reassembler} reserves in: a {@linkcode ReassemblyBudget} or a view of one. */
export interface ReassemblySlots {
  /** The server-wide bound in bytes. */
  readonly maxBytes: number;
  /** Reserves `bytes` if they fit and returns `true`; else reserves nothing and returns `false`. */
  reserve(bytes: number): boolean;
  /** Gives back `bytes` reserved earlier. */
  release(bytes: number): void;
  /** Why the last `reserve` failed, when a narrower bound than `maxBytes` refused it. */
  readonly refusal?: string;
}

/** Options of a {@linkcode Reassembler}. */
export interface ReassemblerOptions {
  /** Most chunks per message. @default {1000} */
  maxChunks?: number;
  /** Largest reassembled payload in bytes. @default {67108864} (64 MiB) */
  maxAssembledBytes?: number;
  /**
   * This connection's bound: the announced sizes of its incomplete messages together. A message
   * that would pass it is refused (`reassembly-busy`). @default {67108864} (64 MiB)
   */
  maxBufferedBytes?: number;
  /** Most incomplete messages at once on this connection. @default {4} */
  maxPendingMessages?: number;
  /** An incomplete message with no new chunk for this long is dropped. @default {30000} */
  timeoutMs?: number;
  /**
   * Slowest accepted transfer, in bytes per second: `t` ms after its first chunk a message must
   * have received `(t − graceMs) × minRate / 1000` bytes. @default {65536} (512 kbit/s)
   */
  minRate?: number;
  /**
   * How long a message may lag before `minRate` applies, in ms; none after a dropped message until
   * one completes. @default {5000}
   */
  graceMs?: number;
  /** The server-wide bound shared with other reassemblers. @default {undefined} (none) */
  budget?: ReassemblySlots;
  /** Time source. @default {realClock} */
  clock?: Clock;
  /** Told about every message dropped later (timeouts, refusals of a started message). */
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
  /** Incomplete messages dropped for inactivity or for falling behind `minRate`. */
  timeouts: number;
  /** Messages refused (`reassembly-busy`): a reservation did not fit. */
  refused: number;
  /** Chunks ignored because their message was refused or timed out before. */
  ignored: number;
  /** Messages dropped for a malformed or inconsistent chunk. */
  corrupt: number;
  /** Bytes of chunks held by incomplete messages now. */
  bufferedBytes: number;
  /** Bytes reserved (announced) by incomplete messages now. */
  reservedBytes: number;
  /** Incomplete messages now. */
  pending: number;
}

/** The counters of {@linkcode ReassemblyStats}, all zero. */
function zeroCounts(): Omit<ReassemblyStats, "bufferedBytes" | "reservedBytes" | "pending"> {
  return {
    chunks: 0,
    duplicates: 0,
    messages: 0,
    timeouts: 0,
    refused: 0,
    ignored: 0,
    corrupt: 0,
  };
}

/** The stats of a receiver that reassembles nothing (chunking not negotiated). */
export function zeroReassemblyStats(): ReassemblyStats {
  return { ...zeroCounts(), bufferedBytes: 0, reservedBytes: 0, pending: 0 };
}

interface Incomplete {
  id: number;
  count: number;
  total: number;
  /** Received chunk bodies by index; assembled once the last one arrives. */
  chunks: (Uint8Array | undefined)[];
  received: number;
  held: number;
  /** When the first chunk arrived: the progress rule counts from here. */
  startAt: number;
  /** The grace this message got: `graceMs`, or 0 after a dropped message. */
  graceMs: number;
  lastAt: number;
  timer: TimerHandle | undefined;
}

const DEFAULTS = {
  maxChunks: 1000,
  maxAssembledBytes: 64 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxPendingMessages: 4,
  timeoutMs: 30_000,
  minRate: 64 * 1024,
  graceMs: 5_000,
};

/** Finished ids remembered, so late chunks neither restart a message nor earn a second error. */
const RECENT_IDS = 64;

/** Puts chunked messages of one connection back together. See the module doc for guarantees. */
export class Reassembler {
  readonly #options: typeof DEFAULTS;
  readonly #budget: ReassemblySlots | undefined;
  readonly #clock: Clock;
  readonly #onDrop: ((error: WireError) => void) | undefined;
  readonly #partials = new Map<number, Incomplete>();
  /** Ids finished lately: `true` completed (late chunks are duplicates), `false` dropped. */
  readonly #recent = new Map<number, boolean>();
  /** Bytes held by this connection's incomplete messages. */
  #held = 0;
  /** Announced sizes of this connection's incomplete messages together. */
  #announced = 0;
  /** Whether new messages get the grace: until a message is dropped, and again once one completes. */
  #graced = true;
  #stats = zeroCounts();

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
    return {
      ...this.#stats,
      bufferedBytes: this.#held,
      reservedBytes: this.#announced,
      pending: this.#partials.size,
    };
  }

  /**
   * Takes one chunk frame; returns the whole payload once its last missing chunk arrived, else
   * `null`.
   * @throws {WireError} `bad-chunk` (the message, if known, is dropped), `assembled-too-large`, or
   * `reassembly-busy` (the message is refused and its later chunks are ignored).
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
      const completed = this.#recent.get(id);
      if (completed !== undefined) {
        if (completed) this.#stats.duplicates++;
        else this.#stats.ignored++;
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
    if (partial.chunks[index] !== undefined) {
      // A duplicate is not progress: it neither re-arms the timeout nor costs memory.
      this.#stats.duplicates++;
      return null;
    }
    // No budget check here: the message's reservation covers every chunk of it.
    const body = frame.subarray(CHUNK_HEADER_BYTES);
    // Keep the chunk without copying when the frame owns its buffer (17 header bytes extra);
    // a view into a larger buffer is copied, so that held bytes are the bytes kept alive.
    partial.chunks[index] = frame.byteOffset === 0 && frame.buffer.byteLength === frame.byteLength
      ? body
      : body.slice();
    partial.received++;
    partial.held += body.byteLength;
    this.#held += body.byteLength;
    partial.lastAt = this.#clock.now();
    if (partial.received < count) return null;
    const whole = assemble(partial);
    this.#drop(id, true);
    this.#remember(id, true);
    this.#stats.messages++;
    return whole;
  }

  #start({ messageId: id, count, totalBytes }: ChunkHeader): Incomplete {
    const { maxChunks, maxAssembledBytes, maxBufferedBytes, maxPendingMessages } = this.#options;
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
    // Reserve the announced size, own bounds first: once admitted, the message can complete.
    let refusal: string | undefined;
    if (this.#partials.size >= maxPendingMessages) {
      refusal = `this connection already has ${maxPendingMessages} incomplete messages`;
    } else if (this.#announced + totalBytes > maxBufferedBytes) {
      refusal =
        `this connection's incomplete messages already announce ${this.#announced} of ${maxBufferedBytes} bytes`;
    } else if (this.#budget && !this.#budget.reserve(totalBytes)) {
      refusal = this.#budget.refusal ??
        `the server's reassembly memory (${this.#budget.maxBytes} bytes) is reserved`;
    }
    if (refusal !== undefined) {
      this.#remember(id, false);
      this.#stats.refused++;
      throw this.#busy(id, refusal);
    }
    const now = this.#clock.now();
    const partial: Incomplete = {
      id,
      count,
      total: totalBytes,
      chunks: new Array(count),
      received: 0,
      held: 0,
      startAt: now,
      graceMs: this.#graced ? this.#options.graceMs : 0,
      lastAt: now,
      timer: undefined,
    };
    this.#partials.set(id, partial);
    this.#announced += totalBytes;
    this.#arm(partial);
    return partial;
  }

  #busy(id: number, why: string): WireError {
    return new WireError("reassembly-busy", `message ${id} refused: ${why}`, { messageId: id });
  }

  #remember(id: number, completed: boolean): void {
    this.#recent.delete(id);
    this.#recent.set(id, completed);
    if (this.#recent.size > RECENT_IDS) this.#recent.delete(this.#recent.keys().next().value!);
  }

  /**
   * The first millisecond at which `partial` is behind: `minRate × (t − startAt − graceMs)`, the
   * bytes required by `t`, passes the bytes it received.
   */
  #dueAt(partial: Incomplete): number {
    return partial.startAt + partial.graceMs +
      Math.floor(partial.held * 1000 / this.#options.minRate) + 1;
  }

  /** Arms the check for the earlier of the idle timeout and the moment of falling behind. */
  #arm(partial: Incomplete): void {
    const now = this.#clock.now();
    const at = Math.min(partial.lastAt + this.#options.timeoutMs, this.#dueAt(partial));
    partial.timer = this.#clock.setTimeout(() => this.#check(partial), Math.max(0, at - now));
  }

  #check(partial: Incomplete): void {
    // Lazily re-armed: a chunk only updates lastAt and held, so the hot path never touches timers.
    const now = this.#clock.now();
    const idle = now - partial.lastAt >= this.#options.timeoutMs;
    const behind = now >= this.#dueAt(partial);
    if (!idle && !behind) return this.#arm(partial);
    const { id, received, count, held, total, graceMs } = partial;
    const elapsed = now - partial.startAt;
    this.#drop(id);
    this.#remember(id, false);
    this.#stats.timeouts++;
    this.#onDrop?.(
      new WireError(
        "chunk-timeout",
        idle
          ? `message ${id} got ${received} of ${count} chunks, then none for ${this.#options.timeoutMs} ms`
          : `message ${id} got ${held} of ${total} bytes in ${elapsed} ms, slower than ${this.#options.minRate} bytes/s after ${graceMs} ms`,
        { messageId: id },
      ),
    );
  }

  /** Forgets message `id` and releases its bytes; `completed` decides the grace of later ones. */
  #drop(id: number, completed = false): void {
    const partial = this.#partials.get(id);
    if (!partial) return;
    this.#graced = completed;
    this.#partials.delete(id);
    this.#held -= partial.held;
    this.#announced -= partial.total;
    this.#budget?.release(partial.total);
    partial.held = 0;
    partial.chunks.length = 0;
    if (partial.timer !== undefined) this.#clock.clearTimeout(partial.timer);
  }

  /** Drops every incomplete message and cancels their timers (the connection closed). */
  close(): void {
    for (const id of [...this.#partials.keys()]) this.#drop(id);
  }
}

/** Joins the chunks of a complete message, letting go of each chunk once it is copied. */
function assemble(partial: Incomplete): Uint8Array {
  const { chunks, count, total } = partial;
  if (count === 1) return chunks[0]!;
  const whole = new Uint8Array(total);
  for (let i = 0; i < count; i++) {
    whole.set(chunks[i]!, chunkRange(i, count, total)[0]);
    chunks[i] = undefined;
  }
  return whole;
}
