/**
 * Streams on the server (docs/streaming.md §12): one {@linkcode StreamMux} per client stream
 * session, uploads to `server.onStream()` handlers, downloads (a request handler that returns a
 * body), server push streams (`server.streamTo()`), one server-wide {@linkcode StreamBudget}.
 *
 * - Negotiation: the client names its session in the upgrade (sente-lite dialect), as the
 *   subprotocol `sente-lite.streams.<session>` (lib/protocol/stream_session.ts; older clients: the
 *   deprecated `streams=<session>` query parameter, still read); the server turns streams on only when every binary frame of the connection is its own (a text
 *   packer, or flagged wire frames), and announces `"streams"` (plus `"streams-resumed"` when it
 *   still held the session's mux) in the handshake's capabilities.
 * - Resume: a mux is keyed by (uid, client id, session). When its connection drops it is detached
 *   and kept for `resumeTimeoutMs`; a new connection with the same key gets it back and its
 *   streams continue from the receiver's offsets. A newer connection with the key takes the mux
 *   over from an older one still open.
 * - Authorization: an upload is checked with `authorizeEvent` as an event whose id is the stream's
 *   name and whose data is its metadata, before the first credit is granted (no byte flows before).
 * - Stream frames bypass the rate limiter and the wire pipeline (their memory is bounded by
 *   credit), but OPEN, END, CANCEL and RESUME each cost one message of `rateLimit.messages` (an
 *   OPEN runs `authorizeEvent` and a handler, the others may be answered at once, whatever the
 *   socket holds); stream protocol errors count toward `maxProtocolErrors`.
 *
 * @module
 */
import type { Packer } from "../packers/packer.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { MAX_STREAM_SESSION_LENGTH, readStreamSession } from "../protocol/stream_session.ts";
import { offeredProtocols } from "../protocol/token.ts";
import { usesFlags } from "../wire/capabilities.ts";
import type { StreamBody } from "../streams/body.ts";
import { StreamError } from "../streams/errors.ts";
import { FLAG_STREAM_END, isStreamFrame } from "../streams/frames.ts";
import type { IncomingStream } from "../streams/incoming.ts";
import { emptyMuxStats, StreamMux, type StreamMuxStats } from "../streams/mux.ts";
import { StreamBudget, type StreamSlots } from "../streams/options.ts";
import type { TimerHandle } from "../util/clock.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import type { PendingUpgrade } from "./socket.ts";
import { ipKey } from "./ip_budget.ts";
import { rateViolation } from "./rate_violation.ts";
import {
  CAP_STREAMS,
  CAP_STREAMS_RESUMED,
  type ChannelStreamResult,
  SERVER_STREAM_DEFAULTS,
  type ServerStreamOptions,
  type ServerStreamStats,
  STREAM_CONTROL_EVENT,
  STREAM_ERROR_KEY,
  STREAM_REPLY_EVENT,
  STREAM_REPLY_KEY,
  type StreamHandler,
  type StreamMessage,
  STREAMS_PARAM,
  type StreamToOptions,
} from "./streams_api.ts";
import { addStats, asStreamBody, packMeta, unpackMeta } from "./streams_util.ts";
import type { ConnectionInfo, EventMessage } from "./types.ts";

// The split-out parts stay importable from here, where the rest of the server reaches streams.
export * from "./streams_api.ts";

interface Session {
  readonly key: string;
  readonly mux: StreamMux;
  conn: Connection | null;
  packer: Packer;
  timer: TimerHandle | undefined;
  /** Upload replies that found no connection: sent on the next attach. */
  replies: unknown[];
  /** The last bad frame's description, for the error event. */
  lastError: string;
  /** Control handlers of bidirectional streams, by the client's stream id. */
  controls: Map<number, (control: unknown) => void>;
}

/**
 * The wiring's default `highWaterMark` (the core's is 256 KiB): the mux polls `bufferedAmount`
 * with timers that runtimes clamp to 4 ms when nested, so the socket buffer bounds throughput to
 * about `highWaterMark` per 4 ms (bench/streaming.ts: 256 KiB ≈ 70 MB/s, 1 MiB ≈ 150–330 MB/s).
 */
export const WIRED_HIGH_WATER_MARK = 1024 * 1024;

/** The server's streams. Inert (every method a no-op) when `options` is `false`. */
export class ServerStreams {
  readonly #ctx: ServerContext;
  readonly #options: ServerStreamOptions;
  readonly #downloadIntegrity: boolean;
  readonly #budget: StreamBudget;
  readonly #sessions = new Map<string, Session>();
  readonly #byConn = new Map<Connection, Session>();
  readonly #handlers = new Map<string, StreamHandler>();
  readonly #closedStats: StreamMuxStats = emptyMuxStats();
  /** Streams are on. */
  readonly enabled: boolean;

