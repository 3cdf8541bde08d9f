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
 *   A publish made while others wait in the queue waits too, and is published when its turn
 *   comes; with `nativeTurnMs`, so are those past that much time of publishes in one event-loop
 *   turn (off by default: turns cost throughput, docs/wire.md §9). A native connection that is sent
 *   anything else meanwhile first gets what it is owed per connection and leaves its topics
 *   until the queue is empty (a publish to come must not reach it twice); a connection opening
 *   meanwhile joins its topics then too.
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

/** No connections (shared: never written). */
const NO_CONNECTIONS: Connection[] = [];

/** A fan-out waiting for its turn (or part sent). */
interface Queued {
  job: FanOutJob;
  seq: number;
  audience: Audience;
  /** Where its turn got to; made when its turn comes (the audience as it is then). */
  cursor: Iterator<Connection> | null;
  /**
   * Its native topic, published when its turn comes (`null`: everyone's); `undefined` when it
   * has none or was published.
   */
  channel: string | null | undefined;
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
  /** `nativeTurnMs`. */
  readonly #turnMs: number;
  readonly #schedule: (fn: () => void) => void;
  readonly #now: () => number;
  readonly #queue: Queued[] = [];
  #seq = 0;
  #scheduled = false;
  /** Native subscribers by topic (lib/server/native_topics.ts). */
  readonly #natives = new NativeTopics();
  /** When this turn's first native publish started (`#now()`); -1 until one does. */
  #turnStart = -1;
  /** Native connections out of their topics until the queue is empty, with their variant. */
  #detached: Map<Connection, string> | null = null;
  /** The number of the last queued fan-out; 0 while none waits. */
  lastSeq = 0;

  /**
   * Fans out `fanOutSlice` recipients per event-loop turn (`schedule` runs the next slice; `now`
   * is the clock of a slice's time).
   */
  constructor(
    options: ResolvedServerOptions,
    sequencer: Sequencer,
    schedule: (fn: () => void) => void = macrotask,
    now: () => number = () => performance.now(),
  ) {
    this.#options = options;
    this.#sequencer = sequencer;
    this.#slice = options.fanOutSlice;
    this.#turnMs = options.nativeTurnMs;
    this.#schedule = schedule;
    this.#now = now;
  }

