/**
 * Local fan-out: one message to many connections of this process, encoded and packed once per
 * dialect and packer, its UTF-8 length counted once per frame, compressed once per frame for every
 * recipient that compresses, taken into the batch of batching recipients, and handed to resume
 * (numbered, kept) for resuming ones.
 *
 * Two runtime fast paths (docs/wire.md "Fan-out"):
 * - **Native topics** (Bun): a connection whose frames are everyone's (no resume session, no
 *   batching, compression or chunking; backpressure policy `"close"` or none) subscribes to its
 *   frame variant's topic (dialect × packer; per channel too), and a broadcast or channel publish
 *   is ONE `server.publish` per variant for all of them. Sockets over `maxBufferedBytes` are
 *   closed as slow consumers (1013) before the publish, as the per-connection gate would.
 * - **Slices** (every runtime): past `fanOutSlice` recipients the rest waits in a per-server
 *   queue and goes out `fanOutSlice` recipients per event-loop turn, so a large fan-out never
 *   freezes the loop. A connection still owed queued fan-outs gets them first when anything
 *   else is sent to it, so order per connection is kept.
 *
 * @module
 */
import type { Frame, Packer } from "../packers/packer.ts";
import type { ServerMessage } from "../protocol/envelope.ts";
import type { Event } from "../protocol/event.ts";
import type { ServerDialect } from "../dialects/dialect.ts";
import { frameByteLength } from "../util/utf8.ts";
import { SharedFrame } from "../wire/compression.ts";
import { type Connection, FANOUT, type OwedFanOut } from "./connection.ts";
import { estimateBytes, type Session } from "./delivery.ts";
import type { ResolvedServerOptions } from "./options.ts";

/** Where the pushes to a resuming connection go (lib/server/resume.ts). */
export interface Sequencer {
  /** Numbers and keeps `event` in the session, sends it if open; `true` when the client gets it. */
  sequenced(conn: Connection, session: Session<Connection>, event: Event, bytes: number): boolean;
}

/** The packed frames of one variant and their UTF-8 lengths. */
interface Packed {
  frames: Frame[];
  bytes: number[];
}

/** The cached frames of a dialect and packer that could not write a fan-out's message. */
const UNPACKABLE: Packed = { frames: [], bytes: [] };

/** The native topic of a frame variant's broadcast, or of one of its channels. */
export function topicOf(variant: string, channel: string | null): string {
  return channel === null ? variant : `${variant}\n${channel}`;
}

/** One message on its way to many connections: frames made once, delivered per recipient. */
export class FanOutJob implements OwedFanOut {
  #cache: Map<ServerDialect, Map<Packer, Packed>> | undefined;
  // One SharedFrame per packed frame: compressed once for every recipient that compresses.
  #shared: Map<Frame, SharedFrame> | undefined;
  #bytes = -1; // size estimate of a sequenced push, made once for every resuming recipient
  /** The first packing error and how many recipients it skipped. */
  unpackable: { error: unknown; skipped: number } | undefined;

  constructor(readonly sequencer: Sequencer, readonly message: ServerMessage) {}

  /** The frames of `conn`'s variant (made once per dialect and packer). */
  packed(conn: Connection): Packed {
    this.#cache ??= new Map();
    let byPacker = this.#cache.get(conn.dialect);
    if (!byPacker) this.#cache.set(conn.dialect, byPacker = new Map());
    let packed = byPacker.get(conn.packerImpl);
    if (!packed) {
      try {
        const frames = conn.frames(this.message);
        packed = { frames, bytes: frames.map(frameByteLength) };
      } catch (error) {
        this.unpackable ??= { error, skipped: 0 };
        packed = UNPACKABLE; // tried once per dialect and packer, as a success is
      }
      byPacker.set(conn.packerImpl, packed);
    }
    return packed;
  }

