// This module is browser compatible.
/**
 * Per-message compression with the Web's `CompressionStream`/`DecompressionStream`, carried in
 * binary frames behind a one-byte flag (see `flags.ts`): `0x00` raw, `0x01` gzip (both as Sente
 * 1.21's gzip packer wrapper), `0x02` deflate-raw.
 *
 * Guarantees:
 * - Only frames of at least `threshold` bytes are compressed; a frame whose compressed form is
 *   not smaller is sent raw, so compression never makes a frame larger than one flag byte.
 * - {@linkcode decompress} streams: it stops as soon as the output passes `maxBytes` (throwing
 *   {@linkcode DecompressionBombError}) or its `charge` hook refuses a step (the byte rate), so a
 *   bomb never inflates much beyond the limit in memory; it takes an event-loop turn every
 *   `yieldBytes` so a large inflation does not stall other sockets.
 *
 * @example
 * ```ts
 * import { compressFrame, decodePayload } from "./compression.ts";
 * const frame = JSON.stringify([["app/big", "x".repeat(4096)], null]);
 * const payload = await compressFrame(frame, { format: "deflate-raw" });
 * const body = await decodePayload(payload.flag, payload.body, { maxBytes: 1 << 20 });
 * console.assert(new TextDecoder().decode(body) === frame);
 * ```
 *
 * @module
 */
import { DecompressionBombError, WireError } from "./errors.ts";
import { FLAG_DEFLATE_RAW, FLAG_GZIP, FLAG_RAW, payloadBytes } from "./flags.ts";
import type { Payload } from "./flags.ts";
import { turn } from "./inflation.ts";

/** A compression format both `CompressionStream` and Sente-compatible peers can use. */
export type CompressionFormat = "deflate-raw" | "gzip";

/** Every format, in our order of preference. */
export const COMPRESSION_FORMATS: readonly CompressionFormat[] = ["deflate-raw", "gzip"];

/** Options of {@linkcode compressFrame}. */
export interface CompressFrameOptions {
  /** The format to compress with. @default {"deflate-raw"} */
  format?: CompressionFormat;
  /** Frames smaller than this many bytes are sent raw. @default {512} */
  threshold?: number;
  /** Counts bytes and time when given. */
  stats?: CompressionStats;
}

/** Counters of one compressor or decompressor (one per connection and direction). */
export interface CompressionStats {
  /** Frames compressed (or decompressed). */
  messages: number;
  /** Frames left raw: under the threshold or not smaller once compressed. */
  skipped: number;
  /** Bytes before compression (after decompression), over the compressed frames. */
  bytesBefore: number;
  /** Bytes after compression (before decompression), over the compressed frames. */
  bytesAfter: number;
  /** Milliseconds spent in (de)compression. */
  timeMs: number;
}

/** New zeroed stats. */
export function compressionStats(): CompressionStats {
  return { messages: 0, skipped: 0, bytesBefore: 0, bytesAfter: 0, timeMs: 0 };
}

/** `bytesAfter / bytesBefore` (1 when nothing was compressed): 0.2 means 80 % fewer bytes. */
export function compressionRatio(stats: CompressionStats): number {
  return stats.bytesBefore === 0 ? 1 : stats.bytesAfter / stats.bytesBefore;
}

/** The flag byte of a format. */
export function formatFlag(format: CompressionFormat): number {
  return format === "gzip" ? FLAG_GZIP : FLAG_DEFLATE_RAW;
}

/** The format of a flag byte, or `null` for {@linkcode FLAG_RAW} and unknown flags. */
export function flagFormat(flag: number): CompressionFormat | null {
  return flag === FLAG_GZIP ? "gzip" : flag === FLAG_DEFLATE_RAW ? "deflate-raw" : null;
}

const encoder = new TextEncoder();

/** The bytes of a frame: UTF-8 for text. */
export function frameBytes(frame: string | Uint8Array): Uint8Array {
  return typeof frame === "string" ? encoder.encode(frame) : frame;
}

