// This module is browser compatible.
/**
 * Many streams over one transport (a WebSocket), in both directions, with credit-based flow
 * control, fair scheduling and resume. Standalone: the Hub and the Client route binary frames
 * whose first byte is a stream flag (`isStreamFrame`) to {@linkcode StreamMux.receive} and give
 * it their socket as the {@linkcode StreamTransport}.
 *
 * Guarantees:
 * - Fairness: DATA frames go out round-robin, one frame per ready stream per visit, at most
 *   `sliceFrames` per turn; between turns the mux yields to the event loop (a `MessageChannel`
 *   turn, not a timer: nested timers are clamped to 4 ms). While `bufferedAmount` is high it looks
 *   again after one turn as long as the socket drains, and every `pollMs` once it stalls.
 * - Priority for everything else: control frames (OPEN, CREDIT, END, CANCEL, RESUME) are written
 *   at once, and DATA only while the transport's `bufferedAmount` is below `highWaterMark`, so a
 *   message written straight to the socket waits behind at most `highWaterMark` plus one slice.
 * - Bounded memory: per stream, at most `windowBytes` unread on the receiving end and the piece
 *   of the body being sent on the sending end, plus the socket's `highWaterMark` and one frame
 *   per connection; nothing a peer sends (lying sizes, floods of credit) makes the mux buffer
 *   more.
 * - Limits are checked at OPEN, before any credit is granted: `maxIncomingStreams`, the shared
 *   `budget`, `maxStreamBytes` against the announced total, `maxMetaBytes`.
 * - Resume: {@linkcode StreamMux.detach} suspends every stream; {@linkcode StreamMux.attach}
 *   resumes them from the receiver's offset (see `docs/streaming.md`); streams still suspended
 *   after `resumeTimeoutMs` fail with `stream-resume-failed`.
 * - `receive` never throws: a bad frame fails its stream (both sides) or goes to `onError`.
 *
 * @example
 * ```ts
 * import { StreamMux } from "./mux.ts";
 * let client: StreamMux, server: StreamMux;
 * client = new StreamMux({ side: "client" });
 * server = new StreamMux({
 *   side: "server",
 *   onStream: (s) => {
 *     s.accept();
 *     new Response(s.readable).arrayBuffer().then((b) => console.log(b.byteLength));
 *   },
 * });
 * client.attach({ send: (f) => server.receive(f), bufferedAmount: 0 });
 * server.attach({ send: (f) => client.receive(f), bufferedAmount: 0 });
 * await client.open("app/upload", new Uint8Array(1_000_000)).done;
 * ```
 *
 * @module
 */
import type { StreamLink } from "./_link.ts";
import type { StreamBody } from "./body.ts";
import { StreamError } from "./errors.ts";
import type { StreamErrorCode } from "./errors.ts";
import { DATA_HEADER_BYTES, decodeStreamFrame, encodeCancel, encodeEnd } from "./frames.ts";
import type { StreamFrame } from "./frames.ts";
import { IncomingStream } from "./incoming.ts";
import { resolveStreamLimits } from "./options.ts";
import type { StreamLimits, StreamMuxOptions } from "./options.ts";
import { OutgoingStream } from "./outgoing.ts";
import type { OpenStreamOptions } from "./outgoing.ts";
import { sha256 } from "./sha256.ts";
import type { HashFactory } from "./sha256.ts";
import { realClock } from "../util/clock.ts";
import { turn } from "./_turn.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";

/** Where a mux writes its frames (a WebSocket, or one end of an in-memory pair). */
export interface StreamTransport {
  /** Writes one binary frame. */
  send(frame: Uint8Array): void;
  /** Bytes written and not yet on the network. */
  readonly bufferedAmount: number;
  /**
   * `send` has copied the frame's bytes when it returns, as `WebSocket.send` does in browsers,
   * Deno and Bun: the mux then builds every DATA frame in one reused buffer instead of a new one
   * per frame, so sending makes no garbage per frame (a slow reader's sender stays flat without
   * waiting for a GC). Leave it unset for a transport that keeps the frame (an in-memory pair).
   * @default {false}
   */
  readonly copiesOnSend?: boolean;
}