  /** Sends the message to one connection; `true` when it got it. */
  deliverTo(conn: Connection): boolean {
    const message = this.message;
    if (conn.session !== null && message.type === "push") {
      // A resuming connection numbers its pushes: its frames are its own.
      let ok = true;
      for (const event of message.events) {
        if (this.#bytes < 0) this.#bytes = estimateBytes(event);
        ok = this.sequencer.sequenced(conn, conn.session, event, this.#bytes) && ok;
      }
      return ok;
    }
    const packed = this.packed(conn);
    if (packed === UNPACKABLE) {
      this.unpackable!.skipped++;
      return false;
    }
    const { frames, bytes } = packed;
    let ok = true;
    if (conn.wire?.batcher && message.type === "push") {
      // A batching connection takes the events into its batch (its frames are its own).
      ok = conn.send(message);
    } else if (conn.wire?.sender && conn.wire.settings.compression) {
      this.#shared ??= new Map();
      for (let i = 0; i < frames.length; i++) {
        let s = this.#shared.get(frames[i]);
        if (!s) this.#shared.set(frames[i], s = new SharedFrame(frames[i]));
        ok = conn.sendShared(s, bytes[i]) && ok;
      }
    } else {
      conn.wire?.batcher?.flush(); // keep order with pushes waiting in its batch
      for (let i = 0; i < frames.length; i++) ok = conn.sendFrame(frames[i], bytes[i]) && ok;
    }
    return ok;
  }
}

/** Recipients a fan-out may serve at once while others wait in the queue. */
const SMALL_FANOUT = 16;

/** A fan-out whose remaining recipients wait for their turn. */
interface Queued {
  job: FanOutJob;
  list: Connection[];
  next: number;
}

/** Lets the event loop turn (I/O, timers) without the 4 ms clamp of nested timers. */
function macrotask(fn: () => void): void {
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => {
    port1.close();
    fn();
  };
  port2.postMessage(null);
}

/** The fan-outs of one server, in order. */
export class FanOutQueue {
  readonly #options: ResolvedServerOptions;
  readonly #sequencer: Sequencer;
  readonly #slice: number;
  readonly #schedule: (fn: () => void) => void;
  readonly #queue: Queued[] = [];
  #scheduled = false;

  /** Fans out `fanOutSlice` recipients per event-loop turn (`schedule` runs the next slice). */
  constructor(
    options: ResolvedServerOptions,
    sequencer: Sequencer,
    schedule: (fn: () => void) => void = macrotask,
  ) {
    this.#options = options;
    this.#sequencer = sequencer;
    this.#slice = options.fanOutSlice;
    this.#schedule = schedule;
  }

  /** Fan-outs waiting (or partly sent). */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Sends `message` to `conns` but those in `except`; returns how many get it (those still
   * waiting in the queue are counted as getting it). `channel` names the native topic (`null`:
   * everyone's). Throws only when no recipient could be sent it.
   */
  run(
    conns: Iterable<Connection>,
    message: ServerMessage,
    except?: ReadonlySet<string>,
    channel?: string | null,
  ): number {
    const job = new FanOutJob(this.#sequencer, message);
    let n = 0;
    const list: Connection[] = [];
    const native = channel !== undefined && except === undefined && message.type === "push" &&
      this.#queue.length === 0; // a queued fan-out goes per connection, in its turn
    let variants: Map<string, { rep: Connection; count: number }> | undefined;
    for (const conn of conns) {
      if (except?.has(conn.id)) continue;
      if (native && conn.variant !== null) {
        if (conn.closed) continue;
        const gate = conn.gate;
        if (gate && conn.socket.bufferedAmount > gate.options.maxBufferedBytes) {
          conn.closeSlow(); // the bound the gate keeps for per-connection sends
          continue;
        }
        variants ??= new Map();
        const v = variants.get(conn.variant);
        if (v) v.count++;
        else variants.set(conn.variant, { rep: conn, count: 1 });
        continue;
      }
      list.push(conn);
    }
    if (variants) n += this.#publish(job, variants, channel ?? null);
    // Now: the first slice when nothing waits; with fan-outs waiting only a small one (a push to
    // a uid), whose recipients first get what they are owed: the turn's work stays bounded.
    const slice = this.#slice;
    const first = this.#queue.length === 0
      ? Math.min(list.length, slice)
      : list.length <= SMALL_FANOUT
      ? list.length
      : 0;
    for (let i = 0; i < first; i++) if (job.deliverTo(list[i])) n++;
    const deferred = first < list.length;
    if (deferred) {
      // The rest waits; each of them is owed this job, so a send to it meanwhile gets it first.
      for (let i = first; i < list.length; i++) {
        const conn = list[i];
        if (conn.closed && conn.session === null) continue;
        (conn.owed ??= []).push(job);
        n++;
      }
      this.#queue.push({ job, list, next: first });
      this.#kick();
    }
    const unpackable = job.unpackable;
    if (unpackable && !deferred) {
      if (n === 0) throw unpackable.error;
      this.#report(unpackable);
    }
    return n;
  }

  /** One publish per frame variant; returns the connections it reached. */
  #publish(
    job: FanOutJob,
    variants: Map<string, { rep: Connection; count: number }>,
    channel: string | null,
  ): number {
    let n = 0;
    for (const [variant, { rep, count }] of variants) {
      const packed = job.packed(rep);
      if (packed.frames.length === 0) {
        job.unpackable!.skipped += count;
        continue;
      }
      const topic = topicOf(variant, channel);
      for (let i = 0; i < packed.frames.length; i++) {
        rep.socket.publish!(topic, packed.frames[i]);
        rep.stats.messagesOut += count;
        rep.stats.bytesOut += packed.bytes[i] * count;
      }
      n += count;
    }
    return n;
  }

  #report(unpackable: { error: unknown; skipped: number }): void {
    this.#options.onError(unpackable.error, {
      where: `fan-out: skipped ${unpackable.skipped} recipient(s) whose packer cannot write it`,
    });
  }

