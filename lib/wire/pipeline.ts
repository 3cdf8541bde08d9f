// This module is browser compatible.
/**
 * The frame pipeline of one connection: outbound `packed frame → [compress] → [chunk] → frames`,
 * inbound the reverse, as negotiated in {@linkcode WireSettings}. With nothing negotiated both
 * directions pass frames through untouched.
 *
 * {@linkcode WireSender} guarantees:
 * - Two lanes: *control* (messages that fit in one frame) and *bulk* (messages that are chunked).
 *   Within a lane, messages leave in send order; a control message may overtake a bulk one, so a
 *   small message never waits behind a large transfer (no head-of-line blocking).
 * - Control frames are handed to the socket as soon as they are encoded. Bulk chunks are made
 *   lazily, `bulkSliceChunks` per turn, and only while the socket's `bufferedAmount` is below
 *   `bulkHighWaterMark`; between turns the sender yields to the event loop. A small message thus
 *   waits behind at most `bulkHighWaterMark` plus one slice of bulk bytes.
 * - A large message is held once (its flagged payload); chunk frames are made as they are sent.
 *   {@linkcode WireSender.sendShared} reuses one compression across recipients.
 *
 * {@linkcode WireReceiver} guarantees:
 * - Logical frames are delivered in the order their last frame arrived, even when an earlier one
 *   is still being decompressed.
 * - Against compression amplification: a single frame inflates to `maxMessageBytes` at most, a
 *   chunked one to `maxAssembledBytes`; a connection inflates one message at a time (at most
 *   `maxQueuedInflations` wait), within a slot of the shared `inflation` limiter; every inflation
 *   step is charged through `handlers.charge` and the inflation stops as soon as a limit is
 *   crossed; a close aborts the inflation in progress.
 * - Every bad input ends in exactly one `error` call with a {@linkcode WireError}; nothing throws
 *   out of `receive`.
 *
 * @example
 * ```ts
 * import { WireReceiver, WireSender } from "./pipeline.ts";
 * const settings = { batching: false, compression: "deflate-raw" as const, chunking: true };
 * const got: unknown[] = [];
 * const receiver = new WireReceiver(settings, { frame: (f) => got.push(f), error: console.error });
 * const sender = new WireSender(settings, { send: (f) => receiver.receive(f), bufferedAmount: 0 });
 * sender.send(JSON.stringify([["app/big", "y".repeat(200_000)], null]));
 * await sender.idle();
 * await receiver.idle();
 * console.assert(got.length === 1);
 * ```
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
import { realClock } from "../util/clock.ts";
import { utf8ByteLength } from "../util/utf8.ts";
import { usesFlags } from "./capabilities.ts";
import type { WireSettings } from "./capabilities.ts";
import {
  chunkCount,
  encodeChunk,
  MAX_MESSAGE_ID,
  Reassembler,
  zeroReassemblyStats,
} from "./chunking.ts";
import type { ReassemblySlots, ReassemblyStats } from "./chunking.ts";
import {
  compressFrame,
  compressionStats,
  decodePayload,
  frameBytes,
  hex,
  SharedFrame,
} from "./compression.ts";
import type { CompressionStats } from "./compression.ts";
import type { InflationLimiter } from "./inflation.ts";
import { WireError } from "./errors.ts";
import { FLAG_CHUNK, FLAG_DEFLATE_RAW, FLAG_GZIP, FLAG_RAW, payloadBytes } from "./flags.ts";
import type { Payload } from "./flags.ts";

/** The socket a {@linkcode WireSender} writes to (a browser `WebSocket` or the Hub's socket). */
export interface WireSocket {
  /** Sends one frame: text for strings, binary for bytes. */
  send(frame: Frame): void;
  /** Bytes queued and not yet written to the network. */
  readonly bufferedAmount: number;
}

