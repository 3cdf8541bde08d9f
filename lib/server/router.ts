/**
 * Routing of decoded events: the handler registry (`on`, catch-all), internal and reserved
 * events, the built-in `sente-lite/*` extensions, `authorizeEvent`, the {@linkcode EventMessage}
 * a handler gets (with `reply` and `send`), dispatch and slow-handler timing.
 *
 * @module
 */
import { PONG } from "../protocol/envelope.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { assertEventId, isExtensionId, isReservedId } from "../protocol/event.ts";
import { channelEvent, type ChannelHost } from "./channel_events.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import type { Cluster } from "./cluster.ts";
import { type Presence, PRESENCE_EVENT } from "./presence.ts";
import { PresenceJoins } from "./presence_joins.ts";
import { settleReply } from "./requests.ts";
import { InboundMessage, type MessageHost } from "./event_message.ts";
import type { Resume } from "./resume.ts";
import type { EventHandler, EventMessage } from "./types.ts";

/** The handlers of one Hub and the routing of events to them. */
export class Router {
  readonly #ctx: ServerContext;
  readonly #resume: Resume;
  #handlers = new Map<string, EventHandler[]>();
  /**
   * The id looked up last and its handlers: a client sending one id over and over (the common
   * case) skips hashing a fresh string into the map per frame. Reset whenever handlers change.
   */
  #lastId: string | null = null;
  #lastHandlers: EventHandler[] | undefined;
  #catchAll: EventHandler[] = [];
  /** Answers `sente-lite/presence` requests (set by the Hub). */
  presence: Presence | null = null;
  /** `rateLimit.presenceJoinsPerIp`: joins and member lists of presence channels. */
  readonly #joins: PresenceJoins;
  /** What the channel events (lib/server/channel_events.ts) use of the Hub. */
  readonly #channelHost: ChannelHost;
  /** What every {@linkcode InboundMessage} shares. */
  readonly #messageHost: MessageHost;