/** Counters of a {@linkcode StreamMux}. */
export interface StreamMuxStats {
  /** Streams this side opened. */
  opened: number;
  /** Streams the peer opened (accepted or not). */
  peerOpened: number;
  /** OPENs refused by a limit (`stream-limit`, `stream-too-large`) or for want of a handler. */
  refused: number;
  /** Streams that completed, both directions. */
  completed: number;
  /** Streams cancelled, both directions. */
  cancelled: number;
  /** Streams failed, both directions. */
  failed: number;
  /** DATA frames and payload bytes sent. */
  framesOut: number;
  /** DATA payload bytes sent. */
  bytesOut: number;
  /** Stream frames received. */
  framesIn: number;
  /** DATA payload bytes received. */
  bytesIn: number;
  /** Frames for streams that no longer exist (late after a cancel), dropped. */
  dropped: number;
  /** Malformed frames, and frames that failed their stream (beyond credit, wrong offset, too large). */
  protocolErrors: number;
  /** Live streams now, each way. */
  outgoing: number;
  /** Live incoming streams now. */
  incoming: number;
}

/** All-zero {@linkcode StreamMuxStats}. */
export function emptyMuxStats(): StreamMuxStats {
  return {
    opened: 0,
    peerOpened: 0,
    refused: 0,
    completed: 0,
    cancelled: 0,
    failed: 0,
    framesOut: 0,
    bytesOut: 0,
    framesIn: 0,
    bytesIn: 0,
    dropped: 0,
    protocolErrors: 0,
    outgoing: 0,
    incoming: 0,
  };
}

/** How many ended streams are remembered, to answer their peer after a resume. */
const ENDED_LIMIT = 256;

/** How a stream ended: its total (completed) or its error (cancelled, failed). */
type Ended = { total: number } | { code: StreamErrorCode; reason: string };

/** Streams over one transport. See the module doc for guarantees. */
export class StreamMux {
  readonly #limits: StreamLimits;
  readonly #clock: Clock;
  readonly #options: StreamMuxOptions;
  readonly #parity: number;
  readonly #outgoing = new Map<number, OutgoingStream>();
  readonly #incoming = new Map<number, IncomingStream>();
  readonly #ended = new Map<number, Ended>();
  readonly #ready: OutgoingStream[] = [];
  readonly #readySet = new Set<OutgoingStream>();
  readonly #link: StreamLink;
  #transport: StreamTransport | null = null;
  #nextId: number;
  #maxPeerId = 0;
  #pumping = false;
  #pumpQueued = false;
  /** A {@linkcode turn} is pending: the pump resumes after it (see `#yield`). */
  #turnQueued = false;
  /** `bufferedAmount` at the last look while over the mark (`Infinity` after a write). */
  #lastBuffered = Infinity;
  #timer: TimerHandle | undefined;
  #closed = false;
  /** The reused DATA frame buffer, for a transport that copies on send (made at first use). */
  #frameBuffer: Uint8Array | undefined;
  /** The counters (the gauges `outgoing`/`incoming` are read live in `stats()`). */
  #stats: StreamMuxStats = emptyMuxStats();

