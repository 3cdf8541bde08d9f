/**
 * The Hub: the runtime-neutral heart of the server. It accepts upgrades, owns connections, uids
 * and channels, routes events to handlers and sends to uids, connections, channels and everyone.
 *
 * Guarantees:
 * - Frames to one connection are sent in the order the sends were made.
 * - A bad frame is answered (error event or close code) and never affects other connections.
 * - Handler errors are reported to `onError` and answered with `handler-error`; they never throw
 *   into the runtime.
 * - Closing a connection rejects its pending server→client requests with `ClosedError` and removes
 *   it from its uid and its channels.
 *
 * The Hub holds the public API and delegates: the shared state is lib/server/context.ts, the
 * parts and their wiring lib/server/hub_parts.ts, upgrades lib/server/upgrade.ts, open and close
 * lib/server/connections.ts, what arrives lib/server/inbound.ts, handlers lib/server/router.ts,
 * sends lib/server/cluster.ts (to every node of the backplane) and lib/server/local.ts (this
 * node's connections; fan-out in lib/server/fanout.ts), delivery and resume
 * lib/server/resume.ts, the cluster view lib/server/cluster_info.ts.
 *
 * @module
 */
import { assertEventId, type Event } from "../protocol/event.ts";
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
import { type BroadcastOptions, exceptList, exceptSet } from "./broadcast_options.ts";
import { isChannelId } from "./channels.ts";
import { type ClusterInfo, clusterInfo } from "./cluster_info.ts";
import { ServerContext } from "./context.ts";
import { closeEach, type HubParts, statsSnapshot, wireHub } from "./hub_parts.ts";
import type { MembershipTarget } from "./membership.ts";
import { addObserver } from "./observers.ts";
import { resolveServerOptions } from "./options.ts";
import type { ResolvedServerOptions, ServerOptions } from "./options.ts";
import type { PresenceMember } from "./presence.ts";
import type { ConnectionSink, PendingUpgrade, ServerSocket } from "./socket.ts";
import type {
  ChannelStreamResult,
  StreamHandler,
  StreamMessage,
  StreamToOptions,
} from "./streams.ts";
import type {
  ConnectionInfo,
  EventHandler,
  RequestOptions,
  ServerObserver,
  ServerStats,
} from "./types.ts";
import type { ConnectedUids } from "./uids.ts";

export type { BroadcastOptions } from "./broadcast_options.ts";
export type { ClusterInfo } from "./cluster_info.ts";
export type { PendingUpgrade } from "./socket.ts";

/**
 * The server's API: handlers, sends, requests, channels, queries and closes. Applications use it
 * through {@linkcode Server} (made by `createServer()`), which adds `serve()`, `handler` and
 * `bun()`. `E` is the application's `EventMap` (untyped by default).
 */
export class Hub<E extends EventMap = AnyEvents> {
  /**
   * The options in force, every default filled in (for adapters and lifecycle components).
   * @ignore
   */
  readonly options: ResolvedServerOptions;
  readonly #ctx: ServerContext;
  readonly #p: HubParts;

  /** Makes a hub; see {@linkcode ServerOptions} for the defaults. */
  constructor(options?: ServerOptions) {
    this.options = resolveServerOptions(options ?? {});
    this.#ctx = new ServerContext(this.options);
    this.#p = wireHub(this.#ctx, this as unknown as Hub);
  }

  // ---------------------------------------------------------------- handlers

  /**
   * Registers a handler for an event id, or for every event without a handler with `"*"`.
   * Internal events `chsk/uidport-open`, `chsk/uidport-close`, `chsk/ws-ping` and `chsk/ws-pong`
   * go only to handlers registered for them by id. Returns an unsubscribe function.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * server.on("demo/echo", (msg) => msg.data); // a request's reply is the return value
   * const off = server.on("chat/say", (msg) => {
   *   server.broadcast("chat/said", { uid: msg.uid, text: msg.data }, { except: [msg.connId] });
   * });
   * off(); // unregisters it
   * ```
   */
  on<K extends EventId<E, "clientToServer"> | "*" | `chsk/${string}`>(
    id: K,
    handler: EventHandler<EventData<E, "clientToServer", K>, EventReply<E, "clientToServer", K>>,
  ): () => void {
    return this.#p.router.on(id, handler as EventHandler);
  }