  /** Routes with the handlers registered by `on`; channel messages go out through `cluster`. */
  constructor(
    ctx: ServerContext,
    cluster: Pick<Cluster, "toChannel" | "takePublished">,
    resume: Resume,
  ) {
    this.#ctx = ctx;
    this.#resume = resume;
    this.#messageHost = { ctx, resume };
    const joins = this.#joins = new PresenceJoins(ctx);
    this.#channelHost = {
      registry: ctx.channels,
      maxSubscriptions: ctx.options.maxSubscriptionsPerConnection,
      authorize: ctx.options.authorizeChannel,
      count: (code) => ctx.count(code),
      protocolError: (conn, error) => ctx.protocolError(conn, error),
      sendError: (conn, error) => ctx.sendError(conn, error),
      publish: (channel, data, from, except) => cluster.toChannel(channel, data, from, except),
      changed: () => void (ctx.stats.channels = ctx.channels.size),
      joinAllowed: (conn, channel) => joins.allowed(conn, channel),
      settled: resume.durable ? (conn) => resume.durable!.settled(conn) : undefined,
      published: resume.durable ? () => cluster.takePublished() : undefined,
    };
  }

  /** Registers a handler (see `Hub.on`); returns an unsubscribe function. */
  on(id: string, handler: EventHandler): () => void {
    if (typeof handler !== "function") {
      throw new TypeError(`handler must be a function, got ${typeof handler}`);
    }
    if (id === "*") {
      this.#catchAll = [...this.#catchAll, handler];
      return () => {
        this.#catchAll = this.#catchAll.filter((h) => h !== handler);
      };
    }
    assertEventId(id);
    this.#setHandlers(id, [...(this.#handlers.get(id) ?? []), handler]);
    return () => this.#setHandlers(id, (this.#handlers.get(id) ?? []).filter((h) => h !== handler));
  }

  #setHandlers(id: string, handlers: EventHandler[]): void {
    if (handlers.length) this.#handlers.set(id, handlers);
    else this.#handlers.delete(id);
    this.#lastId = null;
    this.#lastHandlers = undefined;
  }

  /** The handlers registered for `id` (not the catch-all), if any. */
  #handlersOf(id: string): EventHandler[] | undefined {
    if (id === this.#lastId) return this.#lastHandlers;
    const handlers = this.#handlers.get(id);
    this.#lastId = id;
    this.#lastHandlers = handlers;
    return handlers;
  }

  /**
   * `true` when handlers were registered for `id` with `on` (which checked it is a valid event
   * id): the inbound path reads such an event without checking its id again.
   */
  handles(id: string): boolean {
    return this.#handlersOf(id) !== undefined;
  }

  /**
   * Routes one decoded event from `conn`; `seq` is its client seq when it came numbered
   * (`sente-lite/msg`, deduplicated already), 0 otherwise. Returns the handlers' promise when one
   * of them is async (settled either way: their errors are reported here).
   */
  route(
    conn: Connection,
    id: string,
    data: unknown,
    cbId: string | null,
    seq = 0,
  ): Promise<unknown> | undefined {
    if (isReservedId(id)) {
      if (id === "chsk/ws-ping") {
        if (cbId !== null) conn.send({ type: "reply", cbId, value: PONG });
        this.internal(id, undefined, conn);
      } else if (id === "chsk/ws-pong") {
        this.internal(id, undefined, conn);
      } else {
        this.#ctx.protocolError(
          conn,
          new ProtocolError("reserved-event", `clients may not send ${id}`, cbId),
        );
      }
      return;
    }
    if (isExtensionId(id) && this.#extension(conn, id, data, cbId)) return;
    // authorizeEvent also sees sente-lite/* events handled by plug-ins (e.g. telemetry).
    const handlers = this.#handlersOf(id) ?? this.#catchAll;
    if (handlers.length === 0) {
      const answer = conn.dialect.unhandled?.({ id, data, cbId }, conn.id, conn.lastSeen);
      if (answer) return void conn.send(answer);
      this.#ctx.protocolError(conn, new ProtocolError("no-handler", `no handler for ${id}`, cbId));
      return;
    }
    const msg = this.#message(conn, id, data, cbId, seq);
    if (this.#ctx.options.authorizeEvent && !this.#authorized(msg)) {
      this.#ctx.protocolError(conn, new ProtocolError("forbidden", `${id} is not allowed`, cbId));
      return;
    }
    return this.#dispatch(handlers, msg, cbId, conn);
  }

  /** Delivers internal events only to handlers registered for their id. */
  internal(id: string, data: unknown, conn: Connection): void {
    const handlers = this.#handlers.get(id);
    if (handlers) this.#dispatch(handlers, this.#message(conn, id, data, null), null, conn);
  }

  #authorized(msg: EventMessage): boolean {
    try {
      return this.#ctx.options.authorizeEvent!(msg) === true;
    } catch (e) {
      this.#ctx.options.onError(e, { message: msg, where: "authorizeEvent" });
      return false;
    }
  }

  #message(
    conn: Connection,
    id: string,
    data: unknown,
    cbId: string | null,
    seq = 0,
  ): InboundMessage {
    const ctx = this.#ctx;
    if (cbId !== null && ctx.observers.length > 0) ctx.observe((o) => o.request?.(conn, id));
    return new InboundMessage(this.#messageHost, conn, id, data, cbId, seq);
  }

  #dispatch(
    handlers: EventHandler[],
    msg: InboundMessage,
    cbId: string | null,
    conn: Connection,
  ): Promise<unknown> | undefined {
    const timed = this.#ctx.tel.enabled("warn", "event");
    let pending: Promise<unknown> | undefined;
    for (const handler of handlers) {
      let result: unknown;
      const start = timed ? performance.now() : 0;
      try {
        result = handler(msg);
      } catch (e) {
        this.#handlerError(conn, msg, cbId, e);
        continue;
      }
      if (timed) this.#timeHandler(msg, performance.now() - start);
      if (result === undefined) continue;
      if (result instanceof Promise) {
        const settled = result.then(
          (value) => {
            if (value !== undefined) msg.answer(value);
          },
          (e) => this.#handlerError(conn, msg, cbId, e),
        );
        pending = pending ? Promise.all([pending, settled]) : settled;
      } else {
        msg.answer(result);
      }
    }
    return pending;
  }

  /** Reports handlers that block the event loop longer than `slowHandlerMs`. */
  #timeHandler(msg: EventMessage, ms: number): void {
    if (ms < this.#ctx.options.slowHandlerMs) return;
    this.#ctx.tel.event("sente-lite/slow-handler", {
      level: "warn",
      data: () => ({ eventId: msg.id, connId: msg.connId, ms: Math.round(ms * 10) / 10 }),
    });
  }

  #handlerError(conn: Connection, msg: EventMessage, cbId: string | null, e: unknown): void {
    const ctx = this.#ctx;
    ctx.tel.error(e, { id: "sente-lite/handler-error", data: () => ({ eventId: msg.id }) });
    ctx.options.onError(e, { message: msg, where: `handler for ${msg.id}` });
    ctx.sendError(conn, new ProtocolError("handler-error", `handler for ${msg.id} failed`, cbId));
  }

  /** Handles built-in `sente-lite/*` events; returns `false` for ids it does not own. */
  #extension(conn: Connection, id: string, data: unknown, cbId: string | null): boolean {
    switch (id) {
      case "sente-lite/subscribe":
      case "sente-lite/unsubscribe":
      case "sente-lite/publish":
        channelEvent(this.#channelHost, conn, id, data, cbId).catch((e) => {
          this.#ctx.options.onError(e, { where: id });
          this.#ctx.sendError(conn, new ProtocolError("handler-error", `${id} failed`, cbId));
        });
        return true;
      case PRESENCE_EVENT:
        if (!this.presence) return false;
        this.presence.request(conn, data, cbId, this.#joins);
        return true;
      case "sente-lite/reply":
        {
          const error = settleReply(conn, data);
          if (error) this.#ctx.protocolError(conn, error);
        }
        return true;
      case "sente-lite/msg": {
        const ev = this.#resume.sequencedIn(conn, data, cbId);
        if (ev !== null) {
          const seq = conn.session !== null ? (data as { seq: number }).seq : 0;
          const settled = this.route(conn, ev[0] as string, ev[1], cbId, seq);
          // On a node of a cluster it is recorded once its handlers ran (lib/server/durable_inbound.ts).
          if (seq > 0) this.#resume.durable?.inbound.handled(conn, seq, settled);
        }
        return true;
      }
      case "sente-lite/ack":
        this.#resume.ackIn(conn, data);
        return true;
      default:
        return false;
    }
  }
}