  /** The streams of the hub of `ctx`. */
  constructor(ctx: ServerContext, options: ServerStreamOptions | false | undefined) {
    this.#ctx = ctx;
    this.enabled = options !== false;
    const { maxStreams, maxStreamsPerIp, downloadIntegrity, ...mux } = options || {};
    this.#options = { highWaterMark: WIRED_HIGH_WATER_MARK, ...mux };
    this.#downloadIntegrity = downloadIntegrity === true;
    this.#budget = new StreamBudget(
      maxStreams ?? SERVER_STREAM_DEFAULTS.maxStreams,
      maxStreamsPerIp ?? SERVER_STREAM_DEFAULTS.maxStreamsPerIp,
    );
    // Range-checks the mux options now rather than at the first connection.
    new StreamMux({ ...mux, side: "server" }).close();
  }

  /** Registers the upload handler of `id` (one per id); returns an unsubscribe function. */
  onStream(id: string, handler: StreamHandler): () => void {
    if (typeof handler !== "function") throw new TypeError("handler must be a function");
    this.#handlers.set(id, handler);
    return () => {
      if (this.#handlers.get(id) === handler) this.#handlers.delete(id);
    };
  }

  /**
   * A connection opens: the capabilities to announce (empty when streams stay off). Call
   * {@linkcode ServerStreams.attach} once the handshake is sent.
   */
  open(conn: Connection, pending: PendingUpgrade): string[] {
    if (!this.enabled || pending.dialect.name !== "sente-lite") return [];
    let session = pending.streams;
    if (session === undefined) {
      try {
        session = readStreamSession(offeredProtocols(pending.request)) ??
          new URL(pending.request.url).searchParams.get(STREAMS_PARAM);
      } catch {
        return [];
      }
    }
    if (!session || session.length > MAX_STREAM_SESSION_LENGTH) return [];
    // Stream frames are told apart by their first byte: every binary frame must carry a flag.
    if (pending.packer.binary && !usesFlags(pending.wire)) return [];
    const key = `${conn.uid}\u0000${conn.clientId}\u0000${session}`;
    let s = this.#sessions.get(key);
    const resumed = s !== undefined;
    if (s) {
      if (s.conn) this.#byConn.delete(s.conn);
      s.mux.detach();
      if (s.timer !== undefined) this.#ctx.clock.clearTimeout(s.timer);
      s.timer = undefined;
    } else {
      s = this.#newSession(key, pending.packer, pending.remoteIp);
      this.#sessions.set(key, s);
    }
    s.conn = conn;
    s.packer = pending.packer;
    this.#byConn.set(conn, s);
    return resumed ? [CAP_STREAMS, CAP_STREAMS_RESUMED] : [CAP_STREAMS];
  }

  /** The handshake is out: the connection's streams start (or resume). */
  attach(conn: Connection): void {
    const s = this.#byConn.get(conn);
    if (!s) return;
    const socket = conn.socket;
    s.mux.attach({
      send: (frame) => {
        socket.send(frame);
        conn.stats.bytesOut += frame.byteLength;
      },
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
      copiesOnSend: true, // ServerSocket.send copies, as WebSocket.send does
    });
    const replies = s.replies;
    s.replies = [];
    for (const reply of replies) this.#push(s, reply);
  }

  /** Takes a binary frame if it is a stream frame of a connection with streams. */
  receive(conn: Connection, frame: Uint8Array): boolean {
    const s = this.#byConn.get(conn);
    if (!s || !isStreamFrame(frame)) return false;
    // END, CANCEL and RESUME take a message of the rate: each may be answered (a frame about a
    // stream the server does not hold is), and answers are written at once, so a peer sending
    // them without reading made the server hold every answer. DATA and CREDIT are bounded by
    // credit, OPEN by `#rated`. Over the rate the frame is dropped unanswered.
    if (frame[0] >= FLAG_STREAM_END && !conn.takeMessages(1)) {
      this.#ctx.count("rate-limited");
      rateViolation(this.#ctx, conn);
      return true;
    }
    const before = s.mux.stats().protocolErrors;
    s.lastError = "a bad stream frame (it failed its stream)";
    s.mux.receive(frame);
    if (s.mux.stats().protocolErrors > before && !conn.closed) {
      this.#ctx.protocolError(conn, new ProtocolError("stream-protocol", s.lastError));
    }
    return true;
  }

  /** The connection closed: its streams wait `resumeTimeoutMs` for the client to come back. */
  closed(conn: Connection): void {
    const s = this.#byConn.get(conn);
    if (!s) return;
    this.#byConn.delete(conn);
    if (s.conn !== conn) return;
    s.conn = null;
    s.mux.detach();
    const ms = this.#options.resumeTimeoutMs ?? 30_000;
    s.timer = this.#ctx.clock.setTimeout(() => this.#end(s), ms);
  }

  /**
   * A request handler's reply: a body (`ReadableStream`, `Blob`, `Uint8Array`) on a connection
   * with streams is streamed, and the reply names the stream; anything else is returned as is.
   */
  replyValue(conn: Connection, id: string, value: unknown): unknown {
    const s = this.#byConn.get(conn);
    const body = s ? asStreamBody(value) : null;
    if (!s || !body) return value;
    try {
      const out = s.mux.open(id, body, {
        meta: packMeta(s.packer, { reply: true }),
        integrity: this.#downloadIntegrity,
      });
      out.done.catch(() => {}); // the client sees the failure on its side
      return { [STREAM_REPLY_KEY]: out.id };
    } catch (e) {
      const code = e instanceof StreamError ? e.code : "stream-refused";
      return { [STREAM_ERROR_KEY]: { code, message: String((e as Error).message ?? e) } };
    }
  }

  /**
   * Streams `body` to one connection (`client.onStream(id, …)` receives it). Resolves once the
   * client confirmed every byte; rejects with a {@linkcode StreamError}.
   */
  streamTo(
    connId: string,
    id: string,
    body: StreamBody,
    options: StreamToOptions = {},
  ): Promise<void> {
    const conn = this.#ctx.conns.get(connId);
    const s = conn ? this.#byConn.get(conn) : undefined;
    if (!s) {
      return Promise.reject(
        new StreamError("stream-refused", `connection ${connId} is not open with streams`),
      );
    }
    if (!asStreamBody(body)) {
      throw new TypeError("body must be a ReadableStream, Blob or Uint8Array");
    }
    const { meta, ...rest } = options;
    return s.mux.open(id, body, { ...rest, meta: packMeta(s.packer, { meta }) }).done;
  }

  /**
   * Streams `body` to every subscriber of `channel` that has streams. Each subscriber gets its own
   * stream and credit window over the shared body (a `Blob` or `Uint8Array`: read again per
   * subscriber, never copied per subscriber), so a slow one never holds the others back or grows
   * memory. Policy for a slow subscriber: it is dropped from the stream once it makes no progress
   * for `idleTimeoutMs` (`stream-idle`); there is no skipping ahead.
   */
  async streamToChannel(
    channel: string,
    id: string,
    body: Blob | Uint8Array,
    options: StreamToOptions = {},
  ): Promise<ChannelStreamResult> {
    if (!(body instanceof Uint8Array || (typeof Blob !== "undefined" && body instanceof Blob))) {
      throw new TypeError("a channel stream's body must be a Blob or a Uint8Array");
    }
    const conns = [...this.#ctx.channels.members(channel)].filter((c) => this.#byConn.has(c));
    const results = await Promise.allSettled(
      conns.map((c) => this.streamTo(c.id, id, body, options)),
    );
    const failed: Record<string, string> = {};
    results.forEach((r, i) => {
      if (r.status === "rejected") failed[conns[i].id] = String(r.reason?.code ?? r.reason);
    });
    return { delivered: results.length - Object.keys(failed).length, failed };
  }

  /** A `sente-lite/stream-control` event from a client. */
  control(conn: Connection, data: unknown): void {
    const s = this.#byConn.get(conn);
    const d = (data ?? {}) as { stream?: unknown; data?: unknown };
    const fn = s && typeof d.stream === "number" ? s.controls.get(d.stream) : undefined;
    try {
      fn?.(d.data);
    } catch (e) {
      this.#ctx.options.onError(e, { where: "stream control handler" });
    }
  }

  /** Counters, or `undefined` when streams are off. */
  stats(): ServerStreamStats | undefined {
    if (!this.enabled) return undefined;
    const total = { ...this.#closedStats, outgoing: 0, incoming: 0 };
    for (const s of this.#sessions.values()) addStats(total, s.mux.stats(), true);
    return { ...total, sessions: this.#sessions.size, active: this.#budget.active };
  }

  #end(s: Session): void {
    if (this.#sessions.get(s.key) !== s || s.conn !== null) return;
    this.#sessions.delete(s.key);
    s.mux.close();
    addStats(this.#closedStats, s.mux.stats(), false);
  }

  #newSession(key: string, packer: Packer, ip: string | null): Session {
    const s: Session = {
      key,
      packer,
      conn: null,
      timer: undefined,
      replies: [],
      lastError: "",
      controls: new Map(),
      mux: null as unknown as StreamMux,
    };
    (s as { mux: StreamMux }).mux = new StreamMux({
      ...this.#options,
      side: "server",
      budget: this.#rated(s, this.#budget.forKey(ip === null ? null : ipKey(ip))),
      clock: this.#ctx.clock,
      onStream: (stream) => this.#incoming(s, stream),
      // Bad frames are counted in receive() (the mux's protocolErrors), once each.
      onError: (error) => void (s.lastError = error.message),
    });
    return s;
  }

  /**
   * `slots` behind the connection's message rate: an OPEN that passed the mux's own checks costs
   * one message of `rateLimit.messages` (stream frames skip the rate limits, and an OPEN runs
   * `authorizeEvent` and the handler), else it is refused `stream-limit`, counted `rate-limited`.
   */
  #rated(s: Session, slots: StreamSlots): StreamSlots {
    const ctx = this.#ctx;
    let refusal: string | undefined;
    return {
      maxStreams: slots.maxStreams,
      release: () => slots.release(),
      get refusal() {
        return refusal ?? slots.refusal;
      },
      tryAcquire: () => {
        const conn = s.conn;
        refusal = undefined;
        if (conn && !conn.takeMessages(1)) {
          refusal = "over the message rate (rateLimit.messages)";
          ctx.count("rate-limited");
          rateViolation(ctx, conn);
          return false;
        }
        return slots.tryAcquire();
      },
    };
  }

  #incoming(s: Session, stream: IncomingStream): void {
    const conn = s.conn;
    const handler = this.#handlers.get(stream.name);
    if (!conn || !handler) return stream.refuse(`no stream handler for ${stream.name}`);
    const packed = unpackMeta(s.packer, stream.meta);
    const meta = packed.meta;
    const bidirectional = packed.bidi === true;
    const authorize = this.#ctx.options.authorizeEvent;
    if (authorize) {
      const msg: EventMessage = {
        event: [stream.name, meta],
        id: stream.name,
        data: meta,
        uid: conn.uid,
        clientId: conn.clientId,
        connId: conn.id,
        connection: conn as ConnectionInfo,
        send: (id, data) => conn.send({ type: "push", events: [[id, data]] }),
      };
      let ok = false;
      try {
        ok = authorize(msg) === true;
      } catch (e) {
        this.#ctx.options.onError(e, { message: msg, where: "authorizeEvent" });
      }
      if (!ok) return stream.refuse(`${stream.name} is not allowed`);
    }
    const message: StreamMessage = {
      id: stream.name,
      streamId: stream.id,
      stream: stream.readable,
      meta,
      total: stream.total,
      sha256: stream.sha256,
      integrity: stream.integrity,
      uid: conn.uid,
      clientId: conn.clientId,
      connId: conn.id,
      bidirectional,
      send: (control) => {
        const c = s.conn;
        if (!c || c.closed) return false;
        return c.send({
          type: "push",
          events: [[STREAM_CONTROL_EVENT, { stream: stream.id, data: control }]],
        });
      },
      onControl: (fn) => void s.controls.set(stream.id, fn),
    };
    let answering = false;
    stream.done.catch(() => {}).finally(() => answering || s.controls.delete(stream.id));
    stream.accept({ onProgress: (p) => message.onProgress?.(p) });
    const reply = (value: unknown) => {
      const answer = bidirectional ? asStreamBody(value) : null;
      if (!answer) return this.#push(s, { stream: stream.id, value });
      // The answer of a bidirectional stream: the client's readable.
      try {
        const out = s.mux.open(stream.name, answer, {
          meta: packMeta(s.packer, { answer: stream.id }),
        });
        answering = true;
        out.done.catch(() => {}).finally(() => s.controls.delete(stream.id));
        this.#push(s, { stream: stream.id, value: { [STREAM_REPLY_KEY]: out.id } });
      } catch (e) {
        fail(e);
      }
    };
    const fail = (e: unknown) => {
      this.#ctx.options.onError(e, { where: `stream handler for ${stream.name}` });
      if (stream.state === "open" || stream.state === "opening") stream.cancel("handler failed");
      this.#push(s, { stream: stream.id, error: { code: "handler-error", message: String(e) } });
    };
    try {
      Promise.resolve(handler(message)).then(reply, fail);
    } catch (e) {
      fail(e);
    }
  }

  #push(s: Session, data: unknown): void {
    const conn = s.conn;
    if (conn && !conn.closed) conn.send({ type: "push", events: [[STREAM_REPLY_EVENT, data]] });
    else s.replies.push(data);
  }
}