  /** Makes the mux of one connection (or one resumable session). */
  constructor(options: StreamMuxOptions) {
    this.#limits = resolveStreamLimits(options);
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#parity = options.side === "client" ? 1 : 0;
    this.#nextId = options.side === "client" ? 1 : 2;
    const hash: HashFactory = options.hash ?? sha256;
    this.#link = {
      limits: this.#limits,
      clock: this.#clock,
      hash,
      control: (frame) => this.#write(frame),
      wake: (stream) => this.#wake(stream as OutgoingStream),
      finished: (stream) => this.#finished(stream as OutgoingStream | IncomingStream),
    };
  }

  /** Whether a transport is attached. */
  get attached(): boolean {
    return this.#transport !== null;
  }

  /**
   * Opens a stream to the peer and starts sending `body` as credit comes. Throws a
   * `stream-limit` {@linkcode StreamError} over `maxOutgoingStreams`, a RangeError on a bad
   * name or total.
   */
  open(name: string, body: StreamBody, options: OpenStreamOptions = {}): OutgoingStream {
    if (this.#closed) throw new StreamError("stream-resume-failed", "the stream mux is closed");
    if (this.#outgoing.size >= this.#limits.maxOutgoingStreams) {
      throw new StreamError(
        "stream-limit",
        `over maxOutgoingStreams ${this.#limits.maxOutgoingStreams}`,
      );
    }
    if ((options.meta?.byteLength ?? 0) > this.#limits.maxMetaBytes) {
      throw new RangeError(`meta is over maxMetaBytes ${this.#limits.maxMetaBytes}`);
    }
    const id = this.#nextId;
    if (id > 0xffff_ffff) throw new StreamError("stream-limit", "stream ids are used up");
    const stream = new OutgoingStream(this.#link, id, name, body, options);
    stream.openFrame(); // checks the name before the id is spent
    this.#nextId += 2;
    this.#outgoing.set(id, stream);
    this.#stats.opened++;
    stream.start(this.#transport !== null);
    return stream;
  }

  /**
   * Takes one stream frame from the transport. Never throws. The mux takes the frame's buffer as
   * a socket's message is: a DATA payload may move to the reader or be detached once read, so
   * pass a frame whose buffer no one else uses (a frame sharing a larger buffer is copied).
   */
  receive(frame: Uint8Array): void {
    if (this.#closed) return;
    try {
      this.#receive(frame);
    } catch (e) {
      // A bug or an application callback that threw: report it, keep the connection.
      this.#options.onError?.(
        new StreamError("stream-protocol", `a stream frame could not be handled: ${e}`, {
          cause: e,
        }),
      );
    }
  }

  #receive(frame: Uint8Array): void {
    this.#stats.framesIn++;
    let f: StreamFrame;
    try {
      f = decodeStreamFrame(frame);
    } catch (e) {
      const error = e as StreamError;
      this.#stats.protocolErrors++;
      const stream = error.streamId === undefined ? undefined : this.#stream(error.streamId);
      if (stream) stream.fail(error);
      else this.#options.onError?.(error);
      return;
    }
    const ours = (f.id & 1) === this.#parity;
    switch (f.type) {
      case "data": {
        this.#stats.bytesIn += f.data.byteLength;
        const stream = ours ? undefined : this.#incoming.get(f.id);
        if (stream) return this.#watch(stream, () => stream.onData(f.offset, f.data));
        return void this.#stats.dropped++;
      }
      case "open":
        if (ours) return this.#protocol(f.id, "an OPEN with this side's stream id");
        return this.#open(f);
      case "credit": {
        const stream = ours ? this.#outgoing.get(f.id) : undefined;
        if (stream) return this.#watch(stream, () => stream.onCredit(f.consumed, f.limit));
        return void this.#stats.dropped++;
      }
      case "end": {
        if (ours) {
          const stream = this.#outgoing.get(f.id);
          if (stream) return this.#watch(stream, () => stream.onConfirm(f.total));
          return void this.#stats.dropped++;
        }
        const stream = this.#incoming.get(f.id);
        if (stream) return this.#watch(stream, () => stream.onEnd(f.total, f.sha256));
        return this.#lost(f.id);
      }
      case "cancel": {
        const stream = this.#stream(f.id);
        if (stream) return stream.onCancel(f.code, f.reason);
        return void this.#stats.dropped++;
      }
      case "resume": {
        if (ours) {
          const stream = this.#outgoing.get(f.id);
          if (stream) {
            return this.#watch(stream, () => stream.onResume(f.received, f.consumed, f.limit));
          }
          return this.#gone(f.id, "the sender no longer has this stream");
        }
        const stream = this.#incoming.get(f.id);
        if (stream) return stream.onProbe();
        return this.#lost(f.id);
      }
    }
  }

  /** Attaches a transport: new streams start, suspended ones resume. */
  attach(transport: StreamTransport): void {
    if (this.#closed) return;
    this.detach();
    this.#transport = transport;
    // Receivers first: their RESUME tells senders where to continue.
    for (const stream of [...this.#incoming.values()]) stream.resumed();
    for (const stream of [...this.#outgoing.values()]) stream.resumed();
    this.#pump();
  }

  /** The transport dropped: every live stream is suspended until {@linkcode attach}. */
  detach(): void {
    if (this.#transport === null) return;
    this.#transport = null;
    this.#cancelTimer();
    for (const stream of [...this.#incoming.values()]) stream.transportLost();
    for (const stream of [...this.#outgoing.values()]) stream.transportLost();
  }

  /** Ends every stream with `error` (default: `stream-resume-failed`, the session ended). */
  close(error?: StreamError): void {
    if (this.#closed) return;
    const reason = error ?? new StreamError("stream-resume-failed", "the session ended");
    for (const stream of [...this.#incoming.values(), ...this.#outgoing.values()]) {
      stream.fail(reason);
    }
    this.#closed = true;
    this.#transport = null;
    this.#cancelTimer();
  }

  /** A snapshot of the counters. */
  stats(): StreamMuxStats {
    return { ...this.#stats, outgoing: this.#outgoing.size, incoming: this.#incoming.size };
  }

  #stream(id: number): OutgoingStream | IncomingStream | undefined {
    return (id & 1) === this.#parity ? this.#outgoing.get(id) : this.#incoming.get(id);
  }

  /** Runs a frame handler and counts a protocol failure it caused. */
  #watch(stream: OutgoingStream | IncomingStream, handle: () => void): void {
    const before = stream.state;
    handle();
    if (stream.state === "failed" && before !== "failed") this.#stats.protocolErrors++;
  }

  #open(f: Extract<StreamFrame, { type: "open" }>): void {
    if (this.#incoming.has(f.id)) return; // sent again after a resume; our RESUME answers it
    if (f.id <= this.#maxPeerId) return this.#gone(f.id, "this stream already ended here");
    this.#maxPeerId = f.id;
    const limits = this.#limits;
    const refuse = (code: StreamErrorCode, reason: string): void => {
      this.#stats.refused++;
      this.#reply(f.id, code, reason);
    };
    if (f.meta.byteLength > limits.maxMetaBytes) {
      return refuse("stream-protocol", `meta over maxMetaBytes ${limits.maxMetaBytes}`);
    }
    if (f.total !== undefined && f.total > limits.maxStreamBytes) {
      return refuse(
        "stream-too-large",
        `total ${f.total} over maxStreamBytes ${limits.maxStreamBytes}`,
      );
    }
    if (this.#incoming.size >= limits.maxIncomingStreams) {
      return refuse("stream-limit", `over maxIncomingStreams ${limits.maxIncomingStreams}`);
    }
    const onStream = this.#options.onStream;
    if (!onStream) return refuse("stream-refused", `no handler for streams`);
    const budget = this.#options.budget;
    if (budget && !budget.tryAcquire()) {
      const why = budget.refusal ?? `over the server's ${budget.maxStreams} concurrent streams`;
      return refuse("stream-limit", why);
    }
    const stream = new IncomingStream(this.#link, f.id, f.name, f.total, f.integrity, f.meta);
    this.#incoming.set(f.id, stream);
    this.#stats.peerOpened++;
    try {
      onStream(stream);
    } catch (e) {
      stream.refuse(`the stream handler threw: ${e}`);
    }
  }

  /** A frame from the sender of a stream we do not hold: repeat a lost END confirmation, or say how it ended. */
  #lost(id: number): void {
    const ended = this.#ended.get(id);
    if (ended && "total" in ended) this.#link.control(encodeEnd(id, ended.total));
    else this.#gone(id, "the receiver no longer has this stream");
  }

  /** Tells the peer how a stream it asks about ended (its CANCEL may have been lost in a drop). */
  #gone(id: number, reason: string): void {
    const ended = this.#ended.get(id);
    if (ended && "code" in ended) this.#reply(id, ended.code, ended.reason);
    else if (!ended) this.#reply(id, "stream-resume-failed", reason);
  }

  #reply(id: number, code: StreamErrorCode, reason: string): void {
    this.#link.control(encodeCancel(id, code, reason));
  }

  #protocol(id: number, message: string): void {
    this.#stats.protocolErrors++;
    const error = new StreamError("stream-protocol", message, { streamId: id });
    this.#options.onError?.(error);
    this.#reply(id, "stream-protocol", message);
  }

  #finished(stream: OutgoingStream | IncomingStream): void {
    const state = stream.state;
    if (state === "closed") this.#stats.completed++;
    else if (state === "cancelled") this.#stats.cancelled++;
    else this.#stats.failed++;
    const error = stream.error;
    this.#ended.set(
      stream.id,
      error ? { code: error.streamCode, reason: error.message } : {
        total: stream instanceof OutgoingStream ? stream.sent : stream.received,
      },
    );
    if (this.#ended.size > ENDED_LIMIT) this.#ended.delete(this.#ended.keys().next().value!);
    if (stream instanceof OutgoingStream) this.#outgoing.delete(stream.id);
    else if (this.#incoming.delete(stream.id)) this.#options.budget?.release();
  }

  #wake(stream: OutgoingStream): void {
    if (!this.#readySet.has(stream)) {
      this.#readySet.add(stream);
      this.#ready.push(stream);
    }
    // Pump in a microtask, so every stream woken in this turn (reads that completed together, a
    // burst of credits) is ready before the round-robin starts.
    if (!this.#pumpQueued && !this.#turnQueued && this.#timer === undefined) {
      this.#pumpQueued = true;
      queueMicrotask(() => {
        this.#pumpQueued = false;
        this.#pump();
      });
    }
  }

  #pump(): void {
    const transport = this.#transport;
    if (this.#pumping || transport === null) return;
    this.#pumping = true;
    try {
      let budget = this.#limits.sliceFrames;
      while (this.#ready.length > 0) {
        const buffered = transport.bufferedAmount;
        if (buffered >= this.#limits.highWaterMark) return this.#drain(buffered);
        if (budget === 0) return this.#yield();
        const stream = this.#ready.shift()!;
        this.#readySet.delete(stream);
        const into = transport.copiesOnSend
          ? this.#frameBuffer ??= new Uint8Array(DATA_HEADER_BYTES + this.#limits.frameBytes)
          : undefined;
        const frame = stream.next(this.#limits.frameBytes, into);
        if (frame !== null) {
          if (!this.#write(frame)) return;
          this.#lastBuffered = Infinity;
          this.#stats.framesOut++;
          this.#stats.bytesOut += frame.byteLength - DATA_HEADER_BYTES;
          budget--;
        }
        if (stream.ready && !this.#readySet.has(stream)) {
          this.#readySet.add(stream);
          this.#ready.push(stream);
        }
        if (this.#transport !== transport) return; // detached by a send
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Writes a frame; `false` when there is no transport. A transport whose `send` throws (a socket
   * that closed under us) counts as dropped: the streams are suspended, in a microtask so that
   * no stream changes state in the middle of its own handler.
   */
  #write(frame: Uint8Array): boolean {
    const transport = this.#transport;
    if (transport === null) return false;
    try {
      transport.send(frame);
      return true;
    } catch {
      this.#transport = null;
      this.#cancelTimer();
      queueMicrotask(() => {
        if (this.#transport !== null) return; // a new transport was attached meanwhile
        this.#transport = transport;
        this.detach();
      });
      return false;
    }
  }

  /**
   * Ends a slice: the pump resumes after one event-loop turn, so socket I/O and messages queued
   * meanwhile (a ping's reply) run between slices. A `MessageChannel` task, not `setTimeout(0)`:
   * nested timers are clamped to 4 ms, which idled the pump and delayed everything behind it.
   * Timers (`pollMs`) are left for the case that needs waiting: `bufferedAmount` over the mark.
   */
  #yield(): void {
    if (this.#turnQueued || this.#timer !== undefined) return;
    this.#turnQueued = true;
    turn().then(() => {
      this.#turnQueued = false;
      this.#pump();
    });
  }

  /**
   * `bufferedAmount` is over the mark: look again once the socket drained some. While it drains
   * (it fell since the last look, or something was written since) the next look is one turn away,
   * so writing resumes as soon as the socket takes more; once it stalls (a slow reader, a full
   * kernel buffer) it is a `pollMs` timer, so waiting on a slow peer does not spin.
   */
  #drain(buffered: number): void {
    const draining = buffered < this.#lastBuffered;
    this.#lastBuffered = buffered;
    if (draining) this.#yield();
    else this.#schedule(this.#limits.pollMs);
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, ms);
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
