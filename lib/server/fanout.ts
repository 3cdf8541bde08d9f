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
import { type Connection, FANOUT, type FanOutBacklog } from "./connection.ts";
import { estimateBytes, type Session } from "./delivery.ts";
import { streamEvent } from "./channel_seq.ts";
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

/** A publish's place in its channel (or broadcast) stream: `"channel-seq"` recipients' frames. */
export interface StreamRef {
  /** The stream: a channel id, `""` for broadcasts. */
  readonly key: string;
  /** Its number in the stream. */
  readonly cseq: number;
}

/** One message on its way to many connections: frames made once, delivered per recipient. */
export class FanOutJob {
  #cache: Map<ServerDialect, Map<Packer, Packed>> | undefined;
  /** The frames of channel-seq recipients (the stream's message), by dialect and packer. */
  #streamCache: Map<ServerDialect, Map<Packer, Packed>> | undefined;
  #streamMessage: ServerMessage | undefined;
  // One SharedFrame per packed frame: compressed once for every recipient that compresses.
  #shared: Map<Frame, SharedFrame> | undefined;
  #bytes = -1; // size estimate of a sequenced push, made once for every resuming recipient
  /** The first packing error and how many recipients it skipped. */
  unpackable: { error: unknown; skipped: number } | undefined;

  /** `stream`: the publish's number for recipients with channel sequences (`null`: none). */
  constructor(
    readonly sequencer: Sequencer,
    readonly message: ServerMessage,
    readonly stream: StreamRef | null = null,
  ) {}

