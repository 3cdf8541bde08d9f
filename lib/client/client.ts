// This module is browser compatible.
/**
 * The sente-lite client: one WebSocket to a sente-lite (or Sente) server with events,
 * request/reply, server pushes, server→client requests and channels, kept alive across drops.
 *
 * Guarantees:
 * - Frames go out in the order of the calls that made them, queued ones included.
 * - A request settles exactly once: with the reply, or a `TimeoutError`, `ClosedError`,
 *   `ServerError` or the abort reason.
 * - Handlers that throw are reported to `onError` and never stop delivery to other handlers.
 * - Every state change follows the table in `session.ts` and is announced once as `chsk/state`.
 * - After an unexpected close the client reconnects with jittered exponential backoff, calls the
 *   URL provider again, re-subscribes its channels and flushes its queue; only `close()`, a
 *   terminal close code or `maxAttempts` stop it.
 *
 * @module
 */
import { assertEventId } from "../protocol/event.ts";
import type {
  AnyEvents,
  ChannelData,
  ChannelId,
  EventData,
  EventId,
  EventMap,
  EventReply,
  PushStreamId,
  PushStreamMeta,
  StreamId,
  StreamMeta,
  StreamReply,
} from "../protocol/event_map.ts";
import type {
  BidiStream,
  ClientStreamHandler,
  ClientStreams,
  DownloadOptions,
  DownloadStream,
  OpenBidiOptions,
  StreamBodyLike,
  UploadOptions,
} from "./transforms.ts";
import { ClientChannels } from "./channels.ts";
import { type ClientOptions, resolveClientOptions } from "./options.ts";
import type { UrlProvider } from "./options.ts";
import type { ConnectionState } from "./session.ts";
import { checkUrl } from "./socket.ts";
import { ClientConnection } from "./connection.ts";
import type { ClientOutbound } from "./outbound.ts";
import { type ClientParts, clientParts } from "./parts.ts";

import type {
  ChannelHandler,
  ClientRequestOptions,
  ClientStats,
  Handshake,
  HANDSHAKE_EVENT,
  PushData,
  PushHandler,
  RequestHandler,
  RESUBSCRIBE_FAILED_EVENT,
  SendResult,
  STATE_EVENT,
} from "./types.ts";

export type { ConnectionState } from "./session.ts";

/** `request()` without options (not a new object per call). */
const NO_REQUEST_OPTIONS: ClientRequestOptions = Object.freeze({});

/** A connection to a sente-lite server. Make one with {@linkcode connect}. */
export class Client<E extends EventMap = AnyEvents> {
  /** This client's id (sent as `client-id`). */
  readonly clientId: string;
  /**
   * Resolves with the first handshake; rejects if the client ends in `closed` or `failed` before
   * one arrives (failed attempts in between only retry).
   */
  readonly ready: Promise<Handshake>;
  /** Speaking to a Clojure Sente server: Sente's query only, no channels, no server requests. */
  #isSente: boolean;
  #parts: ClientParts;
  /** The state machine, the socket and its attempts. */
  #conn: ClientConnection;
  /** The send paths (`send`, `request`). */
  #out: ClientOutbound;
  #channels: ClientChannels;