/** Options of the pipeline, for both directions. Limits must match on both peers. */
export interface WireOptions {
  /** Frames of at least this many bytes are compressed. @default {512} */
  compressThreshold?: number;
  /** Payloads larger than this are chunked; the largest chunk body. @default {65536} */
  chunkSize?: number;
  /** Most chunks per message (64 MiB at the default chunk size). @default {1000} */
  maxChunks?: number;
  /** Largest chunked message (reassembled, then inflated), in bytes. @default {67108864} */
  maxAssembledBytes?: number;
  /**
   * Largest message in one (not chunked) frame once inflated, in bytes; the Hub passes its
   * `maxMessageBytes`. The sender chunks a larger message (when chunking is on) even if it
   * compresses below `chunkSize`, so the peer's receiver accepts it. @default {1048576}
   */
  maxMessageBytes?: number;
  /**
   * Compressed messages of one connection waiting to be inflated (one inflates at a time); one
   * more is a fatal `inflate-backlog` (close 4029). @default {32}
   */
  maxQueuedInflations?: number;
  /**
   * Bounds concurrent inflations across the connections sharing it (the Hub passes one; set it
   * with the server's `wire.maxConcurrentInflations`).
   * @default {undefined} (no shared bound: each connection inflates one message at a time)
   * @ignore
   */
  inflation?: InflationLimiter;
  /** An incomplete chunked message with no chunk for this long is dropped. @default {30000} */
  reassemblyTimeoutMs?: number;
  /**
   * Announced bytes of incomplete chunked messages per connection; a new message past it is
   * refused (`reassembly-busy`). @default {67108864}
   */
  maxBufferedBytes?: number;
  /** Incomplete chunked messages at once per connection; more are refused. @default {4} */
  maxPendingMessages?: number;
  /**
   * Slowest chunked transfer accepted, in bytes per second: `t` ms after its first chunk a message
   * must have received `(t − reassemblyGraceMs) × reassemblyMinRate / 1000` bytes, else it is
   * dropped (`chunk-timeout`). @default {65536}
   */
  reassemblyMinRate?: number;
  /** How long a chunked message may lag before `reassemblyMinRate` applies. @default {5000} */
  reassemblyGraceMs?: number;
  /**
   * The server-wide bound on bytes reserved for reassembly (the Hub passes one; set it with the
   * server's `wire.totalReassemblyBytes`).
   * @default {undefined} (none)
   * @ignore
   */
  budget?: ReassemblySlots;
  /** Bulk chunks are sent only while `bufferedAmount` is below this. @default {262144} */
  bulkHighWaterMark?: number;
  /** Bulk chunks sent per turn before yielding to the event loop. @default {8} */
  bulkSliceChunks?: number;
  /** How often to look at `bufferedAmount` again while it is high, in ms. @default {2} */
  pollMs?: number;
  /**
   * Send small text frames as binary `0x00` frames too, as Sente's gzip packer wrapper does (for a
   * Sente peer that negotiated gzip). @default {false}
   */
  rawAsBinary?: boolean;
  /** Time source for yields, polls and reassembly timeouts. @default {realClock} */
  clock?: Clock;
  /** Told when an outbound message is dropped (too many chunks). @default {undefined} */
  onSendError?: (error: Error) => void;
}

/** The defaults of {@linkcode WireOptions}, in one place. */
export const WIRE_DEFAULTS = {
  compressThreshold: 512,
  chunkSize: 65536,
  maxChunks: 1000,
  maxAssembledBytes: 64 * 1024 * 1024,
  maxMessageBytes: 1024 * 1024,
  maxQueuedInflations: 32,
  reassemblyTimeoutMs: 30_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxPendingMessages: 4,
  reassemblyMinRate: 64 * 1024,
  reassemblyGraceMs: 5_000,
  bulkHighWaterMark: 256 * 1024,
  bulkSliceChunks: 8,
  pollMs: 2,
} as const;

type Limits = { -readonly [K in keyof typeof WIRE_DEFAULTS]: number };

function resolveLimits(options: WireOptions): Limits {
  const limits = { ...WIRE_DEFAULTS } as Limits;
  for (const key of Object.keys(WIRE_DEFAULTS) as (keyof Limits)[]) {
    const value = options[key] ?? WIRE_DEFAULTS[key];
    const min = key === "compressThreshold" || key === "pollMs" ? 0 : 1;
    if (!(Number.isInteger(value) && value >= min)) {
      throw new RangeError(`${key} must be an integer ≥ ${min}, got ${value}`);
    }
    limits[key] = value;
  }
  return limits;
}

/** Counters of a {@linkcode WireSender}. */
export interface WireSenderStats {
  /** Logical frames sent. */
  messages: number;
  /** WebSocket frames handed to the socket. */
  frames: number;
  /** Bytes of the logical frames. */
  bytesIn: number;
  /** Bytes handed to the socket. */
  bytesOut: number;
  /** Messages sent in chunks. */
  chunkedMessages: number;
  /** Chunk frames sent. */
  chunks: number;
  /** Messages dropped (too large to chunk, or still queued at close). */
  dropped: number;
  /** Messages waiting now (both lanes). */
  queued: number;
  /** Compression done for this connection (a shared frame's is in `SharedFrame.stats`). */
  compression: CompressionStats;
}