  /** Whether `conn` gets the stream's frames (the same for all of its variant). */
  #streamed(conn: Connection): boolean {
    return this.stream !== null && conn.cseq !== null;
  }

  /** The message `conn` gets: the stream's for channel-seq recipients, else the plain one. */
  #messageFor(streamed: boolean): ServerMessage {
    if (!streamed) return this.message;
    if (this.#streamMessage === undefined) {
      const { key, cseq } = this.stream!;
      const event = (this.message as { events: Event[] }).events[0];
      this.#streamMessage = { type: "push", events: [streamEvent(key, cseq, event)] };
    }
    return this.#streamMessage;
  }

  /** The frames of `conn`'s variant (made once per dialect, packer and stream numbering). */
  packed(conn: Connection): Packed {
    const streamed = this.#streamed(conn);
    const cache = streamed ? (this.#streamCache ??= new Map()) : (this.#cache ??= new Map());
    let byPacker = cache.get(conn.dialect);
    if (!byPacker) cache.set(conn.dialect, byPacker = new Map());
    let packed = byPacker.get(conn.packerImpl);
    if (!packed) {
      try {
        const frames = conn.frames(this.#messageFor(streamed));
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
    const streamed = this.#streamed(conn);
    if (!streamed && conn.session !== null && message.type === "push") {
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
      ok = conn.send(this.#messageFor(streamed));
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

/**
 * Who a fan-out is for: a live collection (the server's connections, a channel's or a uid's) and
 * the test a connection must pass when its turn comes.
 */
export interface Audience {
  /** The recipients, iterated live when the fan-out's turn comes. */
  readonly members: Iterable<Connection>;
  /** How many there are now (the count a queued fan-out returns). */
  readonly size: number;
  /** Some members are left out (`except`): a native topic would reach them too. */
  readonly partial: boolean;
  /** Every open connection (a broadcast): native recipients are their variant's topic. */
  readonly all?: boolean;
  /** Still a recipient of fan-out number `seq`? */
  includes(conn: Connection, seq: number): boolean;
}

/** Every connection open before the fan-out was made, but `except`. */
export function everyone(
  conns: ReadonlyMap<string, Connection>,
  except?: ReadonlySet<string>,
): Audience {
  return {
    members: conns.values(),
    size: conns.size - (except?.size ?? 0),
    partial: except !== undefined && except.size > 0,
    all: true,
    includes: (c, seq) => c.openSeq < seq && !except?.has(c.id),
  };
}

/** A channel's subscribers (when its turn comes), but `except`. */
export function subscribers(
  members: ReadonlySet<Connection>,
  channel: string,
  except?: ReadonlySet<string>,
): Audience {
  return {
    members,
    size: members.size,
    partial: except !== undefined && except.size > 0,
    includes: (c, seq) => c.openSeq < seq && c.channels.has(channel) && !except?.has(c.id),
  };
}

/** The connections of a uid open before the fan-out was made. */
export function ofUid(members: ReadonlySet<Connection>, uid: string): Audience {
  return {
    members,
    size: members.size,
    partial: false,
    includes: (c, seq) => c.openSeq < seq && c.uid === uid,
  };
}

/** A fan-out waiting for its turn (or part sent). */
interface Queued {
  job: FanOutJob;
  seq: number;
  audience: Audience;
  /** Where its turn got to; made when its turn comes (the audience as it is then). */
  cursor: Iterator<Connection> | null;
}

/** The native subscribers of one frame variant's broadcast topic. */
interface NativeGroup {
  readonly conns: Set<Connection>;
  /** Bytes published since their buffers were last looked at. */
  sinceCheck: number;
}

/** Bytes published to a variant between two looks at its sockets' buffers (as the gate does). */
const CHECK_EVERY_BYTES = 64 * 1024;

/** About how long one slice of the queue may run before the event loop gets a turn (ms). */
const SLICE_MS = 3;

/** Frames sent between two reads of the clock in a slice (a read costs more than a send's bookkeeping). */
const CLOCK_EVERY = 32;

/** Lets the event loop turn (I/O, timers) without the 4 ms clamp of nested timers. */
function macrotask(fn: () => void): void {
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => {
    port1.close();
    fn();
  };
  port2.postMessage(null);
}

/**
 * The fan-outs of one server, numbered and sent in order. A fan-out is numbered when made; each
 * connection records the number it was opened at and the last one it was served, so "what is it
 * still owed" is one comparison and queueing a fan-out costs nothing per recipient.
 */
export class FanOutQueue implements FanOutBacklog {
  readonly #options: ResolvedServerOptions;
  readonly #sequencer: Sequencer;
  readonly #slice: number;
  readonly #schedule: (fn: () => void) => void;
  readonly #queue: Queued[] = [];
  #seq = 0;
  #scheduled = false;
  /** Native broadcast subscribers by frame variant. */
  readonly #natives = new Map<string, NativeGroup>();
  /** The number of the last queued fan-out; 0 while none waits. */
  lastSeq = 0;

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

  /** `conn` joined its variant's native topics. */
  nativeJoined(conn: Connection): void {
    const variant = conn.variant!;
    let group = this.#natives.get(variant);
    // A new group is looked at on its first broadcast.
    if (!group) {
      this.#natives.set(variant, group = { conns: new Set(), sinceCheck: CHECK_EVERY_BYTES });
    }
    group.conns.add(conn);
  }

  /** `conn` left its variant's native topics. */
  nativeLeft(conn: Connection, variant: string): void {
    const group = this.#natives.get(variant);
    if (group?.conns.delete(conn) && group.conns.size === 0) this.#natives.delete(variant);
  }

  /**
   * A broadcast to the native subscribers: one publish per variant, no work per connection but a
   * look at their buffers every 64 KiB published (slow ones closed with 1013 first).
   */
  #broadcastNative(job: FanOutJob): number {
    let n = 0;
    for (const [variant, group] of this.#natives) {
      if (group.sinceCheck >= CHECK_EVERY_BYTES) {
        group.sinceCheck = 0;
        for (const conn of group.conns) {
          const gate = conn.gate;
          if (gate && conn.socket.bufferedAmount > gate.options.maxBufferedBytes) {
            conn.closeSlow(); // leaves the group
          }
        }
      }
      const count = group.conns.size;
      if (count === 0) continue;
      const rep = group.conns.values().next().value!;
      const packed = job.packed(rep);
      if (packed.frames.length === 0) {
        job.unpackable!.skipped += count;
        continue;
      }
      for (let i = 0; i < packed.frames.length; i++) {
        rep.socket.publish!(variant, packed.frames[i]);
        rep.stats.messagesOut += count;
        rep.stats.bytesOut += packed.bytes[i] * count;
        group.sinceCheck += packed.bytes[i];
      }
      n += count;
    }
    return n;
  }

  /** Numbers a connection opening now: it gets the fan-outs made from now on. */
  opened(conn: Connection): void {
    conn.fanOuts = this;
    conn.openSeq = conn.servedSeq = this.#seq;
  }

  /**
   * Sends `message` to `audience`; returns how many get it (those still waiting in the queue are
   * counted as getting it). `channel` names the native topic (`null`: everyone's; `undefined`:
   * none); `sequencer` numbers it for resuming recipients. Throws only when no recipient could be
   * sent it.
   */
  run(
    audience: Audience,
    message: ServerMessage,
    channel?: string | null,
    sequencer: Sequencer = this.#sequencer, // a send's own (durable delivery numbers per send)
    stream: StreamRef | null = null,
  ): number {
    const job = new FanOutJob(sequencer, message, stream);
    const seq = ++this.#seq;
    if (this.#queue.length > 0 && audience.size > SMALL_FANOUT) {
      // Behind the others, untouched until its turn: nothing done per recipient now.
      this.#enqueue({ job, seq, audience, cursor: null });
      return audience.size;
    }
    // Now: what nobody waits for, or a small fan-out (a uid's connections) whose recipients first
    // get what they are owed. The first `fanOutSlice` recipients; the rest wait their turn.
    let native = channel !== undefined && !audience.partial && message.type === "push" &&
      this.#queue.length === 0;
    let variants: Map<string, { rep: Connection; count: number }> | undefined;
    let n = 0;
    if (native && audience.all) {
      // A broadcast: the natives get it through their topics now; the loop below skips them, and
      // so does the rest of it if it has to wait (they are not owed it).
      n += this.#broadcastNative(job);
      native = false;
      const base = audience;
      audience = {
        members: base.members,
        size: base.size - n,
        partial: true,
        includes: (c, s) => c.variant === null && base.includes(c, s),
      };
    }
    let budget = this.#slice;
    const cursor = audience.members[Symbol.iterator]();
    let sent = 0;
    for (;;) {
      if (budget === 0) {
        this.#enqueue({ job, seq, audience, cursor });
        n += Math.max(0, audience.size - sent);
        break;
      }
      const next = cursor.next();
      if (next.done) break;
      const conn = next.value;
      if (!audience.includes(conn, seq)) continue;
      sent++;
      if (native && conn.variant !== null) {
        conn.servedSeq = seq;
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
      budget--;
      if (this.#deliver(job, seq, conn)) n++;
    }
    if (variants) n += this.#publish(job, variants, channel ?? null);
    const unpackable = job.unpackable;
    if (unpackable && this.#queue.at(-1)?.job !== job) {
      if (n === 0) throw unpackable.error;
      this.#report(unpackable);
    }
    return n;
  }

  /** Sends `job` (not queued) to `conn` after what it is owed; records it served. */
  #deliver(job: FanOutJob, seq: number, conn: Connection): boolean {
    if (this.lastSeq > conn.servedSeq) this.settle(conn);
    const was = FANOUT.delivering;
    FANOUT.delivering = true;
    try {
      return job.deliverTo(conn);
    } finally {
      FANOUT.delivering = was;
      conn.servedSeq = seq;
    }
  }

  /**
   * Sends `conn` the queued fan-outs it is owed, in order, at most `limit` of them (the rest wait
   * for a later slice: `servedSeq` says where it got to); returns how many.
   */
  settle(conn: Connection, limit = Infinity): number {
    const was = FANOUT.delivering;
    FANOUT.delivering = true;
    let n = 0;
    try {
      for (const q of this.#queue) {
        if (conn.servedSeq >= q.seq || !q.audience.includes(conn, q.seq)) continue;
        if (n >= limit) return n; // owed more: not served past this one
        conn.servedSeq = q.seq;
        n++;
        q.job.deliverTo(conn);
      }
    } finally {
      FANOUT.delivering = was;
    }
    if (this.lastSeq > conn.servedSeq) conn.servedSeq = this.lastSeq;
    return n;
  }

  #enqueue(entry: Queued): void {
    this.#queue.push(entry);
    this.lastSeq = entry.seq;
    this.#kick();
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

  /**
   * Sends the next slice of the queue: at most `fanOutSlice` frames and about `SLICE_MS` of work
   * (the clock read every `CLOCK_EVERY` frames), so inbound frames and replies get turns between.
   */
  #step(): void {
    let budget = this.#slice;
    const queue = this.#queue;
    const deadline = performance.now() + SLICE_MS;
    let unclocked = 0;
    while (budget > 0 && queue.length > 0) {
      // (budget counts frames; one connection's backlog may overshoot it)
      const head = queue[0];
      const { job, seq, audience } = head;
      const cursor = head.cursor ??= audience.members[Symbol.iterator]();
      let done = false;
      while (budget > 0) {
        const next = cursor.next();
        if (next.done) {
          done = true;
          break;
        }
        const conn = next.value;
        if (conn.servedSeq >= seq || !audience.includes(conn, seq)) continue;
        // Everything queued for this connection goes out together: consecutive frames to one
        // socket leave in few writes (a slice of one fan-out per socket would mean one small
        // write per frame). The connection's order is the queue's order.
        // A backlog bigger than what is left of the slice is cut: the rest waits for a later turn
        // (its cursor has passed this connection; a later head's cursor finds it still owed).
        let sent = 1;
        try {
          sent = Math.max(1, this.settle(conn, budget));
        } catch (e) {
          this.#options.onError(e, { where: "fan-out" });
        }
        budget -= sent;
        unclocked += sent;
        if (unclocked >= CLOCK_EVERY) {
          unclocked = 0;
          if (performance.now() >= deadline) budget = 0;
        }
      }
      if (!done) break;
      queue.shift();
      if (job.unpackable) this.#report(job.unpackable);
    }
    if (queue.length > 0) this.#kick();
    else this.lastSeq = 0;
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