/** Compresses `bytes` into one buffer. */
export async function compress(bytes: Uint8Array, format: CompressionFormat): Promise<Uint8Array> {
  const stream = new CompressionStream(format);
  const writer = stream.writable.getWriter();
  // Not awaited: the readable side must be drained concurrently or a large input would stall.
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  return await readAll(stream.readable.getReader(), Infinity, () => {});
}

/** Options of {@linkcode decompress}. */
export interface DecompressOptions {
  /** The most bytes the output may have; past it {@linkcode DecompressionBombError}. */
  maxBytes: number;
  /**
   * Told of every inflated step's size, before the step is kept; returning `false` stops the
   * inflation with a {@linkcode WireError} `inflate-rate-limited` (the connection's byte rate
   * is spent). @default {undefined}
   */
  charge?: (bytes: number) => boolean;
  /**
   * Told of every inflated step's size after `charge`; returns milliseconds to pause before the
   * next step (a shared rate, see `InflationLimiter.spend`). @default {undefined}
   */
  pace?: (bytes: number) => number;
  /** Stops the inflation (`decompress-failed`) when aborted, e.g. when the socket closed. */
  signal?: AbortSignal;
  /**
   * An event-loop turn is taken after this many inflated bytes, so one inflation never holds the
   * loop for long. @default {262144}
   */
  yieldBytes?: number;
}

/**
 * Decompresses `bytes`, streaming: the output is checked (and charged) after every step of at most
 * about 1032 × {@linkcode INFLATE_SLICE} bytes and the inflation is aborted as soon as a limit is
 * crossed, so a bomb never inflates much beyond `maxBytes` in memory.
 * @throws {DecompressionBombError} when the output would exceed `maxBytes`.
 * @throws {WireError} `inflate-rate-limited` when `charge` refused a step; `decompress-failed`
 *   when `bytes` is not a valid stream of `format` or `signal` aborted.
 */
export async function decompress(
  bytes: Uint8Array,
  format: CompressionFormat,
  options: DecompressOptions,
): Promise<Uint8Array> {
  const { maxBytes, charge, pace, signal, yieldBytes = 256 * 1024 } = options;
  const stream = new DecompressionStream(format);
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  // Fed in slices: a runtime may inflate a whole written chunk at once (Deno does), so a slice
  // bounds what one step can allocate to about 1032 × INFLATE_SLICE bytes (deflate's top ratio).
  const feeding = (async () => {
    for (let i = 0; i < bytes.byteLength; i += INFLATE_SLICE) {
      await writer.write(bytes.subarray(i, i + INFLATE_SLICE) as Uint8Array<ArrayBuffer>);
    }
    await writer.close();
  })();
  feeding.catch(() => {});
  let sinceTurn = 0;
  try {
    const out = await readAll(reader, maxBytes, () => {
      throw new DecompressionBombError(maxBytes);
    }, async (step) => {
      if (signal?.aborted) throw new Error("aborted");
      if (charge && !charge(step)) {
        throw new WireError(
          "inflate-rate-limited",
          "a compressed frame inflates to more bytes than the connection's byte rate allows",
        );
      }
      sinceTurn += step;
      const wait = pace ? pace(step) : 0;
      if (wait > 0) {
        sinceTurn = 0;
        await new Promise((resolve) => setTimeout(resolve, wait));
        if (signal?.aborted) throw new Error("aborted");
      } else if (sinceTurn >= yieldBytes) {
        sinceTurn = 0;
        await turn();
        if (signal?.aborted) throw new Error("aborted");
      }
    });
    await feeding;
    return out;
  } catch (e) {
    reader.cancel().catch(() => {});
    writer.abort().catch(() => {});
    if (e instanceof WireError) throw e;
    throw new WireError("decompress-failed", `not a valid ${format} stream: ${String(e)}`, {
      cause: e,
    });
  }
}

/**
 * Compressed bytes written to a `DecompressionStream` per step: one step inflates to at most
 * about 1 MiB (deflate's top ratio is about 1032:1).
 */
export const INFLATE_SLICE = 1024;

/**
 * Reads a stream into one buffer; `onLimit` runs (and should throw) once the total passes
 * `maxBytes`, `onStep` (which may throw) sees each step's size before it is kept.
 */
