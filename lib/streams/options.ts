// This module is browser compatible.
/**
 * Options of a {@linkcode StreamMux}, their defaults in one literal, and the shared
 * {@linkcode StreamBudget} that caps concurrent incoming streams across connections.
 *
 * @module
 */
import type { Clock } from "../util/clock.ts";
import type { StreamError } from "./errors.ts";
import type { HashFactory } from "./sha256.ts";
import type { IncomingStream } from "./incoming.ts";

/**
 * Slots a mux takes for its peer's streams (a {@linkcode StreamBudget}, or one address's share of
 * it from {@linkcode StreamBudget.forKey}).
 */
export interface StreamSlots {
  /** The server-wide cap. */
  readonly maxStreams: number;
  /** Takes a slot if one is free. */
  tryAcquire(): boolean;
  /** Gives a slot back. */
  release(): void;
  /** Why the last `tryAcquire` failed (the `stream-limit` reason). */
  readonly refusal?: string;
}

/**
 * A server-wide cap on concurrent incoming streams, shared by every connection's mux, and
 * optionally a cap per key (a client address): one address cannot take every slot.
 */
export class StreamBudget implements StreamSlots {
  /** The cap. */
  readonly maxStreams: number;
  /** The cap per key ({@linkcode forKey}). */
  readonly maxPerKey: number;
  #active = 0;
  readonly #byKey = new Map<string, number>();

  /** A budget of `maxStreams` concurrent streams (default 1024), `maxPerKey` per key (none). */
  constructor(maxStreams: number = 1024, maxPerKey: number = Infinity) {
    if (!(Number.isInteger(maxStreams) && maxStreams > 0)) {
      throw new RangeError(`maxStreams must be a positive integer, got ${maxStreams}`);
    }
    if (!(maxPerKey === Infinity || (Number.isInteger(maxPerKey) && maxPerKey > 0))) {
      throw new RangeError(`maxStreamsPerIp must be a positive integer, got ${maxPerKey}`);
    }
    this.maxStreams = maxStreams;
    this.maxPerKey = maxPerKey;
  }

  /** Streams holding a slot now. */
  get active(): number {
    return this.#active;
  }

  /** Why the last `tryAcquire` failed. */
  get refusal(): string {
    return `over the server's ${this.maxStreams} concurrent streams`;
  }

  /** Takes a slot if one is free. */
  tryAcquire(): boolean {
    if (this.#active >= this.maxStreams) return false;
    this.#active++;
    return true;
  }

  /** Gives a slot back. */
  release(): void {
    this.#active--;
  }

  /** Keys holding a slot now. */
  get keys(): number {
    return this.#byKey.size;
  }

  /**
   * The slots of one key (`null`: not capped per key): each takes a server-wide slot and one of
   * the key's `maxPerKey`. O(1); a key holding none is forgotten.
   */
  forKey(key: string | null): StreamSlots {
    if (key === null || this.maxPerKey === Infinity) return this;
    const byKey = this.#byKey;
    let refusal = "";
    return {
      maxStreams: this.maxStreams,
      get refusal() {
        return refusal;
      },
      tryAcquire: () => {
        const held = byKey.get(key) ?? 0;
        if (held >= this.maxPerKey) {
          refusal = `over ${this.maxPerKey} concurrent streams from one address`;
          return false;
        }
        if (!this.tryAcquire()) {
          refusal = this.refusal;
          return false;
        }
        byKey.set(key, held + 1);
        return true;
      },
      release: () => {
        this.release();
        const held = (byKey.get(key) ?? 1) - 1;
        if (held > 0) byKey.set(key, held);
        else byKey.delete(key);
      },
    };
  }
}

/** Options of a {@linkcode StreamMux}. */
export interface StreamMuxOptions {
  /** Which end: clients open odd stream ids, servers even ones, so ids never collide. */
  side: "client" | "server";
  /**
   * The credit window: a receiver grants credit for (and so holds) at most this many unread bytes
   * per stream.
   * @default {1048576}
   */
  windowBytes?: number;
  /** Largest DATA payload (one frame). @default {65536} */
  frameBytes?: number;
  /** Largest stream, announced or sent; more is `stream-too-large`. @default {1073741824} */
  maxStreamBytes?: number;
  /** Concurrent streams the peer may open on this connection. @default {16} */
  maxIncomingStreams?: number;
  /** Concurrent streams this side may open. @default {16} */
  maxOutgoingStreams?: number;
  /** Longest OPEN metadata, in bytes. @default {16384} */
  maxMetaBytes?: number;
  /** DATA frames are written only while the transport's `bufferedAmount` is below this. @default {262144} */
  highWaterMark?: number;
  /** DATA frames written per turn (round-robin over streams) before yielding. @default {16} */
  sliceFrames?: number;
  /**
   * How often to look at `bufferedAmount` again while it is high and not draining (a slow peer),
   * in ms; while it drains the mux looks again after one event-loop turn. @default {2}
   */
  pollMs?: number;
  /** A stream whose transport dropped fails unless a new one is attached within this. @default {30000} */
  resumeTimeoutMs?: number;
  /**
   * A stream that waits on its peer this long without progress fails with `stream-idle` (0: never).
   * @default {30000}
   */
  idleTimeoutMs?: number;
  /** Progress is reported at most this often. @default {100} */
  progressIntervalMs?: number;
  /** Server-wide cap on concurrent incoming streams (per address too). @default {undefined} (none) */
  budget?: StreamSlots;
  /** The SHA-256 used for integrity. @default {sha256} (native where the runtime has it, else JavaScript) */
  hash?: HashFactory;
  /** Time source for yields, polls, resume timeouts and progress. @default {realClock} */
  clock?: Clock;
  /**
   * A peer opened a stream: call `accept()` (grants the first credit) or `refuse()`. No byte
   * flows before `accept()`. @default {undefined} (every stream is refused)
   */
  onStream?: (stream: IncomingStream) => void;
  /** A bad frame that names no live stream (those fail their stream). @default {undefined} */
  onError?: (error: StreamError) => void;
}

/** The defaults of the numeric {@linkcode StreamMuxOptions}, in one place. */
export const STREAM_DEFAULTS = {
  windowBytes: 1024 * 1024,
  frameBytes: 64 * 1024,
  maxStreamBytes: 1024 * 1024 * 1024,
  maxIncomingStreams: 16,
  maxOutgoingStreams: 16,
  maxMetaBytes: 16 * 1024,
  highWaterMark: 256 * 1024,
  sliceFrames: 16,
  pollMs: 2,
  resumeTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  progressIntervalMs: 100,
} as const;

/** The numeric limits, resolved. */
export type StreamLimits = { -readonly [K in keyof typeof STREAM_DEFAULTS]: number };

/** Resolves and range-checks the numeric options. */
export function resolveStreamLimits(options: StreamMuxOptions): StreamLimits {
  const limits = { ...STREAM_DEFAULTS } as StreamLimits;
  for (const key of Object.keys(STREAM_DEFAULTS) as (keyof StreamLimits)[]) {
    const value = options[key] ?? STREAM_DEFAULTS[key];
    const min = key === "pollMs" || key === "progressIntervalMs" || key === "idleTimeoutMs" ? 0 : 1;
    if (!(Number.isSafeInteger(value) && value >= min)) {
      throw new RangeError(`${key} must be an integer ≥ ${min}, got ${value}`);
    }
    limits[key] = value;
  }
  if (options.side !== "client" && options.side !== "server") {
    throw new RangeError(`side must be "client" or "server", got ${options.side}`);
  }
  return limits;
}
