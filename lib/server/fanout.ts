/**
 * Local fan-out: the queue that sends one message to many connections of this process, in
 * order per connection (the message's frames: lib/server/fanout_job.ts; who gets it:
 * lib/server/audience.ts).
 *
 * Two runtime fast paths (docs/wire.md "Fan-out"):
 * - **Native topics** (Bun): a connection whose frames are everyone's (no session numbering its
 *   channel messages — channel sequences share them —, no batching, compression or chunking;
 *   backpressure policy `"close"` or none) subscribes to its frame variant's topic (dialect ×
 *   packer, `+cseq` with channel sequences; per channel too), and a broadcast or channel publish
 *   is ONE `server.publish` per variant for all of them. Sockets over `maxBufferedBytes` are
 *   closed as slow consumers (1013) before the publish, as the per-connection gate would.
 * - **Slices** (every runtime): past `fanOutSlice` recipients the rest waits in a per-server
 *   queue and goes out `fanOutSlice` recipients per event-loop turn, so a large fan-out never
 *   freezes the loop. A connection still owed queued fan-outs gets them first when anything
 *   else is sent to it, so order per connection is kept.
 *
 * @module
 */
import { type Connection, FANOUT, type FanOutBacklog } from "./connection.ts";
import type { ResolvedServerOptions } from "./options.ts";
import type { Audience } from "./audience.ts";
import type { ServerMessage } from "../protocol/envelope.ts";
import { FanOutJob, type Sequencer, type StreamRef } from "./fanout_job.ts";
import { NativeTopics } from "./native_topics.ts";

// The parts stay importable from here, where the rest of the server reaches fan-out.
export * from "./audience.ts";
export * from "./fanout_job.ts";

/** Recipients a fan-out may serve at once while others wait in the queue. */
const SMALL_FANOUT = 16;

/** A fan-out waiting for its turn (or part sent). */
interface Queued {
  job: FanOutJob;
  seq: number;
  audience: Audience;
  /** Where its turn got to; made when its turn comes (the audience as it is then). */
  cursor: Iterator<Connection> | null;
}

/** About how long one slice of the queue may run before the event loop gets a turn (ms). */
const SLICE_MS = 3;

/** Frames sent between two reads of the clock in a slice (a read costs more than a send's bookkeeping). */
const CLOCK_EVERY = 32;

/**
 * At least this often (ms) a yield is a timer turn instead of a `MessageChannel` task. Once Deno's
 * Node compatibility layer is loaded (any `node:` module: the Redis backplane's client, an app's
 * own imports), its `MessageChannel` tasks run before pending socket reads, so a queue that yields
 * only through them starves requests, pings and handshakes (bench/fanout.ts on Deno with the layer
 * loaded: a probe's request→reply p99 during a burst 105 ms, 22 ms with a timer turn every 4 ms; a
 * timer turn always polls the sockets). Without the layer it costs some throughput (Deno broadcast
 * 430k → 350k deliveries/s, still 1.2× the raw loop) and keeps the probe's p99 under 2 ms.
 */
const TIMER_TURN_EVERY_MS = 4;

/** When the last timer turn was taken (`performance.now()`). */
let lastTimerTurn = 0;

/** Lets the event loop turn (I/O, timers), mostly without the 4 ms clamp of nested timers. */
function macrotask(fn: () => void): void {
  const now = performance.now();
  if (now - lastTimerTurn >= TIMER_TURN_EVERY_MS) {
    lastTimerTurn = now;
    return void setTimeout(fn, 0);
  }
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
  /** Native subscribers by topic (lib/server/native_topics.ts). */
  readonly #natives = new NativeTopics();
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
    this.#natives.joined(conn);
  }

  /** `conn` left its variant's native topics. */
  nativeLeft(conn: Connection, variant: string): void {
    this.#natives.left(conn, variant);
  }

  /** `conn` subscribed to `channel`. */
  channelJoined(conn: Connection, channel: string): void {
    this.#natives.subscribed(conn, channel);
  }

  /** `conn` is no longer subscribed to `channel` (`variant`: its variant then). */
  channelLeft(conn: Connection, channel: string, variant: string | null): void {
    this.#natives.unsubscribed(conn, channel, variant);
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
    const native = channel !== undefined && !audience.partial && message.type === "push" &&
      this.#queue.length === 0;
    let n = 0;
    if (native) {
      // The natives get it through their topics now, one publish per variant; the loop below
      // skips them, and so does the rest of it if it has to wait (they are not owed it).
      const r = audience.all
        ? this.#natives.broadcast(job, audience.streamed, audience.size)
        : channel !== null
        ? this.#natives.channel(job, channel, audience.streamed, audience.size)
        : null;
      if (r !== null) {
        n = r.n;
        if (r.complete) return this.#done(job, n); // nobody left for the per-connection path
      }
      if (r?.grouped) {
        const base = audience;
        audience = {
          members: base.members,
          size: base.size - n,
          partial: true,
          includes: (c, s) => (c.variant === null || !job.sharedBy(c)) && base.includes(c, s),
          streamed: base.streamed,
        };
      }
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
      budget--;
      if (this.#deliver(job, seq, conn)) n++;
    }
    return this.#done(job, n);
  }

  /** Reports (or throws) what could not be packed, unless the job still waits in the queue. */
  #done(job: FanOutJob, n: number): number {
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