  /** Use {@linkcode connect}. */
  constructor(url: UrlProvider, options?: ClientOptions) {
    const o = resolveClientOptions(options ?? {});
    this.clientId = o.clientId;
    this.#isSente = o.dialect === "sente";
    const parts = this.#parts = clientParts(o, (value) => this.#out.sendValue(value));
    this.#channels = new ClientChannels({
      request: (id, data, options) => this.#out.request(id, data, options ?? {}),
      state: () => this.#conn.state,
      onError: (error) => o.onError(error),
      emit: (id, data) => parts.handlers.emit(id, data),
      cursors: parts.cursors,
    });
    checkUrl(url);
    this.#conn = new ClientConnection(url, parts, this.#channels);
    this.#out = this.#conn.out;
    this.ready = this.#conn.ready;
    o.streams?.bind({
      request: (id, data, opts) => this.#out.request(id, data, opts),
      on: (id, handler) => parts.handlers.on(id, handler as PushHandler),
      send: (id, data) => (this as unknown as Client<AnyEvents>).send(id, data),
      packer: o.packer,
      clock: o.clock,
    });
    this.#conn.reconnect("connect");
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#conn.state;
  }

  /** The last handshake, or `null` before the first. */
  get handshake(): Handshake | null {
    return this.#conn.handshake;
  }

  /**
   * A snapshot of the counters.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * console.log(client.stats().reconnects);
   * ```
   */
  stats(): ClientStats {
    return { ...this.#parts.stats };
  }

  /**
   * Closes the connection (code 1000 by default) and stops reconnecting; pending requests and
   * queued sends reject with `ClosedError`. Call {@linkcode Client.reconnect} to start again.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * client.close(); // 1000 "client closed"
   * client.close(4000, "signed out"); // or an application code (3000–4999)
   * ```
   */
  close(code?: number, reason?: string): void {
    code ??= 1000;
    reason ??= "client closed";
    // Browsers throw on any other code a client may not send; fail early and the same everywhere.
    if (code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      throw new RangeError(`close code must be 1000 or 3000–4999, got ${code}`);
    }
    this.#conn.close(code, reason);
  }

  /**
   * Connects again now, from any state: drops the current connection or attempt, resets the
   * attempt counter and skips the backoff. From `failed` or `closed` this is the way back.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * globalThis.addEventListener("online", () => client.reconnect());
   * ```
   */
  reconnect(): void {
    this.#conn.reconnect("reconnect() called");
  }

  /**
   * Registers a handler for pushes of one event id, or `"*"` for every application push (ids
   * outside `chsk/` and `sente-lite/`). `"chsk/handshake"` and `"chsk/state"` deliver lifecycle
   * events. Returns an unsubscribe function.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * const off = client.on("chat/said", (data) => console.log(data));
   * client.on("chsk/state", ({ from, to, reason }) => console.log(from, "→", to, reason));
   * off();
   * ```
   */
  on<
    K extends
      | EventId<E, "serverToClient">
      | "*"
      | typeof HANDSHAKE_EVENT
      | typeof STATE_EVENT
      | typeof RESUBSCRIBE_FAILED_EVENT
      | "sente-lite/gap",
  >(id: K, handler: PushHandler<PushData<E, K>>): () => void {
    return this.#parts.handlers.on(id, handler as PushHandler);
  }

  /**
   * Answers server→client requests for `id`; one handler per id. Returns an unsubscribe function.
   * Unused in the `"sente"` dialect: Sente servers never send requests.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * client.onRequest("app/confirm", (question) => globalThis.confirm(String(question)));
   * ```
   */
  onRequest<K extends EventId<E, "serverToClient">>(
    id: K,
    handler: RequestHandler<EventData<E, "serverToClient", K>, EventReply<E, "serverToClient", K>>,
  ): () => void {
    return this.#parts.handlers.onRequest(id, handler as RequestHandler);
  }

  /**
   * Uploads `body` as a stream named `id` (needs `connect(url, { streams: clientStreams() })`);
   * resolves with the reply of the server's `onStream(id, …)` handler. Memory stays bounded by
   * the credit window whatever the size; rejects with a `StreamError` (cancel, limits, errors).
   */
  upload<K extends StreamId<E>>(
    id: K,
    body: StreamBodyLike,
    options?: UploadOptions & { meta?: StreamMeta<E, K> },
  ): Promise<StreamReply<E, K>> {
    assertEventId(id);
    return this.#streams().upload(id, body, options) as Promise<StreamReply<E, K>>;
  }

  /**
   * Asks the server's handler of `id` for a body (it returns a `ReadableStream`, `Blob` or
   * `Uint8Array`) and resolves with it as a `ReadableStream`, read as the bytes arrive.
   */
  download<K extends EventId<E, "clientToServer">>(
    id: K,
    data?: EventData<E, "clientToServer", K>,
    options?: DownloadOptions,
  ): Promise<DownloadStream> {
    assertEventId(id);
    return this.#streams().download(id, data, options);
  }

  /** Receives the server's push streams named `id` (`server.streamTo()`); one handler per id. */
  onStream<K extends PushStreamId<E>>(
    id: K,
    handler: (stream: ReadableStream<Uint8Array>, meta: PushStreamMeta<E, K>) => void,
  ): () => void {
    assertEventId(id);
    return this.#streams().onStream(id, handler as ClientStreamHandler);
  }

  /**
   * Opens a bidirectional stream named `id`: bytes written to `writable` reach the server's
   * `onStream(id, …)` handler as `msg.stream`, the body the handler returns arrives on `readable`,
   * and control messages go both ways (`send`/`onControl` here, `msg.send`/`msg.onControl` there).
   */
  openStream<K extends StreamId<E>>(
    id: K,
    options?: OpenBidiOptions & { meta?: StreamMeta<E, K> },
  ): BidiStream {
    assertEventId(id);
    return this.#streams().openStream(id, options);
  }

  #streams(): ClientStreams {
    const streams = this.#parts.options.streams;
    if (!streams) throw new TypeError("streams need connect(url, { streams: clientStreams() })");
    return streams;
  }

  /**
   * Sends an event without asking for a reply.
   * @returns `"sent"`, or `"queued"` while connecting or reconnecting (sent after the handshake).
   * @throws {QueueFullError} when not open and `maxQueuedMessages` are already queued.
   * @throws {ClosedError} when `closed`, `closing` or `failed` (or queueing is off).
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * client.send("chat/typing", { room: "lobby" }); // "sent", or "queued" until connected
   * ```
   */
  send<K extends EventId<E, "clientToServer">>(
    id: K,
    data?: EventData<E, "clientToServer", K>,
  ): SendResult {
    assertEventId(id);
    return this.#out.send(id, data);
  }

  /**
   * Sends a request and resolves with the server's reply.
   * @throws {TimeoutError} after `timeoutMs`.
   * @throws {ClosedError} when closed, or the connection drops while waiting (unless `retry`).
   * @throws {QueueFullError} when not open and the queue is full.
   * @throws {ServerError} when the server answers with an error (no handler, handler failed…).
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * const reply = await client.request("demo/echo", { hello: "world" }, { timeoutMs: 5000 });
   * console.log(reply);
   * ```
   */
  request<K extends EventId<E, "clientToServer">>(
    id: K,
    data?: EventData<E, "clientToServer", K>,
    options?: ClientRequestOptions,
  ): Promise<EventReply<E, "clientToServer", K>> {
    options ??= NO_REQUEST_OPTIONS;
    return this.#out.request(id, data, options) as Promise<EventReply<E, "clientToServer", K>>;
  }

  // ------------------------------------------------------------ channels

  /** Channels are a sente-lite extension: a Sente server would answer `:chsk/error` or nothing. */
  #assertChannels(method: string): void {
    if (this.#isSente) {
      throw new TypeError(
        `${method}() needs the sente-lite dialect: Sente servers have no channels`,
      );
    }
  }

  /**
   * Subscribes to a channel; `handler` gets its messages. Rejects with `ServerError` (code
   * `forbidden`, `max-subscriptions-per-conn`…) when the server refuses, and with `TypeError`
   * in the `"sente"` dialect.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * await client.subscribe("room/42", (data, { from }) => console.log(from, data));
   * ```
   */
  async subscribe<C extends ChannelId<E>>(
    channel: C,
    handler: ChannelHandler<ChannelData<E, C>>,
  ): Promise<void> {
    this.#assertChannels("subscribe");
    return await this.#channels.subscribe(channel, handler as ChannelHandler);
  }

  /**
   * Unsubscribes from a channel and drops its handlers; it is no longer re-subscribed after
   * reconnects. When `closed`, `closing` or `failed` the server has forgotten it already, so
   * this resolves at once. Rejects with `TypeError` in the `"sente"` dialect.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * await client.unsubscribe("room/42");
   * ```
   */
  async unsubscribe(channel: string): Promise<void> {
    this.#assertChannels("unsubscribe");
    return await this.#channels.unsubscribe(channel);
  }

  /**
   * Publishes to a channel; resolves with the number of subscribers it reached.
   * @throws {ServerError} `forbidden` when the server refuses.
   * @throws {TypeError} in the `"sente"` dialect.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * const reached = await client.publish("room/42", { text: "hi" }, { excludeSender: true });
   * console.log(reached);
   * ```
   */
  async publish<C extends ChannelId<E>>(
    channel: C,
    data?: ChannelData<E, C>,
    options?: { excludeSender?: boolean },
  ): Promise<number> {
    options ??= {};
    this.#assertChannels("publish");
    return await this.#channels.publish(channel, data, options.excludeSender ?? false);
  }

  /**
   * The channels this client is subscribed to.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * console.log(client.channels()); // e.g. ["room/42"]
   * ```
   */
  channels(): string[] {
    return this.#channels.list();
  }
}

