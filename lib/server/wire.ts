/**
 * A connection's wire transforms (batching, compression, chunking), as negotiated in the
 * upgrade's `wire` parameter: server options, negotiation and the per-connection pipeline.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import type { Event } from "../protocol/event.ts";
import type { Clock } from "../util/clock.ts";
import { Batcher, type BatcherOptions } from "../wire/batcher.ts";
import type { ReassemblySlots } from "../wire/chunking.ts";
import type { InflationLimiter } from "../wire/inflation.ts";
import { COMPRESSION_FORMATS, type CompressionFormat } from "../wire/compression.ts";
import {
  negotiate,
  PLAIN,
  usesFlags,
  type WireFeatures,
  type WireSettings,
} from "../wire/capabilities.ts";
import type { WireError } from "../wire/errors.ts";
import { WIRE_DEFAULTS, type WireOptions, WireReceiver, WireSender } from "../wire/pipeline.ts";

/** What the server offers; each feature is used only when a client asks for it. */
export interface WireServerOptions extends Omit<WireOptions, "maxMessageBytes" | "inflation"> {
  /**
   * Batch server→client pushes for clients that asked (Sente's batched-push shape).
   * @default {true}
   */
  batching?: boolean;
  /**
   * Compression formats offered, best first; `false` for none.
   * @default {["deflate-raw", "gzip"]}
   */
  compression?: readonly CompressionFormat[] | false;
  /**
   * Split large messages into chunks for clients that asked.
   * @default {true}
   */
  chunking?: boolean;
  /**
   * Bytes reserved for incomplete chunked messages across all connections. A new message reserves
   * its announced size and is admitted only if that fits in what is left; otherwise it is refused
   * with `reassembly-busy`. An admitted message is never evicted.
   * @default {268435456}
   */
  totalReassemblyBytes?: number;
  /**
   * Bytes one client address (IPv6: its /64) may reserve of `totalReassemblyBytes` with all its
   * connections together; a new message past it is refused with `reassembly-busy` ("from one
   * address"), so one address cannot hold the whole budget. At least `maxAssembledBytes`.
   * @default {67108864}
   */
  maxReassemblyBytesPerIp?: number;
  /**
   * Compressed messages being inflated at once, across all connections (others wait their turn):
   * bounds the memory and event-loop time decompression can take.
   * @default {2}
   */
  maxConcurrentInflations?: number;
  /**
   * Inflated bytes per second across all connections (bursts of an eighth); past it inflations
   * pause, so decompression cannot take the whole event loop. `0` for no rate.
   * @default {67108864}
   */
  inflateBytesPerSecond?: number;
  /**
   * When a batch of pushes is flushed.
   * @default {maxCount: 10, maxBytes: 4096, intervalMs: 10, idleMs: 1}
   */
  batch?: Omit<BatcherOptions<Event>, "clock" | "sizeOf">;
}

/** The server's features from its options (`false` turns everything off). */
export function serverFeatures(options: WireServerOptions | false): WireFeatures {
  if (options === false) return { batching: false, compression: false, chunking: false };
  return {
    batching: options.batching ?? true,
    compression: options.compression ?? COMPRESSION_FORMATS,
    chunking: options.chunking ?? true,
  };
}

/** The settings of one connection; plain unless the client sent a `wire` offer. */
export function negotiateWire(
  options: WireServerOptions | false,
  offer: string | null,
): WireSettings {
  return offer === null || options === false ? PLAIN : negotiate(serverFeatures(options), offer);
}

/** The limits a server announces for `options`. */
export function wireLimits(options: WireServerOptions | false): {
  compressThreshold: number;
  chunkSize: number;
  maxChunks: number;
  maxAssembledBytes: number;
} {
  const o = options || {};
  return {
    compressThreshold: o.compressThreshold ?? WIRE_DEFAULTS.compressThreshold,
    chunkSize: o.chunkSize ?? WIRE_DEFAULTS.chunkSize,
    maxChunks: o.maxChunks ?? WIRE_DEFAULTS.maxChunks,
    maxAssembledBytes: o.maxAssembledBytes ?? WIRE_DEFAULTS.maxAssembledBytes,
  };
}

/** The default of `wire.maxReassemblyBytesPerIp`: a quarter of the default total. */
export const DEFAULT_REASSEMBLY_BYTES_PER_IP = 64 * 1024 * 1024;

/**
 * `wire.maxReassemblyBytesPerIp` of `options`, checked: a positive integer of at least
 * `maxAssembledBytes` (else the largest message could never start); by default 64 MiB, or
 * `maxAssembledBytes` when that is larger.
 * @throws {RangeError} on a bad value.
 */
export function reassemblyBytesPerIp(options: WireServerOptions): number {
  const { maxAssembledBytes } = wireLimits(options);
  const value = options.maxReassemblyBytesPerIp;
  if (value === undefined) return Math.max(DEFAULT_REASSEMBLY_BYTES_PER_IP, maxAssembledBytes);
  if (!(Number.isInteger(value) && value >= maxAssembledBytes)) {
    throw new RangeError(
      `wire.maxReassemblyBytesPerIp must be an integer of at least maxAssembledBytes (${maxAssembledBytes}), got ${value}`,
    );
  }
  return value;
}