  /** Fan-outs waiting (or partly sent). */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Whether `conn` must wait to join `variant`'s topics until the queue is empty (a queued
   * publish made before it opened must not reach it); it is joined then.
   */
  deferJoin(conn: Connection, variant: string): boolean {
    if (this.#queue.length === 0) return false;
    (this.#detached ??= new Map()).set(conn, variant);
    return true;
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
    // (no native groups: no native path, and none joins while the queue is not empty)
    const native = channel !== undefined && !audience.partial && message.type === "push" &&
      this.#natives.active;
    if (this.#queue.length > 0 && (audience.size > SMALL_FANOUT || native)) {
      // Behind the others, untouched until its turn: nothing done per recipient now. (A native
      // one always: sent now per connection, its natives would have to leave their topics.)
      this.#enqueue({ job, seq, audience, cursor: null, channel: native ? channel : undefined });
      return audience.size;
    }
    // Now: what nobody waits for, or a small fan-out (a uid's connections) whose recipients first
    // get what they are owed. The first `fanOutSlice` recipients; the rest wait their turn.
    let n = 0;
    if (native && this.#queue.length === 0) {
      if (this.#turnSpent()) {
        // A burst of publishes: this one and those after it take turns (the loop runs between).
        this.#enqueue({ job, seq, audience, cursor: null, channel });
        return audience.size;
      }
      // The natives get it through their topics now, one publish per variant; the loop below
      // skips them, and so does the rest of it if it has to wait (they are not owed it).
      const rest = this.#publish(job, audience, channel);
      n = rest.n;
      if (rest.audience === null) return this.#done(job, n); // nobody left per connection
      audience = rest.audience;
    }
    let budget = this.#slice;
    const cursor = audience.members[Symbol.iterator]();
    let sent = 0;
    for (;;) {
      if (budget === 0) {
        this.#enqueue({ job, seq, audience, cursor, channel: undefined }); // published already
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

  /**
   * Publishes `job` to its native topics (`channel`: `null` for everyone's); returns how many it
   * reached and who still needs it per connection (`null`: nobody).
   */
  #publish(
    job: FanOutJob,
    audience: Audience,
    channel: string | null,
  ): { n: number; audience: Audience | null } {
    // The connections out of their topics for now: when they are all that is left outside the
    // groups, the per-connection rest is them alone, not a pass over every recipient.
    const outside = this.#outside(channel);
    const r = audience.all
      ? this.#natives.broadcast(job, audience.streamed, audience.size, outside.length)
      : channel !== null
      ? this.#natives.channel(job, channel, audience.streamed, audience.size, outside.length)
      : null;
    if (r === null) return { n: 0, audience };
    const base = audience;
    if (r.complete) {
      if (outside.length === 0) return { n: r.n, audience: null };
      const { includes, streamed } = base;
      return {
        n: r.n,
        audience: { members: outside, size: outside.length, partial: true, includes, streamed },
      };
    }
    if (!r.grouped) return { n: r.n, audience };
    return {
      n: r.n,
      audience: {
        members: base.members,
        size: base.size - r.n,
        partial: true,
        includes: (c, s) => (c.variant === null || !job.sharedBy(c)) && base.includes(c, s),
        streamed: base.streamed,
      },
    };
  }

  /** The open connections out of their topics (in `channel`, unless `null`). */
  #outside(channel: string | null): Connection[] {
    const detached = this.#detached;
    if (detached === null) return NO_CONNECTIONS;
    const list: Connection[] = [];
    for (const conn of detached.keys()) {
      if (!conn.closed && (channel === null || conn.channels.has(channel))) list.push(conn);
    }
    return list;
  }

  /**
   * Whether this event-loop turn has spent `nativeTurnMs` on native publishes already (the turn
   * is over when its microtasks are: a burst of publishes in one synchronous loop is one turn).
   */
  #turnSpent(): boolean {
    if (this.#turnMs === Infinity) return false;
    const now = this.#now();
    if (this.#turnStart < 0) {
      this.#turnStart = now;
      queueMicrotask(() => this.#turnStart = -1);
      return false;
    }
    return now - this.#turnStart >= this.#turnMs;
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
   * for a later slice: `servedSeq` says where it got to); returns how many. A native connection
   * owed a publish still to come leaves its topics first and gets it here (it rejoins them when
   * the queue is empty); with `untilPublish` (the queue's own turns) it stops there instead, to get
   * it with the publish.
   */
  settle(conn: Connection, limit = Infinity, untilPublish = false): number {
    const was = FANOUT.delivering;
    FANOUT.delivering = true;
    let n = 0;
    try {
      for (const q of this.#queue) {
        if (conn.servedSeq >= q.seq || !q.audience.includes(conn, q.seq)) continue;
        if (n >= limit) return n; // owed more: not served past this one
        if (q.channel !== undefined && conn.variant !== null && q.job.sharedBy(conn)) {
          if (untilPublish) return n;
          this.#detach(conn);
        }
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

  /** `conn` leaves its topics until the queue is empty. */
  #detach(conn: Connection): void {
    (this.#detached ??= new Map()).set(conn, conn.variant!);
    conn.leaveTopics();
  }

  /** The queue is empty: the connections out of their topics (or waiting to join) join them. */
  #rejoin(): void {
    const detached = this.#detached;
    if (detached === null) return;
    this.#detached = null;
    for (const [conn, variant] of detached) if (!conn.closed) conn.joinTopics(variant);
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
    // (native publishes at the head: `nativeTurnMs` when set)
    const deadline = this.#now() +
      (queue[0]?.channel !== undefined && this.#turnMs !== Infinity ? this.#turnMs : SLICE_MS);
    let unclocked = 0;
    while (budget > 0 && queue.length > 0) {
      // (budget counts frames; one connection's backlog may overshoot it)
      const head = queue[0];
      if (head.channel !== undefined) {
        // Its turn: one publish per variant, then the per-connection rest (if any).
        const rest = this.#publish(head.job, head.audience, head.channel);
        head.channel = undefined;
        budget--;
        if (this.#now() >= deadline) budget = 0;
        if (rest.audience === null) {
          queue.shift();
          if (head.job.unpackable) this.#report(head.job.unpackable);
          continue;
        }
        head.audience = rest.audience;
      }
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
          sent = Math.max(1, this.settle(conn, budget, true));
        } catch (e) {
          this.#options.onError(e, { where: "fan-out" });
        }
        budget -= sent;
        unclocked += sent;
        if (unclocked >= CLOCK_EVERY) {
          unclocked = 0;
          if (this.#now() >= deadline) budget = 0;
        }
      }
      if (!done) break;
      queue.shift();
      if (job.unpackable) this.#report(job.unpackable);
    }
    if (queue.length > 0) this.#kick();
    else {
      this.lastSeq = 0;
      this.#rejoin();
    }
  }
}