/**
 * Connects to a sente-lite server, or with `{ dialect: "sente", packer: ednPacker() }` to a
 * Clojure Sente 1.21 server. The client connects in the background; await
 * {@linkcode Client.ready} for the handshake. Pass an `EventMap` as `E` to type `send`,
 * `request`, `on`, `onRequest`, `subscribe` and `publish`.
 *
 * @example Untyped
 * ```ts ignore
 * import { connect } from "@sente-lite/sente-lite/client";
 *
 * const client = connect("ws://127.0.0.1:3000/chsk");
 * console.log(await client.request("demo/echo", { hello: "world" })); // unknown
 * client.close();
 * ```
 *
 * @example Typed
 * ```ts ignore
 * import { connect } from "@sente-lite/sente-lite/client";
 *
 * interface Events {
 *   clientToServer: { "chat/say": { data: { text: string }; reply: { ok: boolean } } };
 *   serverToClient: { "chat/said": { data: { uid: string; text: string } } };
 * }
 * const client = connect<Events>("ws://127.0.0.1:3000/chsk");
 * client.on("chat/said", ({ uid, text }) => console.log(uid, text));
 * const { ok } = await client.request("chat/say", { text: "hi" });
 * ```
 */
export function connect<E extends EventMap = AnyEvents>(
  url: UrlProvider,
  options?: ClientOptions,
): Client<E> {
  options ??= {};
  return new Client<E>(url, options);
}