async function readAll(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxBytes: number,
  onLimit: () => void,
  onStep?: (bytes: number) => Promise<void>,
): Promise<Uint8Array> {
  let parts: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.byteLength;
      if (length > maxBytes) onLimit();
      if (onStep) await onStep(value.byteLength);
      parts.push(value);
    }
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.byteLength;
    }
    return out;
  } finally {
    parts = []; // nothing of an aborted inflation stays reachable from this frame
  }
}

/**
 * The payload of one frame: compressed when it has at least `threshold` bytes and compression
 * makes it smaller, raw otherwise.
 */
export async function compressFrame(
  frame: string | Uint8Array,
  options: CompressFrameOptions = {},
): Promise<Payload> {
  const { format = "deflate-raw", threshold = 512, stats } = options;
  const body = frameBytes(frame);
  if (body.byteLength < threshold) {
    if (stats) stats.skipped++;
    return { flag: FLAG_RAW, body };
  }
  const start = performance.now();
  const compressed = await compress(body, format);
  if (stats) stats.timeMs += performance.now() - start;
  if (compressed.byteLength >= body.byteLength) {
    if (stats) stats.skipped++;
    return { flag: FLAG_RAW, body };
  }
  if (stats) {
    stats.messages++;
    stats.bytesBefore += body.byteLength;
    stats.bytesAfter += compressed.byteLength;
  }
  return { flag: formatFlag(format), body: compressed };
}

/**
 * The packed value carried by a payload: the body itself for {@linkcode FLAG_RAW}, the inflated
 * body for the compressed flags.
 * @throws {WireError} `bad-frame` for another flag (or a format not in `accept`),
 *   `decompress-failed`, or {@linkcode DecompressionBombError}.
 */
export async function decodePayload(
  flag: number,
  body: Uint8Array,
  options: DecompressOptions & {
    accept?: readonly CompressionFormat[];
    stats?: CompressionStats;
  },
): Promise<Uint8Array> {
  if (flag === FLAG_RAW) return body;
  const format = flagFormat(flag);
  if (format === null || (options.accept && !options.accept.includes(format))) {
    throw new WireError("bad-frame", `unexpected flag byte 0x${hex(flag)}`);
  }
  const start = performance.now();
  const out = await decompress(body, format, options);
  const { stats } = options;
  if (stats) {
    stats.timeMs += performance.now() - start;
    stats.messages++;
    stats.bytesAfter += body.byteLength;
    stats.bytesBefore += out.byteLength;
  }
  return out;
}

/** Two hex digits. */
export function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

/**
 * A frame sent to many connections (a broadcast): each distinct format and threshold is
 * compressed once, and the same payload bytes go to every recipient.
 */
export class SharedFrame {
  /** The logical (packed) frame. */
  readonly frame: string | Uint8Array;
  /** Compression work done for this frame (once per format and threshold, for all recipients). */
  readonly stats: CompressionStats = compressionStats();
  #payloads = new Map<string, Promise<Payload>>();
  #joined = new WeakMap<Payload, Uint8Array>();
  #bytes: Uint8Array | undefined;

  /** Wraps a packed frame. */
  constructor(frame: string | Uint8Array) {
    this.frame = frame;
  }

  /** The frame's UTF-8 bytes, encoded once. */
  bytes(): Uint8Array {
    return this.#bytes ??= frameBytes(this.frame);
  }

  /** How many distinct compressions were made (1 for a broadcast to like-minded peers). */
  get compressions(): number {
    return this.#payloads.size;
  }

  /** The payload as one frame (flag, then body), joined once for every recipient. */
  joined(payload: Payload): Uint8Array {
    let bytes = this.#joined.get(payload);
    if (!bytes) this.#joined.set(payload, bytes = payloadBytes(payload));
    return bytes;
  }

  /** The payload for `format` and `threshold`, compressed on first use. */
  payload(format: CompressionFormat, threshold: number): Promise<Payload> {
    const key = `${format}:${threshold}`;
    let p = this.#payloads.get(key);
    if (!p) {
      p = compressFrame(this.bytes(), { format, threshold, stats: this.stats });
      this.#payloads.set(key, p);
    }
    return p;
  }
}
