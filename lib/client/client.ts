// This module is browser compatible.
/**
 * The sente-lite client: one WebSocket to a sente-lite (or Sente) server with events,
 * request/reply, server pushes, server→client requests and channels.
 *
 * Guarantees:
 * - Frames go out in the order of the calls that made them, queued ones included.
 * - A request settles exactly once: with the reply, or a `TimeoutError`, `ClosedError`,
 *   `ServerError` or the abort reason.
 * - Handlers that throw are reported to `onError` and never stop delivery to other handlers.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import {
  decodeServerEnvelope,
  REPLY_CLOSED,
  REPLY_ERROR,
  REPLY_TIMEOUT,
} from "../protocol/envelope.ts";
import { clientEventEnvelope } from "../protocol/envelope.ts";
import { ClosedError, ServerError, TimeoutError } from "../protocol/errors.ts";
import { assertEventId } from "../protocol/event.ts";
import type { Event } from "../protocol/event.ts";
import { parseHandshakeData, type ServerInfo } from "../protocol/handshake.ts";
import type { TimerHandle } from "../util/clock.ts";
import { callbackId } from "../util/ids.ts";
import { type ClientOptions, resolveClientOptions, type ResolvedClientOptions } from "./options.ts";
import type { UrlProvider } from "./options.ts";

/** The connection states of a client. */
export type ConnectionState =
  | "closed"
  | "connecting"
  | "open"
  | "closing"
  | "reconnecting"
  | "failed";

/** What the server said in its handshake. */
export interface Handshake {
  /** The uid the server gave this connection (`"sente/nil-uid"` when anonymous). */
  readonly uid: string;
  /** The application's handshake data (without the `sente-lite` entry). */
  readonly data: Record<string, unknown> | null;
  /** sente-lite server facts, or `null` for a plain Sente server. */
  readonly server: ServerInfo | null;
  /** `true` for the first handshake of this client (Sente's `first-handshake?`). */
  readonly first: boolean;
}

/** A state change. */
export interface StateChange {
  /** The previous state. */
  readonly from: ConnectionState;
  /** The new state. */
  readonly to: ConnectionState;
  /** Why (e.g. `"handshake"`, `"close 1001"`, `"close() called"`). */
  readonly reason: string;
}

/** Context given to push handlers. */
export interface PushContext {
  /** The event id. */
  readonly id: string;
  /** The event `[id, data]`. */
  readonly event: Event;
}

/** Handles a server push. */
export type PushHandler = (data: unknown, context: PushContext) => void;

/** Answers a server→client request; the return (or resolved) value is the reply. */
export type RequestHandler = (data: unknown, context: PushContext) => unknown;

/** Context given to channel handlers. */
export interface ChannelContext {
  /** The channel id. */
  readonly channel: string;
  /** Connection id of the publisher, or `null` when the server published. */
  readonly from: string | null;
}

/** Handles a channel message. */
export type ChannelHandler = (data: unknown, context: ChannelContext) => void;

/** Options of {@linkcode Client.request}. */
export interface ClientRequestOptions {
  /** Reject with `TimeoutError` after this many ms (default: `requestTimeoutMs`). */
  timeoutMs?: number;
  /** Aborting rejects the request with the signal's reason. */
  signal?: AbortSignal;
}

/** Whether a send went out now or waits in the queue for the connection to open. */
export type SendResult = "sent" | "queued";

/** Client counters. */
export interface ClientStats {
  /** Frames received. */
  messagesIn: number;
  /** Frames sent. */
  messagesOut: number;
  /** Replies that arrived after their request had settled. */
  lateReplies: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: TimerHandle;
  cleanup(): void;
}

/** Events delivered by {@linkcode Client.on} besides server pushes. */
export const HANDSHAKE_EVENT = "chsk/handshake";
/** The state-change event id (data: {@linkcode StateChange}). */
export const STATE_EVENT = "chsk/state";

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** A connection to a sente-lite server. Make one with {@linkcode connect}. */
export class Client {
  /** This client's id (sent as `client-id`). */
  readonly clientId: string;
  /** Resolves with the first handshake; rejects if the client closes before one arrives. */
  readonly ready: Promise<Handshake>;
  #options: ResolvedClientOptions;
  #url: UrlProvider;
  #ws: WebSocket | null = null;
  #state: ConnectionState = "closed";
  #handshake: Handshake | null = null;
  #everOpened = false;
  #queue: Frame[] = [];
  #pending = new Map<string, Pending>();
  #handlers = new Map<string, Set<PushHandler>>();
  #any = new Set<PushHandler>();
  #requestHandlers = new Map<string, RequestHandler>();
  #channels = new Map<string, Set<ChannelHandler>>();
  #stats: ClientStats = { messagesIn: 0, messagesOut: 0, lateReplies: 0 };
  #readyResolve!: (h: Handshake) => void;
  #readyReject!: (e: Error) => void;