  /**
   * Registers the handler of uploads named `id` (`client.upload(id, body)`): it gets
   * `{ stream, meta, uid, clientId, connId, … }` once `authorizeEvent` allowed the stream, and
   * its return value (or resolved value) is the upload's result. Returns an unsubscribe function.
   */
  onStream<K extends StreamId<E>>(
    id: K,
    handler: (
      message: StreamMessage & { readonly meta: StreamMeta<E, K> },
    ) => StreamReply<E, K> | Promise<StreamReply<E, K>>,
  ): () => void {
    assertEventId(id);
    return this.#ctx.streams!.onStream(id, handler as StreamHandler);
  }

  /**
   * Streams `body` to one connection (`client.onStream(id, …)`); resolves once the client
   * confirmed every byte. Rejects with a `StreamError` (`stream-refused` when the connection is
   * not open with streams).
   */
  streamTo<K extends PushStreamId<E>>(
    connId: string,
    id: K,
    body: ReadableStream<Uint8Array> | Blob | Uint8Array,
    options: StreamToOptions & { meta?: PushStreamMeta<E, K> } = {},
  ): Promise<void> {
    assertEventId(id);
    return this.#ctx.streams!.streamTo(connId, id, body, options);
  }

  /**
   * Streams a `Blob` or `Uint8Array` to every subscriber of `channel` with streams, each with its
   * own credit window; a subscriber without progress for `idleTimeoutMs` is dropped from the stream
   * (`stream-idle`) and never holds the others back. Resolves when every stream ended.
   */
  streamToChannel<K extends PushStreamId<E>>(
    channel: string,
    id: K,
    body: Blob | Uint8Array,
    options: StreamToOptions & { meta?: PushStreamMeta<E, K> } = {},
  ): Promise<ChannelStreamResult> {
    assertEventId(id);
    return this.#ctx.streams!.streamToChannel(channel, id, body, options);
  }

  // ---------------------------------------------------------------- upgrade

  /**
   * Runs every check before an upgrade: path, `client-id`, packer, `authenticate`, handshake data.
   * Returns a `Response` to send instead of upgrading, or a `PendingUpgrade`. Called by the
   * runtime adapters (lib/adapters/).
   * @ignore
   */
  async prepare(
    request: Request,
    remoteIp: string | null = null,
  ): Promise<Response | PendingUpgrade> {
    const prepared = await this.#p.upgrades.prepare(request, remoteIp);
    // A node of a cluster opens the resume session in the shared store before the handshake.
    if (!(prepared instanceof Response)) await this.#p.resume.prepare(prepared);
    return prepared;
  }

