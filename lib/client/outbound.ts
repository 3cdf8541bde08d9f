// This module is browser compatible.
/**
 * The client's send paths: what `send()` and `request()` write goes to the current socket
 * (through its negotiated wire transforms, if any) or waits in the queue while connecting; with
 * resume (docs/delivery.md) a `send()` is numbered and kept in the outbox until the server
 * acknowledges it.
 *
 * Guarantees:
 * - Frames go out in the order of the calls that made them, queued ones included.
 * - A frame is written only while the client is `open` and its socket is OPEN; otherwise it is
 *   queued (the close event may still be on its way).
 * - After a drop, retried requests and unacknowledged sends go again in call order, before
 *   anything queued since; after a resumed handshake only what the server has not acknowledged.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import { clientEventEnvelope, eventValue } from "../protocol/envelope.ts";
import type { ClosedError } from "../protocol/errors.ts";
import { assertEventId } from "../protocol/event.ts";
import type { ResumeGap, ServerInfo } from "../protocol/handshake.ts";
import { parseResumeToken } from "../protocol/resume_token.ts";
import type { InboundAcks } from "./acks.ts";
import type { ChannelCursors } from "./channel_cursors.ts";
import type { ResolvedClientOptions } from "./options.ts";
import type { ClientParts } from "./parts.ts";
import { enqueue, type Queued, requeue } from "./outbox.ts";
import { noSettler, Pending, type PendingRequests, promiseOf } from "./requests.ts";
import type { ConnectionState } from "./session.ts";
import { socketSink } from "./socket.ts";
import type { ClientWirePipeline } from "./transforms.ts";
import type { ClientRequestOptions, ClientStats, Handshake, SendResult } from "./types.ts";

/** The send queue, the resume outbox and the socket they are written to. */
export class ClientOutbound {
  /** The socket of the current attempt or connection (set by the connection), else `null`. */
  ws: WebSocket | null = null;
  /** The current socket negotiated resume. */
  resumeOn = false;
  /** The newest resume token from a handshake: the secret that resumes this client's session. */
  resumeToken: string | null = null;
  /** The negotiated transforms of the current socket, if any. */
  wire: ClientWirePipeline | null = null;
  #queue: Queued[] = [];
  /** Numbered sends written to the current socket and not yet acknowledged, in seq order. */
  #outbox: Queued[] = [];
  /** The last client seq given to a `send()`. */
  #outSeq = 0;
  #written = 0;
  /** The event id `request` checked last (a valid one). */
  #checkedId = "";
  #options: ResolvedClientOptions;
  #stats: ClientStats;
  #requests: PendingRequests;
  #cursors: ChannelCursors;
  #state: () => ConnectionState;

  /** Writes for the client of `parts`, whose state `state()` tells. */
  constructor(parts: ClientParts, state: () => ConnectionState) {
    this.#options = parts.options;
    this.#stats = parts.stats;
    this.#requests = parts.requests;
    this.#cursors = parts.cursors;
    this.#state = state;
  }

