/**
 * Backpressure: what happens when a client does not read as fast as the server sends.
 *
 * Every frame first checks the socket's `bufferedAmount` (bytes the runtime holds for the
 * network). Below `maxBufferedBytes` it is written at once. Above it the policy decides:
 * - `"close"`: the connection is closed with 1013 ("try again later"): the client reconnects
 *   with backoff, and nothing grows without bound.
 * - `"drop-oldest"`: frames wait in a bounded queue of `maxQueuedBytes`; when it overflows the
 *   oldest are dropped, and once the socket drains the client first gets a
 *   `sente-lite/gap {"dropped": n}` event, then the queued frames in order.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";

/** Bytes sent between two looks at `bufferedAmount`. */
const CHECK_EVERY_BYTES = 64 * 1024;

/** The close code for a slow consumer under the `"close"` policy. */
export const CLOSE_SLOW_CONSUMER = 1013;

/** Options of the outbound bound of each connection. */
export interface BackpressureOptions {
  /**
   * Bytes the runtime may hold for one socket before the policy applies.
   * @default {4194304}
   */
  maxBufferedBytes?: number;
  /**
   * `"close"` (1013) or `"drop-oldest"` (with a `sente-lite/gap` event).
   * @default {"close"}
   */
  policy?: "close" | "drop-oldest";
  /**
   * With `"drop-oldest"`: bytes held by sente-lite per connection while the socket is full.
   * @default {4194304}
   */
  maxQueuedBytes?: number;
  /**
   * With `"drop-oldest"`: how often a full socket is checked for room, in ms.
   * @default {10}
   */
  drainIntervalMs?: number;
}

/** The defaults of {@linkcode BackpressureOptions}. */
export const BACKPRESSURE_DEFAULTS: Required<BackpressureOptions> = {
  maxBufferedBytes: 4 * 1024 * 1024,
  policy: "close",
  maxQueuedBytes: 4 * 1024 * 1024,
  drainIntervalMs: 10,
};

/** Fills in defaults and range-checks. */
export function resolveBackpressure(
  options: BackpressureOptions = {},
): Required<BackpressureOptions> {
  const o = { ...BACKPRESSURE_DEFAULTS, ...options };
  for (const key of ["maxBufferedBytes", "maxQueuedBytes", "drainIntervalMs"] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) {
      throw new RangeError(`backpressure.${key} must be a positive integer, got ${o[key]}`);
    }
  }
  if (o.policy !== "close" && o.policy !== "drop-oldest") {
    throw new RangeError(`backpressure.policy must be "close" or "drop-oldest", got ${o.policy}`);
  }
  return o;
}

/** What the gate needs from its connection. */
export interface GateTarget {
  /** Bytes the runtime holds for the socket. */
  readonly bufferedAmount: number;
  /** Writes one frame to the socket now. */
  write(frame: Frame, bytes: number): boolean;
  /** The frame that tells the client `dropped` frames were lost (none if its dialect can't). */
  gapFrame(dropped: number): Frame | undefined;
  /** Closes the connection as a slow consumer. */
  closeSlow(): void;
  /** Counts dropped frames. */
  dropped(n: number): void;
}

/** What a `"drop-oldest"` gate holds while its socket is full (made on first need). */
class Held {
  frames: { frame: Frame; bytes: number }[] = [];
  bytes = 0;
  /** Frames dropped since the last gap event. */
  gap = 0;
  timer: TimerHandle | undefined;
}

/** Nothing held: shared by every gate that holds nothing (never mutated). */
const NONE_HELD: Held = Object.freeze(new Held()) as Held;

/** The per-connection outbound gate: two fields of its own while the socket keeps up. */
export class OutboundGate {
  /** Frames held (`"drop-oldest"`); the shared empty one until the first. */
  #held: Held = NONE_HELD;
  #sinceCheck = 0;

  /** Makes a gate for one connection. */
  constructor(
    readonly options: Required<BackpressureOptions>,
    readonly target: GateTarget,
    readonly clock: Clock,
  ) {}

  /** Bytes held by the gate (not yet given to the runtime). */
  get queuedBytes(): number {
    return this.#held.bytes;
  }

  /** Sends or holds one frame; returns `false` when it was refused (slow consumer closed). */
  send(frame: Frame, bytes: number): boolean {
    // Reading bufferedAmount is a call into the runtime; small frames skip it until 64 KiB went
    // out since the last look, so the bound may be overshot by at most that much.
    this.#sinceCheck += bytes;
    const held = this.#held;
    if (held.frames.length === 0 && this.#sinceCheck < CHECK_EVERY_BYTES) {
      return this.target.write(frame, bytes);
    }
    this.#sinceCheck = 0;
    if (held.frames.length === 0 && this.target.bufferedAmount <= this.options.maxBufferedBytes) {
      return this.target.write(frame, bytes);
    }
    if (this.options.policy === "close") {
      this.target.closeSlow();
      return false;
    }
    const h = held === NONE_HELD ? (this.#held = new Held()) : held;
    h.frames.push({ frame, bytes });
    h.bytes += bytes;
    while (h.bytes > this.options.maxQueuedBytes && h.frames.length > 1) {
      h.bytes -= h.frames.shift()!.bytes;
      h.gap++;
      this.target.dropped(1);
    }
    this.#schedule(h);
    return true;
  }

  #schedule(h: Held): void {
    h.timer ??= this.clock.setTimeout(() => {
      h.timer = undefined;
      this.#drain(h);
    }, this.options.drainIntervalMs);
  }

  #drain(h: Held): void {
    if (h !== this.#held) return; // closed meanwhile
    // Resume below half the bound so a client at the edge does not flap.
    const resumeAt = this.options.maxBufferedBytes / 2;
    if (h.frames.length && h.gap > 0 && this.target.bufferedAmount <= resumeAt) {
      const gap = h.gap;
      h.gap = 0;
      const frame = this.target.gapFrame(gap);
      if (frame !== undefined) {
        this.target.write(frame, typeof frame === "string" ? frame.length : frame.byteLength);
      }
    }
    while (h.frames.length && this.target.bufferedAmount <= resumeAt) {
      const next = h.frames.shift()!;
      h.bytes -= next.bytes;
      this.target.write(next.frame, next.bytes);
    }
    // Drained: the gate drops its queue, back to holding nothing.
    if (h.frames.length) this.#schedule(h);
    else if (h.gap === 0) this.#held = NONE_HELD;
  }

  /** Drops everything held and stops the drain timer (the connection closed). */
  close(): void {
    const h = this.#held;
    if (h.timer !== undefined) this.clock.clearTimeout(h.timer);
    this.#held = NONE_HELD;
  }
}