  /**
   * `prepare` without a promise when none is needed: synchronous unless a hook (`fallback`,
   * `authenticate`, `handshakeData`) returns a promise. Called by the runtime adapters.
   * @ignore
   */
  prepareNow(
    request: Request,
    remoteIp: string | null = null,
  ): Response | PendingUpgrade | Promise<Response | PendingUpgrade> {
    // A node of a cluster with durable delivery opens the session in the store: always async.
    if (this.#p.resume.durable) return this.prepare(request, remoteIp);
    return this.#p.upgrades.prepare(request, remoteIp);
  }

  /**
   * Opens a connection over an adapter's socket and sends the handshake. Called by the runtime
   * adapters (lib/adapters/).
   * @ignore
   */
  open(pending: PendingUpgrade, socket: ServerSocket): ConnectionSink {
    return this.#p.connections.open(pending, socket);
  }

  /**
   * Adds an observer (metrics, see `./lifecycle`); returns a function that removes it.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * const stop = server.observe({ open: (connection) => console.log("open", connection.uid) });
   * stop();
   * ```
   */
  observe(observer: ServerObserver): () => void {
    return addObserver(this.#ctx, observer);
  }

  // ---------------------------------------------------------------- outbound

  /**
   * Pushes an event to every connection of `uid`; returns how many connections got it (a
   * resuming client whose socket is closing counts: it gets the event on resume). With
   * `delivery` on (the default) the event is also kept for the uid's disconnected resume sessions,
   * and when it reached no connection and no session it waits in the uid's offline buffer for
   * the next connection (`stats().offlineBuffered`); 0 then means "buffered", not "lost".
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * const delivered = server.send("alice", "chat/notice", "you have mail");
   * console.log(delivered); // the number of alice's connections (0 while she is offline)
   * ```
   */
  send<K extends EventId<E, "serverToClient">>(
    uid: string,
    id: K,
    data?: EventData<E, "serverToClient", K>,
  ): number {
    assertEventId(id);
    const event: Event = [id, data];
    return this.#p.cluster.toUid(uid, event);
  }

  /**
   * Pushes an event to one connection; returns `false` when it is not open.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * server.on("chat/join", (msg) => void server.sendTo(msg.connId, "chat/welcome", "hello"));
   * ```
   */
  sendTo<K extends EventId<E, "serverToClient">>(
    connId: string,
    id: K,
    data?: EventData<E, "serverToClient", K>,
  ): boolean {
    assertEventId(id);
    return this.#p.cluster.toConnection(connId, [id, data]);
  }

  /**
   * Pushes an event to every open connection but those in `except`; returns the count.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * server.on("chat/say", (msg) => {
   *   server.broadcast("chat/said", msg.data, { except: [msg.connId] }); // everyone but the sender
   * });
   * ```
   */
  broadcast<K extends EventId<E, "serverToClient">>(
    id: K,
    data?: EventData<E, "serverToClient", K>,
    options?: BroadcastOptions,
  ): number {
    assertEventId(id);
    return this.#p.cluster.toAll([id, data], exceptSet(options));
  }

  /**
   * Publishes to a channel's subscribers as `sente-lite/channel-msg`; returns the count.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * const reached = server.publish("room/42", { from: "server", text: "welcome" });
   * console.log(reached); // subscribers of room/42
   * ```
   */
  publish<C extends ChannelId<E>>(
    channel: C,
    data?: ChannelData<E, C>,
    options?: BroadcastOptions,
  ): number {
    if (!isChannelId(channel)) {
      throw new TypeError(`channel must be a non-empty string, got ${JSON.stringify(channel)}`);
    }
    return this.#p.cluster.toChannel(channel, data, null, exceptList(options));
  }

  /**
   * Sends a request to one connection and resolves with the client's reply (a sente-lite
   * extension: Sente has no server→client requests).
   * @throws {ClosedError} when the connection is not open or closes while waiting.
   * @throws {TimeoutError} after `timeoutMs` (default `requestTimeoutMs`).
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * server.on("chsk/uidport-open", async (msg) => {
   *   const answer = await server.request(msg.connId, "app/confirm", "ready?", { timeoutMs: 5000 });
   *   console.log(msg.uid, "answered", answer);
   * });
   * ```
   */
  request<K extends EventId<E, "serverToClient">>(
    connId: string,
    id: K,
    data?: EventData<E, "serverToClient", K>,
    options?: RequestOptions,
  ): Promise<EventReply<E, "serverToClient", K>> {
    options ??= {};
    assertEventId(id);
    return this.#p.cluster.request(connId, id, data, options) as Promise<
      EventReply<E, "serverToClient", K>
    >;
  }

  /**
   * Subscribes a connection (by id), or every open connection of a uid, to `channel` from the
   * server side (Socket.IO's `socket.join`); the client is told and lists it in `channels()`.
   * Returns how many connections were newly subscribed. No `authorizeChannel`: the server decides.
   * In a cluster it reaches the uid's connections on every node (the count is this node's) and a
   * connection on its node (1 when sent there).
   *
   * @example
   * ```ts
   * import { createServer } from "./server.ts";
   * const server = createServer({ onOpen: (c) => void server.join(c.id, `user:${c.uid}`) });
   * server.join({ uid: "alice" }, "room:lobby");
   * ```
   */
  join(target: MembershipTarget, channel: string): number {
    return this.#p.cluster.member(target, channel, true);
  }

  /**
   * Removes a connection, or every connection of a uid, from `channel` (the client is told);
   * returns how many were subscribed (in a cluster: on every node, counted as for `join`).
   *
   * @example
   * ```ts
   * import { createServer } from "./server.ts";
   * const server = createServer();
   * server.leave({ uid: "alice" }, "room:lobby");
   * ```
   */
  leave(target: MembershipTarget, channel: string): number {
    return this.#p.cluster.member(target, channel, false);
  }

  /**
   * Who is subscribed to `channel`, or `null` when the `presence` option does not name it. In a
   * cluster: on every node, as this node last heard (docs/scaling.md).
   *
   * @example
   * ```ts
   * import { createServer } from "./server.ts";
   * const server = createServer({ presence: ["room:*"] });
   * server.presence("room:lobby"); // [] until someone subscribes
   * ```
   */
  presence(channel: string): PresenceMember[] | null {
    return this.#p.presence.members(channel);
  }

  // ---------------------------------------------------------------- queries and close

  /**
   * The connected uids (observable).
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * console.log([...server.connectedUids.current()]); // the uids with an open connection
   * const unwatch = server.connectedUids.watch((uids) => console.log(uids.size, "online"));
   * unwatch();
   * ```
   */
  get connectedUids(): ConnectedUids {
    return this.#ctx.uids;
  }

  /**
   * Open connections, optionally only those of one uid.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * for (const connection of server.connections("alice")) console.log(connection.id);
   * ```
   */
  connections(uid?: string): ConnectionInfo[] {
    const ctx = this.#ctx;
    const conns = uid === undefined ? ctx.conns.values() : ctx.uids.connections(uid);
    return [...conns].map((c) => c.info());
  }

  /**
   * The channel ids that have at least one subscriber (see {@linkcode Hub.subscribers} for the
   * connections of one channel).
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * console.log(server.channels()); // e.g. ["lobby", "room/42"]
   * ```
   */
  channels(): string[] {
    return this.#ctx.channels.ids();
  }

  /**
   * Connection ids subscribed to `channel`.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * console.log(server.subscribers("lobby").length);
   * ```
   */
  subscribers(channel: string): string[] {
    return [...this.#ctx.channels.members(channel)].map((c) => c.id);
  }

  /**
   * A snapshot of the counters.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * const { connections, messagesIn, messagesOut } = server.stats();
   * console.log(connections, messagesIn, messagesOut);
   * ```
   */
  stats(): ServerStats {
    return statsSnapshot(this.#ctx, this.#p);
  }

  /**
   * Closes one connection (on whichever node of the cluster holds it); returns `false` if it is
   * not open here (for another node's connection: if the close could not be sent there).
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * server.on("admin/kick", (msg) => void server.closeConnection(String(msg.data), 4000, "kicked"));
   * ```
   */
  closeConnection(connId: string, code?: number, reason?: string): boolean {
    return this.#p.cluster.close(connId, code ?? 1000, reason ?? "");
  }

  /**
   * The cluster as this node sees it: node id, link state, live nodes, backplane counters.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * console.log(server.cluster().link); // "up" (a server alone is a cluster of one)
   * ```
   */
  cluster(): ClusterInfo {
    return clusterInfo(this.#ctx, this.#p.cluster);
  }

  /**
   * Leaves the cluster: this node's uids vanish from the other nodes' presence, its topics end,
   * requests waiting for other nodes reject with `ClosedError`, and the backplane is closed.
   * Connections stay open (close them first with {@linkcode closeAll}). Idempotent.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * server.closeAll();
   * await server.leaveCluster();
   * ```
   */
  leaveCluster(): Promise<void> {
    return this.#p.cluster.leave();
  }

  /**
   * Closes every connection of `uid` (Sente's `[:chsk/close]`); returns how many.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * server.on("auth/logout", (msg) => void server.closeUid(msg.uid, 4001, "logged out"));
   * ```
   */
  closeUid(uid: string, code?: number, reason?: string): number {
    return closeEach(this.#ctx.uids.connections(uid), code ?? 1000, reason ?? "");
  }

  /**
   * Closes every connection (default 1001 "going away", so clients reconnect).
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * Deno.addSignalListener("SIGTERM", () => server.closeAll()); // 1001: clients reconnect elsewhere
   * ```
   */
  closeAll(code?: number, reason?: string): number {
    return closeEach(this.#ctx.conns.values(), code ?? 1001, reason ?? "server shutting down");
  }
}