interface Entry {
  ready: boolean;
  /** The original frame, sent as is when it stays small and raw. */
  original: Frame | SharedFrame;
  /** A whole frame to send. */
  frame?: Frame;
  /** A payload to send in chunks. */
  payload?: Payload;
  /** Over `maxMessageBytes` before compression: always chunked, so the peer's limit holds. */
  large: boolean;
  id: number;
  count: number;
  next: number;
}

/** The outbound half of a connection's pipeline. See the module doc for guarantees. */
export class WireSender {
  /** The negotiated settings. */
  readonly settings: WireSettings;
  readonly #socket: WireSocket;
  readonly #limits: Limits;
  readonly #clock: Clock;
  readonly #rawAsBinary: boolean;
  readonly #onSendError: ((error: Error) => void) | undefined;
  readonly #flags: boolean;
  readonly #control: Entry[] = [];
  readonly #bulk: Entry[] = [];
  #nextId = 0;
  #pumping = false;
  #timer: TimerHandle | undefined;
  #closed = false;
  #idle: (() => void)[] = [];
  #stats = {
    messages: 0,
    frames: 0,
    bytesIn: 0,
    bytesOut: 0,
    chunkedMessages: 0,
    chunks: 0,
    dropped: 0,
  };
  #compression = compressionStats();

  /** Makes the sender of one connection. */
  constructor(settings: WireSettings, socket: WireSocket, options: WireOptions = {}) {
    this.settings = settings;
    this.#socket = socket;
    this.#limits = resolveLimits(options);
    this.#clock = options.clock ?? realClock;
    this.#rawAsBinary = options.rawAsBinary ?? false;
    this.#onSendError = options.onSendError;
    this.#flags = usesFlags(settings);
  }

  /** Sends one packed frame; returns `false` once closed. */
  send(frame: Frame): boolean {
    return this.#enqueue(frame);
  }

  /** Sends a frame shared with other connections, reusing its compression. */
  sendShared(shared: SharedFrame): boolean {
    return this.#enqueue(shared);
  }

  #enqueue(original: Frame | SharedFrame): boolean {
    if (this.#closed) return false;
    const frame = original instanceof SharedFrame ? original.frame : original;
    this.#stats.messages++;
    if (!this.#flags) {
      const bytes = typeof frame === "string" ? utf8ByteLength(frame) : frame.byteLength;
      this.#stats.bytesIn += bytes;
      this.#write(frame, bytes);
      return true;
    }
    const size = original instanceof SharedFrame
      ? original.bytes().byteLength
      : typeof frame === "string"
      ? utf8ByteLength(frame)
      : frame.byteLength;
    this.#stats.bytesIn += size;
    const { chunkSize, compressThreshold } = this.#limits;
    const bulk = this.settings.chunking && size + 1 > chunkSize;
    const large = size > this.#limits.maxMessageBytes;
    const entry: Entry = { ready: false, original, large, id: 0, count: 0, next: 0 };
    (bulk ? this.#bulk : this.#control).push(entry);
    const format = this.settings.compression;
    if (format !== null && size >= compressThreshold) {
      const pending = original instanceof SharedFrame
        ? original.payload(format, compressThreshold).then((p) => {
          if (p.flag !== FLAG_RAW) {
            this.#compression.messages++;
            this.#compression.bytesBefore += size;
            this.#compression.bytesAfter += p.body.byteLength;
          } else this.#compression.skipped++;
          return p;
        })
        : compressFrame(frame, {
          format,
          threshold: compressThreshold,
          stats: this.#compression,
        });
      pending.then(
        (payload) => this.#prepare(entry, payload),
        () => this.#prepare(entry, { flag: FLAG_RAW, body: frameBytes(frame) }),
      );
    } else {
      if (format !== null) this.#compression.skipped++;
      this.#prepare(entry, null);
    }
    return true;
  }

  /** Makes an entry ready: a whole frame, or a payload to chunk. `null` means "raw as it came". */
  #prepare(entry: Entry, payload: Payload | null): void {
    if (this.#closed) return;
    const original = entry.original instanceof SharedFrame ? entry.original.frame : entry.original;
    const raw = payload === null || payload.flag === FLAG_RAW;
    const length = payload ? payload.body.byteLength + 1 : frameBytesLength(original) + 1;
    if (this.settings.chunking && (entry.large || length > this.#limits.chunkSize)) {
      const p = payload ?? { flag: FLAG_RAW, body: frameBytesOf(entry.original) };
      const count = chunkCount(length, this.#limits.chunkSize);
      if (count > this.#limits.maxChunks) {
        this.#remove(entry);
        this.#stats.dropped++;
        this.#onSendError?.(
          new RangeError(
            `a message of ${length} bytes needs ${count} chunks, over maxChunks ${this.#limits.maxChunks}`,
          ),
        );
        this.#pump();
        return;
      }
      entry.payload = p;
      entry.count = count;
      entry.id = this.#nextId;
      this.#nextId = this.#nextId === MAX_MESSAGE_ID ? 0 : this.#nextId + 1;
    } else if (raw && typeof original === "string" && !this.#rawAsBinary) {
      entry.frame = original;
    } else {
      const p = payload ?? { flag: FLAG_RAW, body: frameBytesOf(entry.original) };
      entry.frame = entry.original instanceof SharedFrame && payload
        ? entry.original.joined(p)
        : payloadBytes(p);
    }
    entry.ready = true;
    this.#pump();
  }

  #remove(entry: Entry): void {
    for (const lane of [this.#control, this.#bulk]) {
      const i = lane.indexOf(entry);
      if (i >= 0) lane.splice(i, 1);
    }
  }

  #write(frame: Frame, bytes: number): void {
    this.#socket.send(frame);
    this.#stats.frames++;
    this.#stats.bytesOut += bytes;
  }

  #writeWhole(frame: Frame): void {
    this.#write(frame, typeof frame === "string" ? utf8ByteLength(frame) : frame.byteLength);
  }

  #pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      this.#drain();
    } finally {
      this.#pumping = false;
    }
    if (this.#control.length === 0 && this.#bulk.length === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  #drain(): void {
    const control = this.#control;
    const bulk = this.#bulk;
    while (control.length > 0 && control[0].ready) {
      const entry = control.shift()!;
      if (entry.frame !== undefined) this.#writeWhole(entry.frame);
      else this.#writeChunks(entry, Infinity); // compressed small, but still over one chunk
    }
    let budget = this.#limits.bulkSliceChunks;
    while (bulk.length > 0 && bulk[0].ready) {
      const entry = bulk[0];
      if (entry.frame !== undefined) {
        bulk.shift();
        this.#writeWhole(entry.frame);
        continue;
      }
      if (this.#socket.bufferedAmount >= this.#limits.bulkHighWaterMark) {
        this.#schedule(this.#limits.pollMs);
        return;
      }
      if (budget === 0) {
        this.#schedule(0);
        return;
      }
      budget = this.#writeChunks(entry, budget);
      if (entry.next === entry.count) bulk.shift();
    }
  }

  /** Writes up to `budget` chunks of `entry`; returns the budget left. */
  #writeChunks(entry: Entry, budget: number): number {
    const payload = entry.payload!;
    if (entry.next === 0) this.#stats.chunkedMessages++;
    while (budget > 0 && entry.next < entry.count) {
      const chunk = encodeChunk(payload, entry.id, entry.next++, entry.count);
      this.#write(chunk, chunk.byteLength);
      this.#stats.chunks++;
      budget--;
      if (this.#socket.bufferedAmount >= this.#limits.bulkHighWaterMark && budget !== Infinity) {
        break;
      }
    }
    if (entry.next === entry.count) entry.payload = undefined;
    return budget;
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, ms);
  }

  /** Resolves once nothing waits in either lane. */
  idle(): Promise<void> {
    if (this.#control.length === 0 && this.#bulk.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** A snapshot of the counters. */
  stats(): WireSenderStats {
    return {
      ...this.#stats,
      queued: this.#control.length + this.#bulk.length,
      compression: { ...this.#compression },
    };
  }

  /** Stops sending; what still waits is dropped and counted. Returns how many were dropped. */
  close(): number {
    if (this.#closed) return 0;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    const dropped = this.#control.length + this.#bulk.length;
    this.#stats.dropped += dropped;
    this.#control.length = 0;
    this.#bulk.length = 0;
    for (const resolve of this.#idle.splice(0)) resolve();
    return dropped;
  }
}

function frameBytesLength(frame: Frame): number {
  return typeof frame === "string" ? utf8ByteLength(frame) : frame.byteLength;
}

function frameBytesOf(original: Frame | SharedFrame): Uint8Array {
  return original instanceof SharedFrame ? original.bytes() : frameBytes(original);
}

/** What a {@linkcode WireReceiver} hands on. */
export interface WireHandlers {
  /** One logical frame, ready for the packer (text, or UTF-8/packer bytes). */
  frame(frame: Frame): void;
  /** A bad frame or a dropped message; fatal errors must close the connection. */
  error(error: WireError): void;
  /**
   * Charges inflated bytes (every inflation step) to the connection's byte rate; returns `false`
   * when it is in debt. Asked with 0 before a message inflates: `false` refuses the message with a
   * non-fatal `inflate-rate-limited` error, uninflated. Later steps are charged whatever it
   * returns. @default {undefined} (no rate)
   */
  charge?(bytes: number): boolean;
}

/** Counters of a {@linkcode WireReceiver}. */
export interface WireReceiverStats {
  /** WebSocket frames received. */
  frames: number;
  /** Bytes received. */
  bytesIn: number;
  /** Logical frames delivered. */
  messages: number;
  /** Errors reported. */
  errors: number;
  /** Decompression done. */
  compression: CompressionStats;
  /** Compressed messages waiting to be inflated now (including the one inflating). */
  queuedInflations: number;
  /** Reassembly of chunked messages. */
  reassembly: ReassemblyStats;
}

interface Slot {
  done: boolean;
  frame?: Frame;
  error?: WireError;
  /** A compressed payload waiting to be inflated (dropped once inflated). */
  inflate?: { flag: number; body: Uint8Array; maxBytes: number };
}

/** The inbound half of a connection's pipeline. See the module doc for guarantees. */
export class WireReceiver {
  /** The negotiated settings. */
  readonly settings: WireSettings;
  readonly #handlers: WireHandlers;
  readonly #limits: Limits;
  readonly #reassembler: Reassembler | undefined;
  readonly #flags: boolean;
  readonly #slots: Slot[] = [];
  /** Slots waiting to be inflated, oldest first; the first one may be inflating. */
  readonly #inflateQueue: Slot[] = [];
  readonly #inflation: InflationLimiter | undefined;
  readonly #abort = new AbortController();
  #inflating = false;
  #idle: (() => void)[] = [];
  #closed = false;
  #stats = { frames: 0, bytesIn: 0, messages: 0, errors: 0 };
  #compression = compressionStats();

  /** Makes the receiver of one connection. */
  constructor(settings: WireSettings, handlers: WireHandlers, options: WireOptions = {}) {
    this.settings = settings;
    this.#handlers = handlers;
    this.#limits = resolveLimits(options);
    this.#flags = usesFlags(settings);
    this.#inflation = options.inflation;
    if (settings.chunking) {
      this.#reassembler = new Reassembler({
        maxChunks: this.#limits.maxChunks,
        maxAssembledBytes: this.#limits.maxAssembledBytes,
        maxBufferedBytes: this.#limits.maxBufferedBytes,
        maxPendingMessages: this.#limits.maxPendingMessages,
        timeoutMs: this.#limits.reassemblyTimeoutMs,
        minRate: this.#limits.reassemblyMinRate,
        graceMs: this.#limits.reassemblyGraceMs,
        budget: options.budget,
        clock: options.clock,
        onDrop: (e) => this.#error(e),
      });
    }
  }

  /** Takes one WebSocket frame. Never throws: problems go to `handlers.error`. */
  receive(frame: Frame): void {
    if (this.#closed) return;
    this.#stats.frames++;
    this.#stats.bytesIn += typeof frame === "string" ? utf8ByteLength(frame) : frame.byteLength;
    if (!this.#flags || typeof frame === "string") return this.#deliver(frame);
    if (frame.byteLength === 0) {
      return this.#error(new WireError("bad-frame", "an empty binary frame carries no flag"));
    }
    let flag = frame[0];
    let body = frame.subarray(1);
    // One frame inflates to maxMessageBytes at most; only a chunked transfer (whose total was
    // announced and checked) may inflate up to maxAssembledBytes.
    let maxBytes = this.#limits.maxMessageBytes;
    if (flag === FLAG_CHUNK) {
      maxBytes = this.#limits.maxAssembledBytes;
      if (!this.#reassembler) {
        return this.#error(new WireError("bad-frame", "a chunk frame, but chunking is off"));
      }
      let whole: Uint8Array | null;
      try {
        whole = this.#reassembler.accept(frame);
      } catch (e) {
        return this.#error(e as WireError);
      }
      if (whole === null) return;
      flag = whole[0];
      body = whole.subarray(1);
      if (flag === FLAG_CHUNK) {
        return this.#error(new WireError("bad-frame", "a reassembled payload is a chunk again"));
      }
    }
    if (flag === FLAG_RAW) return this.#deliver(body);
    if ((flag !== FLAG_GZIP && flag !== FLAG_DEFLATE_RAW) || this.settings.compression === null) {
      return this.#error(
        new WireError(
          "bad-frame",
          `unexpected flag byte 0x${hex(flag)}${
            this.settings.compression === null ? " (compression is off)" : ""
          }`,
        ),
      );
    }
    if (this.#inflateQueue.length >= this.#limits.maxQueuedInflations) {
      return this.#error(
        new WireError(
          "inflate-backlog",
          `over ${this.#limits.maxQueuedInflations} compressed messages wait to be inflated`,
        ),
      );
    }
    const slot: Slot = { done: false, inflate: { flag, body, maxBytes } };
    this.#slots.push(slot);
    this.#inflateQueue.push(slot);
    this.#inflateNext().catch((e) => this.#error(new WireError("decompress-failed", String(e))));
  }

  /** Inflates queued payloads one at a time, each within a slot of the shared limiter. */
  async #inflateNext(): Promise<void> {
    if (this.#inflating) return;
    this.#inflating = true;
    try {
      while (!this.#closed && this.#inflateQueue.length > 0) {
        const slot = this.#inflateQueue[0];
        const release = this.#inflation ? await this.#inflation.acquire() : null;
        try {
          if (this.#closed) break;
          const { flag, body, maxBytes } = slot.inflate!;
          slot.inflate = undefined;
          const charge = this.#handlers.charge?.bind(this.#handlers);
          if (flag !== FLAG_RAW && charge && !charge(0)) {
            throw new WireError(
              "inflate-rate-limited",
              "the byte rate is spent: a compressed message waits until it is paid back",
            );
          }
          slot.frame = await decodePayload(flag, body, {
            maxBytes,
            stats: this.#compression,
            // Into debt: a message that started inflating completes (bounded by maxBytes).
            charge: charge && ((n) => (charge(n), true)),
            pace: this.#inflation && ((n) => this.#inflation!.spend(n)),
            signal: this.#abort.signal,
          });
        } catch (e) {
          slot.error = e instanceof WireError
            ? e
            : new WireError("decompress-failed", String(e), { cause: e });
        } finally {
          release?.();
        }
        this.#inflateQueue.shift();
        slot.done = true;
        this.#flush();
      }
    } finally {
      this.#inflating = false;
    }
  }

  #deliver(frame: Frame): void {
    if (this.#slots.length === 0) {
      this.#stats.messages++;
      this.#handlers.frame(frame);
    } else {
      this.#slots.push({ done: true, frame });
    }
  }

  #error(error: WireError): void {
    this.#stats.errors++;
    this.#handlers.error(error);
  }

  #flush(): void {
    while (this.#slots.length > 0 && this.#slots[0].done) {
      const slot = this.#slots.shift()!;
      if (this.#closed) continue;
      if (slot.error) this.#error(slot.error);
      else {
        this.#stats.messages++;
        this.#handlers.frame(slot.frame!);
      }
    }
    if (this.#slots.length === 0) { for (const resolve of this.#idle.splice(0)) resolve(); }
  }

  /** Resolves once no frame is being decompressed or waiting for an earlier one. */
  idle(): Promise<void> {
    if (this.#slots.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** A snapshot of the counters. */
  stats(): WireReceiverStats {
    return {
      ...this.#stats,
      compression: { ...this.#compression },
      queuedInflations: this.#inflateQueue.length,
      reassembly: this.#reassembler?.stats() ?? zeroReassemblyStats(),
    };
  }

  /** Drops incomplete messages and frames in flight; later frames are ignored. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#reassembler?.close();
    this.#slots.length = 0;
    this.#inflateQueue.length = 0;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