/** Wire transform counters of a server (open and closed connections together). */
export interface WireTotals {
  /** Pushes that went out in batches. */
  batchedMessages: number;
  /** Batch frames sent. */
  batchFrames: number;
  /** Frames compressed on the way out. */
  compressedOut: number;
  /** Their bytes before compression. */
  compressBytesBefore: number;
  /** Their bytes after compression. */
  compressBytesAfter: number;
  /** Frames decompressed on the way in. */
  decompressedIn: number;
  /** Messages sent in chunks. */
  chunkedMessagesOut: number;
  /** Chunk frames sent. */
  chunksOut: number;
  /** Chunked messages reassembled. */
  reassembledIn: number;
  /** Chunk frames received. */
  chunksIn: number;
  /** Server-wide bound on concurrent inflations (`maxConcurrentInflations`; 0: no compression). */
  inflateBound: number;
  /** The most inflations that ever ran at once: never above `inflateBound`. */
  inflatePeak: number;
  /** The most inflations that ever waited for a slot at once. */
  inflateWaitingPeak: number;
  /** Inflations started (compressed messages and chunked compressed payloads). */
  inflations: number;
  /** Bytes inflated. */
  inflatedBytes: number;
  /** Milliseconds inflations paused to keep to `inflateBytesPerSecond` (summed). */
  inflateThrottledMs: number;
}

/** All-zero {@linkcode WireTotals}. */
export function emptyWireTotals(): WireTotals {
  return {
    batchedMessages: 0,
    batchFrames: 0,
    compressedOut: 0,
    compressBytesBefore: 0,
    compressBytesAfter: 0,
    decompressedIn: 0,
    chunkedMessagesOut: 0,
    chunksOut: 0,
    reassembledIn: 0,
    chunksIn: 0,
    inflateBound: 0,
    inflatePeak: 0,
    inflateWaitingPeak: 0,
    inflations: 0,
    inflatedBytes: 0,
    inflateThrottledMs: 0,
  };
}

/** The pipeline of one connection. */
export class ConnectionWire {
  /** The outbound transforms (compress, chunk, interleave). */
  readonly sender: WireSender | null;
  /** The inbound transforms (decompress, reassemble). */
  readonly receiver: WireReceiver | null;
  /** Batches pushes, when negotiated. */
  readonly batcher: Batcher<Event> | null;

  /** Builds the pipeline for `settings`. */
  constructor(
    readonly settings: WireSettings,
    options: WireServerOptions | false,
    io: {
      socket: { send(frame: Frame): void; readonly bufferedAmount: number };
      frame(frame: Frame): void;
      error(error: WireError): void;
      flushPushes(events: Event[]): void;
      clock: Clock;
      budget: ReassemblySlots | undefined;
      inflation: InflationLimiter | undefined;
      /** The server's `maxMessageBytes`: the most one inflated frame may hold. */
      maxMessageBytes: number;
      /** Charges inflated bytes to the connection's byte rate (`false`: over the rate). */
      charge(bytes: number): boolean;
    },
  ) {
    const o: WireOptions = {
      ...(options || {}),
      clock: io.clock,
      budget: io.budget,
      inflation: io.inflation,
      maxMessageBytes: io.maxMessageBytes,
    };
    const flags = usesFlags(settings);
    // The client's one-frame limit is not announced: chunk what a client with the default
    // limit would refuse as one frame.
    const sendLimit = Math.min(io.maxMessageBytes, WIRE_DEFAULTS.maxMessageBytes);
    this.sender = flags
      ? new WireSender(settings, io.socket, { ...o, maxMessageBytes: sendLimit })
      : null;
    this.receiver = flags
      ? new WireReceiver(settings, { frame: io.frame, error: io.error, charge: io.charge }, o)
      : null;
    this.batcher = settings.batching
      ? new Batcher<Event>((events) => io.flushPushes(events), {
        ...(options ? options.batch : undefined),
        clock: io.clock,
      })
      : null;
  }

  /** Adds this connection's counters to `totals`. */
  addTo(totals: WireTotals): void {
    if (this.batcher) {
      const b = this.batcher.stats();
      totals.batchedMessages += b.messages;
      totals.batchFrames += b.frames;
    }
    if (this.sender) {
      const out = this.sender.stats();
      totals.compressedOut += out.compression.messages;
      totals.compressBytesBefore += out.compression.bytesBefore;
      totals.compressBytesAfter += out.compression.bytesAfter;
      totals.chunkedMessagesOut += out.chunkedMessages;
      totals.chunksOut += out.chunks;
    }
    if (this.receiver) {
      const inbound = this.receiver.stats();
      totals.decompressedIn += inbound.compression.messages;
      totals.reassembledIn += inbound.reassembly.messages;
      totals.chunksIn += inbound.reassembly.chunks;
    }
  }

  /** Stops everything; queued output is dropped. */
  close(): void {
    this.batcher?.close();
    this.sender?.close();
    this.receiver?.close();
  }
}
