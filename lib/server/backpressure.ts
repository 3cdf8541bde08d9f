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
export class Held {
  frames: { frame: Frame; bytes: number }[] = [];
  bytes = 0;
  /** Frames dropped since the last gap event. */
  gap = 0;
  timer: TimerHandle | undefined;
}

/** Nothing held: shared by every gate that holds nothing (never mutated). */
export const NONE_HELD: Held = Object.freeze(new Held()) as Held;

/** What the gates of one server share (one object, not one per connection). */
export interface GatePolicy {
  /** The bound and its policy. */
  readonly options: Required<BackpressureOptions>;
  /** Times the drain of a `"drop-oldest"` gate. */
  readonly clock: Clock;
}

/**
 * A gate's own state, two fields kept by its target (the Connection keeps them, so an idle
 * connection has no gate object: ~64 B less each).
 */
export interface GateState extends GateTarget {
  /** Bytes sent since the last look at `bufferedAmount`. */
  gateSinceCheck: number;
  /** Frames held (`"drop-oldest"`); {@linkcode NONE_HELD} until the first. */
  gateHeld: Held;
}

/** Sends or holds one frame; returns `false` when it was refused (slow consumer closed). */
export function gateSend(policy: GatePolicy, s: GateState, frame: Frame, bytes: number): boolean {
  // Reading bufferedAmount is a call into the runtime; small frames skip it until 64 KiB went
  // out since the last look, so the bound may be overshot by at most that much.
  s.gateSinceCheck += bytes;
  const held = s.gateHeld;
  if (held.frames.length === 0 && s.gateSinceCheck < CHECK_EVERY_BYTES) {
    return s.write(frame, bytes);
  }
  s.gateSinceCheck = 0;
  const options = policy.options;
  if (held.frames.length === 0 && s.bufferedAmount <= options.maxBufferedBytes) {
    return s.write(frame, bytes);
  }
  if (options.policy === "close") {
    s.closeSlow();
    return false;
  }
  const h = held === NONE_HELD ? (s.gateHeld = new Held()) : held;
  h.frames.push({ frame, bytes });
  h.bytes += bytes;
  while (h.bytes > options.maxQueuedBytes && h.frames.length > 1) {
    h.bytes -= h.frames.shift()!.bytes;
    h.gap++;
    s.dropped(1);
  }
  schedule(policy, s, h);
  return true;
}

function schedule(policy: GatePolicy, s: GateState, h: Held): void {
  h.timer ??= policy.clock.setTimeout(() => {
    h.timer = undefined;
    drain(policy, s, h);
  }, policy.options.drainIntervalMs);
}

function drain(policy: GatePolicy, s: GateState, h: Held): void {
  if (h !== s.gateHeld) return; // closed meanwhile
  // Resume below half the bound so a client at the edge does not flap.
  const resumeAt = policy.options.maxBufferedBytes / 2;
  if (h.frames.length && h.gap > 0 && s.bufferedAmount <= resumeAt) {
    const gap = h.gap;
    h.gap = 0;
    const frame = s.gapFrame(gap);
    if (frame !== undefined) {
      s.write(frame, typeof frame === "string" ? frame.length : frame.byteLength);
    }
  }
  while (h.frames.length && s.bufferedAmount <= resumeAt) {
    const next = h.frames.shift()!;
    h.bytes -= next.bytes;
    s.write(next.frame, next.bytes);
  }
  // Drained: the gate drops its queue, back to holding nothing.
  if (h.frames.length) schedule(policy, s, h);
  else if (h.gap === 0) s.gateHeld = NONE_HELD;
}

/** Drops everything held and stops the drain timer (the connection closed). */
export function gateClose(policy: GatePolicy, s: GateState): void {
  const h = s.gateHeld;
  if (h.timer !== undefined) policy.clock.clearTimeout(h.timer);
  if (h !== NONE_HELD) s.gateHeld = NONE_HELD;
}

/**
 * One outbound gate over `target`, its state its own (the same logic as the Connection's, which
 * keeps the state itself).
 */
export class OutboundGate implements GatePolicy, GateState {
  /** See {@linkcode GateState}. */
  gateHeld: Held = NONE_HELD;
  /** See {@linkcode GateState}. */
  gateSinceCheck = 0;

  /** Makes a gate for one connection. */
  constructor(
    readonly options: Required<BackpressureOptions>,
    readonly target: GateTarget,
    readonly clock: Clock,
  ) {}

  /** Bytes held by the gate (not yet given to the runtime). */
  get queuedBytes(): number {
    return this.gateHeld.bytes;
  }

  /** Sends or holds one frame; returns `false` when it was refused (slow consumer closed). */
  send(frame: Frame, bytes: number): boolean {
    return gateSend(this, this, frame, bytes);
  }

  /** Drops everything held and stops the drain timer (the connection closed). */
  close(): void {
    gateClose(this, this);
  }

  /** The target's. */
  get bufferedAmount(): number {
    return this.target.bufferedAmount;
  }
  /** The target's. */
  write(frame: Frame, bytes: number): boolean {
    return this.target.write(frame, bytes);
  }
  /** The target's. */
  gapFrame(dropped: number): Frame | undefined {
    return this.target.gapFrame(dropped);
  }
  /** The target's. */
  closeSlow(): void {
    this.target.closeSlow();
  }
  /** The target's. */
  dropped(n: number): void {
    this.target.dropped(n);
  }
}