  #kick(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => {
      this.#scheduled = false;
      this.#step();
    });
  }

  /** Sends the next slice of the queue. */
  #step(): void {
    let budget = this.#slice;
    const queue = this.#queue;
    while (budget > 0 && queue.length > 0) {
      const head = queue[0];
      const { job, list } = head;
      while (budget > 0 && head.next < list.length) {
        const conn = list[head.next++];
        const owed = conn.owed;
        if (owed === null || owed[0] !== job) continue; // got it already (or closed)
        if (owed.length === 1) conn.owed = null;
        else owed.shift();
        budget--;
        const was = FANOUT.delivering;
        FANOUT.delivering = true;
        try {
          job.deliverTo(conn);
        } catch (e) {
          this.#options.onError(e, { where: "fan-out" });
        } finally {
          FANOUT.delivering = was;
        }
      }
      if (head.next < list.length) break;
      queue.shift();
      if (job.unpackable) this.#report(job.unpackable);
    }
    if (queue.length > 0) this.#kick();
  }
}

/**
 * Sends a message to many connections at once (no slices, no native topics): the plain path,
 * kept for callers outside a Hub and for tests.
 */
export function fanOut(
  options: ResolvedServerOptions,
  sequencer: Sequencer,
  conns: Iterable<Connection>,
  message: ServerMessage,
  except?: ReadonlySet<string>,
): number {
  const job = new FanOutJob(sequencer, message);
  let n = 0;
  for (const conn of conns) {
    if (except?.has(conn.id)) continue;
    if (job.deliverTo(conn)) n++;
  }
  if (job.unpackable) {
    if (n === 0) throw job.unpackable.error;
    options.onError(job.unpackable.error, {
      where: `fan-out: skipped ${job.unpackable.skipped} recipient(s) whose packer cannot write it`,
    });
  }
  return n;
}