  /** Use {@linkcode connect}. */
  constructor(url: UrlProvider, options: ClientOptions = {}) {
    this.#options = resolveClientOptions(options);
    this.clientId = this.#options.clientId;
    this.#url = url;
    this.ready = new Promise<Handshake>((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    // Callers who never await `ready` must not get an unhandled rejection.
    this.ready.catch(() => {});
    void this.#open();
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The last handshake, or `null` before the first. */
  get handshake(): Handshake | null {
    return this.#handshake;
  }

  /** A snapshot of the counters. */
  stats(): ClientStats {
    return { ...this.#stats };
  }

  // ------------------------------------------------------------ connection

  async #open(): Promise<void> {
    this.#setState("connecting", "connect");
    let url: URL;
    try {
      const raw = typeof this.#url === "function" ? await this.#url() : this.#url;
      url = new URL(raw);
    } catch (e) {
      this.#fail(new ClosedError(`bad URL: ${toError(e).message}`, { cause: e }));
      return;
    }
    if (this.#state !== "connecting") return; // closed while resolving the URL
    for (const [k, v] of Object.entries(this.#options.params)) url.searchParams.set(k, v);
    url.searchParams.set("client-id", this.clientId);
    url.searchParams.set("packer", this.#options.packer.name);
    let ws: WebSocket;
    try {
      ws = new this.#options.WebSocket(url.href);
    } catch (e) {
      this.#fail(new ClosedError(`cannot open ${url.href}: ${toError(e).message}`, { cause: e }));
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onmessage = (e: MessageEvent) => {
      if (this.#ws !== ws) return;
      this.#receive(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
    };
    ws.onclose = (e: CloseEvent) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#socketClosed(e.code, e.reason);
    };
    // An error is always followed by a close event, which does the work.
    ws.onerror = () => {};
  }

  #fail(error: Error): void {
    this.#setState("closed", error.message);
    this.#rejectAll(error);
    this.#readyReject(error);
  }

  #socketClosed(code: number, reason: string): void {
    const why = `close ${code}${reason ? ` ${reason}` : ""}`;
    this.#setState("closed", why);
    const error = new ClosedError(`connection closed (${why})`);
    this.#rejectAll(error);
    this.#queue = [];
    if (!this.#everOpened) this.#readyReject(error);
  }

  #rejectAll(error: Error): void {
    for (const p of [...this.#pending.values()]) {
      p.cleanup();
      p.reject(error);
    }
  }

  #setState(to: ConnectionState, reason: string): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#emit(STATE_EVENT, { from, to, reason } satisfies StateChange);
  }

  /** Closes the connection (1000); pending requests reject with `ClosedError`. */
  close(code = 1000, reason = "client closed"): void {
    if (this.#state === "closed") return;
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      this.#setState("closing", "close() called");
      try {
        ws.close(code, reason);
      } catch {
        ws.close();
      }
    }
    this.#setState("closed", "close() called");
    const error = new ClosedError("client closed");
    this.#rejectAll(error);
    this.#queue = [];
    this.#readyReject(error);
  }

  // ------------------------------------------------------------ inbound

  #receive(frame: Frame): void {
    this.#stats.messagesIn++;
    let msg;
    try {
      msg = decodeServerEnvelope(this.#options.packer.unpack(frame));
    } catch (e) {
      this.#options.onError(
        new ServerError("unpack-failed", `bad frame from server: ${toError(e).message}`),
      );
      return;
    }
    switch (msg.type) {
      case "handshake":
        return this.#onHandshake(msg.uid, msg.data);
      case "ping":
        this.#sendValue(clientEventEnvelope("chsk/ws-pong", undefined, null));
        return;
      case "reply":
        return this.#onReply(msg.cbId, msg.value);
      case "push":
        for (const [id, data] of msg.events) this.#onPush(id, data);
    }
  }

  #onHandshake(uid: string, raw: unknown): void {
    const { app, info } = parseHandshakeData(raw);
    const handshake: Handshake = { uid, data: app, server: info, first: !this.#everOpened };
    this.#everOpened = true;
    this.#handshake = handshake;
    this.#setState("open", "handshake");
    const queued = this.#queue;
    this.#queue = [];
    for (const frame of queued) this.#sendFrame(frame);
    this.#emit(HANDSHAKE_EVENT, handshake);
    this.#readyResolve(handshake);
  }

  #onReply(cbId: string, value: unknown): void {
    const p = this.#pending.get(cbId);
    if (!p) {
      this.#stats.lateReplies++;
      return;
    }
    p.cleanup();
    if (value === REPLY_TIMEOUT) p.reject(new TimeoutError("the server answered chsk/timeout"));
    else if (value === REPLY_CLOSED) p.reject(new ClosedError("the server answered chsk/closed"));
    else if (value === REPLY_ERROR) {
      p.reject(new ServerError("chsk/error", "the server answered chsk/error"));
    } else p.resolve(value);
  }

  #onPush(id: string, data: unknown): void {
    switch (id) {
      case "sente-lite/error": {
        const d = (data ?? {}) as Record<string, unknown>;
        const error = new ServerError(String(d.code ?? "error"), String(d.message ?? ""));
        const cb = d["cb-id"];
        const p = typeof cb === "string" ? this.#pending.get(cb) : undefined;
        if (p) {
          p.cleanup();
          p.reject(error);
          return;
        }
        if (!this.#handlers.get(id)?.size) this.#options.onError(error);
        break;
      }
      case "sente-lite/request":
        this.#onServerRequest(data);
        return;
      case "sente-lite/channel-msg": {
        const d = (data ?? {}) as Record<string, unknown>;
        const channel = String(d["channel-id"]);
        const ctx: ChannelContext = { channel, from: (d.from as string | null) ?? null };
        for (const h of this.#channels.get(channel) ?? []) this.#call(() => h(d.data, ctx));
        break;
      }
    }
    this.#emit(id, data);
  }

  #onServerRequest(data: unknown): void {
    const d = (data ?? {}) as Record<string, unknown>;
    const cb = d["cb-id"];
    const event = d.event;
    if (typeof cb !== "string" || !Array.isArray(event) || typeof event[0] !== "string") {
      this.#options.onError(new ServerError("bad-request", "malformed sente-lite/request"));
      return;
    }
    const [id, payload] = event as [string, unknown];
    const answer = (body: Record<string, unknown>) =>
      this.#sendValue(clientEventEnvelope("sente-lite/reply", { "cb-id": cb, ...body }, null));
    const handler = this.#requestHandlers.get(id);
    if (!handler) {
      answer({ error: { code: "no-handler", message: `no request handler for ${id}` } });
      return;
    }
    const fail = (e: unknown) => {
      this.#options.onError(toError(e));
      answer({ error: { code: "handler-error", message: `request handler for ${id} failed` } });
    };
    try {
      Promise.resolve(handler(payload, { id, event: [id, payload] })).then(
        (value) => answer({ value: value ?? null }),
        fail,
      );
    } catch (e) {
      fail(e);
    }
  }

  #emit(id: string, data: unknown): void {
    const ctx = { id, event: [id, data] as Event };
    for (const h of this.#handlers.get(id) ?? []) this.#call(() => h(data, ctx));
    if (!id.startsWith("chsk/") && !id.startsWith("sente-lite/")) {
      for (const h of this.#any) this.#call(() => h(data, ctx));
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#options.onError(toError(e));
    }
  }

  // ------------------------------------------------------------ outbound

  #sendFrame(frame: Frame): void {
    this.#ws!.send(frame as string);
    this.#stats.messagesOut++;
  }

  #sendValue(value: unknown): void {
    if (this.#state === "open") this.#sendFrame(this.#options.packer.pack(value));
  }

  /** Sends the frame now, or queues it; throws `ClosedError` when neither is possible. */
  #sendOrQueue(frame: Frame): SendResult {
    if (this.#state === "open") {
      this.#sendFrame(frame);
      return "sent";
    }
    if (this.#state === "connecting" || this.#state === "reconnecting") {
      if (this.#queue.length < this.#options.maxQueuedMessages) {
        this.#queue.push(frame);
        return "queued";
      }
      throw new ClosedError(
        `not open and the send queue is full (${this.#options.maxQueuedMessages})`,
      );
    }
    throw new ClosedError(`the client is ${this.#state}`);
  }

  /**
   * Registers a handler for pushes of one event id, or `"*"` for every application push (ids
   * outside `chsk/` and `sente-lite/`). `"chsk/handshake"` and `"chsk/state"` deliver lifecycle
   * events. Returns an unsubscribe function.
   */
  on(id: string, handler: PushHandler): () => void {
    if (typeof handler !== "function") throw new TypeError("handler must be a function");
    if (id === "*") {
      this.#any.add(handler);
      return () => void this.#any.delete(handler);
    }
    assertEventId(id);
    let set = this.#handlers.get(id);
    if (!set) this.#handlers.set(id, set = new Set());
    set.add(handler);
    return () => void set.delete(handler);
  }

  /** Answers server→client requests for `id`; one handler per id. Returns an unsubscribe function. */
  onRequest(id: string, handler: RequestHandler): () => void {
    assertEventId(id);
    if (typeof handler !== "function") throw new TypeError("handler must be a function");
    this.#requestHandlers.set(id, handler);
    return () => {
      if (this.#requestHandlers.get(id) === handler) this.#requestHandlers.delete(id);
    };
  }

  /**
   * Sends an event without asking for a reply.
   * @returns `"sent"`, or `"queued"` while connecting.
   * @throws {ClosedError} when closed or the queue is full.
   */
  send(id: string, data?: unknown): SendResult {
    assertEventId(id);
    return this.#sendOrQueue(this.#options.packer.pack(clientEventEnvelope(id, data, null)));
  }

  /**
   * Sends a request and resolves with the server's reply.
   * @throws {TimeoutError} after `timeoutMs`.
   * @throws {ClosedError} when closed, or the connection closes while waiting.
   * @throws {ServerError} when the server answers with an error (no handler, handler failed…).
   */
  request(id: string, data?: unknown, options: ClientRequestOptions = {}): Promise<unknown> {
    assertEventId(id);
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    let cb = callbackId();
    while (this.#pending.has(cb)) cb = callbackId();
    const frame = this.#options.packer.pack(clientEventEnvelope(id, data, cb));
    return new Promise((resolve, reject) => {
      const clock = this.#options.clock;
      const signal = options.signal;
      const onAbort = () => {
        cleanup();
        reject(signal!.reason);
      };
      const cleanup = () => {
        this.#pending.delete(cb);
        clock.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const timer = clock.setTimeout(() => {
        cleanup();
        reject(new TimeoutError(`no reply to ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(cb, { resolve, reject, timer, cleanup });
      try {
        this.#sendOrQueue(frame);
      } catch (e) {
        cleanup();
        reject(e);
      }
    });
  }

  // ------------------------------------------------------------ channels

  /**
   * Subscribes to a channel; `handler` gets its messages. Rejects with `ServerError` (code
   * `forbidden`, `max-subscriptions-per-conn`…) when the server refuses.
   */
  async subscribe(channel: string, handler: ChannelHandler): Promise<void> {
    if (typeof channel !== "string" || channel === "") {
      throw new TypeError(`channel must be a non-empty string, got ${JSON.stringify(channel)}`);
    }
    let set = this.#channels.get(channel);
    if (!set) this.#channels.set(channel, set = new Set());
    set.add(handler);
    try {
      const reply = await this.request("sente-lite/subscribe", { "channel-id": channel });
      const r = (reply ?? {}) as Record<string, unknown>;
      if (r.success !== true) {
        throw new ServerError(String(r.error ?? "refused"), `subscribe to ${channel} refused`);
      }
    } catch (e) {
      set.delete(handler);
      if (set.size === 0) this.#channels.delete(channel);
      throw e;
    }
  }

  /** Unsubscribes from a channel and drops its handlers. */
  async unsubscribe(channel: string): Promise<void> {
    this.#channels.delete(channel);
    await this.request("sente-lite/unsubscribe", { "channel-id": channel });
  }

  /**
   * Publishes to a channel; resolves with the number of subscribers it reached.
   * @throws {ServerError} `forbidden` when the server refuses.
   */
  async publish(
    channel: string,
    data?: unknown,
    options: { excludeSender?: boolean } = {},
  ): Promise<number> {
    const reply = await this.request("sente-lite/publish", {
      "channel-id": channel,
      data: data ?? null,
      "exclude-sender?": options.excludeSender ?? false,
    });
    const r = (reply ?? {}) as Record<string, unknown>;
    if (r.success !== true) {
      throw new ServerError(String(r.error ?? "refused"), `publish to ${channel} refused`);
    }
    return Number(r.delivered ?? 0);
  }

  /** The channels this client is subscribed to. */
  channels(): string[] {
    return [...this.#channels.keys()];
  }
}

/**
 * Connects to a sente-lite server. The client connects in the background; await
 * {@linkcode Client.ready} for the handshake.
 */
export function connect(url: UrlProvider, options: ClientOptions = {}): Client {
  return new Client(url, options);
}