  /** Sends now when the socket is really open; `false` when the frame must wait. */
  #sendEntry(entry: Queued): boolean {
    if (entry.cancelled) return true;
    const ws = this.ws;
    // The close event may still be on its way: a socket that is no longer OPEN keeps the frame.
    if (this.#state() !== "open" || !ws || ws.readyState !== 1) {
      this.#queue.push(entry);
      return false;
    }
    if (this.wire) this.wire.send(entry.frame);
    else ws.send(entry.frame as string);
    this.#stats.messagesOut++;
    if (entry.cb !== undefined) {
      if (entry instanceof Pending) entry.sent = true;
      entry.order = this.#written++;
    } else if (entry.seq !== undefined) {
      entry.order = this.#written++;
      this.#outbox.push(entry);
    }
    return true;
  }

  /** Sends `value` now if the client is open; a control frame, never queued. */
  sendValue(value: unknown): void {
    const ws = this.ws;
    if (this.#state() === "open" && ws && ws.readyState === 1) {
      const frame = this.#options.packer.pack(value);
      if (this.wire) this.wire.send(frame, true);
      else ws.send(frame as string);
      this.#stats.messagesOut++;
    }
  }

  /**
   * Sends the entry now, or queues it while connecting/reconnecting.
   * @throws {QueueFullError} when the queue is full; {@linkcode ClosedError} when not connecting.
   */
  #sendOrQueue(entry: Queued): SendResult {
    const state = this.#state();
    if (state === "open") return this.#sendEntry(entry) ? "sent" : "queued";
    return enqueue(this.#queue, entry, state, this.#options.maxQueuedMessages);
  }

  /** `Client.send()` of a checked event id. */
  send(id: string, data: unknown): SendResult {
    // Numbered when resuming, or while it is not yet known whether the next socket will.
    if (this.#options.resume && (this.resumeOn || this.#state() !== "open")) {
      const seq = ++this.#outSeq;
      const body = { seq, event: eventValue(id, data) };
      const frame = this.#options.packer.pack(clientEventEnvelope("sente-lite/msg", body, null));
      return this.#sendOrQueue({ frame, cancelled: false, seq, event: [id, data] });
    }
    const frame = this.#options.packer.pack(clientEventEnvelope(id, data, null));
    return this.#sendOrQueue({ frame, cancelled: false });
  }

  /** `Client.request()`: the promise of the reply. */
  request(id: string, data: unknown, options: ClientRequestOptions): Promise<unknown> {
    // The id checked last is not checked again (one compare instead of a regular expression).
    if (id !== this.#checkedId) {
      assertEventId(id);
      this.#checkedId = id;
    }
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const key = this.#requests.next();
    const cb = key.toString(36);
    const frame = this.#options.packer.pack(clientEventEnvelope(id, data, cb));
    const retry = options.retry ?? this.#options.retryRequests;
    const signal = options.signal;
    const deadline = this.#options.clock.now() + timeoutMs;
    const p = new Pending(
      frame,
      cb,
      key,
      id,
      timeoutMs,
      deadline,
      retry,
      signal,
      noSettler,
      noSettler,
    );
    const promise = promiseOf(p);
    try {
      this.#requests.add(p);
      this.#sendOrQueue(p);
    } catch (e) {
      this.#requests.reject(p, e);
    }
    return promise;
  }

  /** The handshake arrived: writes everything queued while connecting. */
  flush(): void {
    const queued = this.#queue;
    this.#queue = [];
    for (const entry of queued) this.#sendEntry(entry);
  }

  /** The connection dropped: requests sent on it go back to the queue front if they retry. */
  lost(error: ClosedError): void {
    const again = this.#requests.lost(error);
    // Unacknowledged numbered sends go again too, in call order with retried requests.
    this.#queue = requeue(again, this.#outbox, this.#queue);
    this.#outbox = [];
  }

  /** Final stop: nothing is sent any more. */
  clear(): void {
    this.#queue = [];
    this.#outbox = [];
  }

  /** The server has every numbered send up to `seq` (`sente-lite/ack`). */
  acked(data: unknown): void {
    const seq = (data as { seq?: unknown } | null)?.seq;
    if (typeof seq !== "number") return;
    const box = this.#outbox;
    let i = 0;
    while (i < box.length && box[i].seq! <= seq) i++;
    if (i > 0) this.#outbox = i === box.length ? [] : box.slice(i);
  }

  /**
   * Sets resume up for the socket that just handshook: continue the server's numbering, drop the
   * sends the server already has, or fall back to plain frames. Returns the gap to report.
   */
  resumed(handshake: Handshake, acks: InboundAcks): ResumeGap | null {
    // Left over by reconnect(), which drops the socket without requeueing.
    this.#queue = requeue([], this.#outbox, this.#queue);
    this.#outbox = [];
    const state = handshake.server?.resume;
    if (!this.#options.resume) return null;
    // Only the newest token resumes for long: the server replaces it on every handshake. A
    // malformed one is dropped (it would make every upgrade throw).
    const token = state?.token;
    this.resumeToken = token && parseResumeToken(token) ? token : null;
    this.#cursors.started(handshake.server?.capabilities ?? [], state?.cseq);
    if (state && handshake.server!.capabilities.includes("resume")) {
      this.resumeOn = true;
      acks.reset(state.seq);
      const ack = state.ack;
      this.#queue = this.#queue.filter((e) => {
        if (e.seq === undefined || e.seq > ack) {
          if (e.order !== undefined && e.seq !== undefined) this.#stats.resent++;
          return true;
        }
        return false;
      });
      return state.gap;
    }
    for (const e of this.#queue) {
      if (e.seq === undefined || !e.event) continue;
      e.frame = this.#options.packer.pack(clientEventEnvelope(e.event[0], e.event[1], null));
      e.seq = undefined;
    }
    return null;
  }

  /**
   * Builds the socket's transforms from what the handshake says the server agreed to; decoded
   * frames go to `receive` while `ws` is still the socket.
   */
  startWire(info: ServerInfo | null, receive: (frame: Frame) => void): void {
    this.dropWire();
    const ws = this.ws;
    const transforms = this.#options.wire;
    if (!info || !ws || this.#options.dialect === "sente" || !transforms) return;
    this.wire = transforms.open(info, this.#options.packer.name, {
      socket: socketSink(ws),
      frame: (frame) => {
        if (this.ws === ws) receive(frame);
      },
      error: (error) => this.#options.onError(error),
      clock: this.#options.clock,
    });
  }

  /** Closes the transforms of a socket that is gone. */
  dropWire(): void {
    this.wire?.close();
    this.wire = null;
  }
}
