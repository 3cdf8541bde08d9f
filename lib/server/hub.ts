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
 * @module
 */
import type { Frame, Packer } from "../packers/packer.ts";
import {
  assertEventId,
  type Event,
  isEventId,
  isExtensionId,
  isReservedId,
} from "../protocol/event.ts";
import { ClosedError, ProtocolError } from "../protocol/errors.ts";
import { eventValue, PONG, type ServerMessage } from "../protocol/envelope.ts";
import type { ServerDialect } from "../dialects/dialect.ts";
import { selectDialect } from "../dialects/select.ts";
import { senteLiteDialect } from "../dialects/sente_lite.ts";
import { buildHandshakeData, PROTOCOL_VERSION } from "../protocol/handshake.ts";
import { randomHex } from "../util/ids.ts";
import type { Scope } from "../telemetry/telemetry.ts";
import { frameByteLength } from "../util/utf8.ts";
import { ChannelRegistry, isChannelId } from "./channels.ts";
import { sendRequest, settleReply } from "./requests.ts";
import { channelEvent, type ChannelHost } from "./channel_events.ts";
import { originAllowed } from "./origin.ts";
import { TokenBucket } from "./rate_limit.ts";
import { CLOSE_SLOW_CONSUMER, OutboundGate } from "./backpressure.ts";
import { ConnectionWire, emptyWireTotals, negotiateWire, wireLimits } from "./wire.ts";
import {
  capabilityNames,
  PLAIN,
  WIRE_PARAM,
  wireHandshakeEntry,
  type WireSettings,
} from "../wire/capabilities.ts";
import { decodeClientBatch } from "../wire/batch_frame.ts";
import { ReassemblyBudget } from "../wire/chunking.ts";
import { SharedFrame } from "../wire/compression.ts";
import { offeredProtocols, SUBPROTOCOL } from "../protocol/token.ts";
import { readResumeToken } from "../protocol/resume_token.ts";
import { Connection } from "./connection.ts";
import { Admission, type AdmissionSlot as Slot, type Refusal } from "./admission.ts";
import {
  type Attachment,
  type Buffered,
  CAP_RESUME,
  CLOSE_SUPERSEDED,
  Delivery,
  type DeliveryLoss,
  estimateBytes,
  parseResumeParam,
  RESUME_PARAM,
  type Session,
} from "./delivery.ts";
import { type Heartbeat, startHeartbeat } from "./heartbeat.ts";
import { NIL_UID, resolveServerOptions } from "./options.ts";
import type { ResolvedServerOptions, ServerOptions } from "./options.ts";
import type { ConnectionSink, PendingUpgrade, ServerSocket } from "./socket.ts";
import type {
  ConnectionInfo,
  EventHandler,
  EventMessage,
  RequestOptions,
  ServerObserver,
  ServerStats,
} from "./types.ts";
import { type ConnectedUids, UidRegistry } from "./uids.ts";

export type { PendingUpgrade } from "./socket.ts";

/** Options of broadcasts. */
export interface BroadcastOptions {
  /** Connection ids that do not receive it. */
  except?: Iterable<string>;
}

/** Capabilities announced in the handshake. */
const CAPABILITIES = ["channels", "server-requests", "error-frames"];

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function textResponse(status: number, body: string): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** The runtime-neutral server core. Adapters call {@linkcode Hub.prepare} and {@linkcode Hub.open}. */
export class Hub {
  /** The options in force. */
  readonly options: ResolvedServerOptions;
  #handlers = new Map<string, EventHandler[]>();
  #catchAll: EventHandler[] = [];
  #conns = new Map<string, Connection>();
  #heartbeats = new Map<Connection, Heartbeat>();
  #uids = new UidRegistry<Connection>();
  #channels = new ChannelRegistry<Connection>();
  /** The server-wide and per-IP connection counts, upgrades in progress included. */
  #admission: Admission;
  #slots = new Map<Connection, Slot>();
  /** Dropped after a close timeout while the runtime still holds their socket (Deno). */
  #held = new Set<Connection>();
  #lastFullReport = -Infinity;
  /** Resume sessions keeping channel subscriptions while disconnected, by channel. */
  #keptSubs = new Map<string, Set<Session<Connection>>>();
  /** What the channel events (lib/server/channel_events.ts) use of the Hub. */
  #channelHost: ChannelHost;
  /** Reassembly memory shared by every connection (chunked messages in flight). */
  #reassemblyBudget: ReassemblyBudget | undefined;
  #packers: Map<string, Packer>;
  #observers: ServerObserver[] = [];
  /** The library's own signals; free (one compare) while no telemetry handler listens. */
  #tel: Scope;
  #stats: ServerStats = {
    connections: 0,
    pendingUpgrades: 0,
    uids: 0,
    channels: 0,
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    repliesIgnored: 0,
    largeMessages: 0,
    errors: {},
    bufferedBytes: 0,
    wire: emptyWireTotals(),
    queuedBytes: 0,
    droppedFrames: 0,
    slowConsumerCloses: 0,
    deliveryBytes: 0,
    offlineBuffered: 0,
    offlineDropped: 0,
    offlineExpired: 0,
    resumed: 0,
    resumeFailed: 0,
    duplicatesDropped: 0,
  };
  /** Offline buffers and resume sessions, unless `delivery: false`. */
  #delivery: Delivery<Connection> | null = null;

  /** Makes a hub; see {@linkcode ServerOptions} for the defaults. */
  constructor(options: ServerOptions = {}) {
    this.options = resolveServerOptions(options);
    this.#packers = new Map(this.options.packers.map((p) => [p.name, p]));
    this.#tel = this.options.telemetry.scope("sente-lite.server");
    this.#admission = new Admission(this.options, this.options.clock);
    this.#channelHost = {
      registry: this.#channels,
      maxSubscriptions: this.options.maxSubscriptionsPerConnection,
      authorize: this.options.authorizeChannel,
      count: (code) => this.#count(code),
      protocolError: (conn, error) => this.#protocolError(conn, error),
      sendError: (conn, error) => this.#sendError(conn, error),
      publish: (channel, data, from, except) => this.#publish(channel, data, from, except),
      changed: () => void (this.#stats.channels = this.#channels.size),
    };
    if (this.options.delivery) {
      this.#delivery = new Delivery<Connection>(this.options.delivery, this.options.clock, {
        loss: (loss) => this.#deliveryLoss(loss),
        ack: (conn, seq) => void conn.send({ type: "push", events: [["sente-lite/ack", { seq }]] }),
        ended: (session) => this.#forgetChannels(session),
      }, this.#stats);
    }
    const wire = this.options.wire;
    if (wire && wire.chunking !== false) {
      this.#reassemblyBudget = new ReassemblyBudget(wire.totalReassemblyBytes);
    }
  }

  // ---------------------------------------------------------------- handlers

  /**
   * Registers a handler for an event id, or for every event without a handler with `"*"`.
   * Internal events `chsk/uidport-open`, `chsk/uidport-close`, `chsk/ws-ping` and `chsk/ws-pong`
   * go only to handlers registered for them by id. Returns an unsubscribe function.
   */
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
    this.#handlers.set(id, [...(this.#handlers.get(id) ?? []), handler]);
    return () => {
      const left = (this.#handlers.get(id) ?? []).filter((h) => h !== handler);
      if (left.length) this.#handlers.set(id, left);
      else this.#handlers.delete(id);
    };
  }

  // ---------------------------------------------------------------- upgrade

  /**
   * Runs every check before an upgrade: path, `client-id`, packer, `authenticate`, handshake data.
   * Returns a `Response` to send instead of upgrading, or a {@linkcode PendingUpgrade}.
   */
  async prepare(
    request: Request,
    remoteIp: string | null = null,
  ): Promise<Response | PendingUpgrade> {
    // The slot is taken synchronously before `authenticate` is awaited, so concurrent upgrades
    // count; every way out but a successful upgrade gives it back.
    const admit: { slot?: Slot } = {};
    let result: Response | PendingUpgrade;
    try {
      result = await this.#prepare(request, remoteIp, admit);
    } catch (e) {
      admit.slot?.release(this.options.clock);
      throw e;
    }
    const slot = admit.slot;
    if (slot === undefined) return result;
    if (result instanceof Response) slot.release(this.options.clock);
    else if (!slot.pending) return textResponse(503, "Upgrade took too long: try again later");
    return result;
  }

  async #prepare(
    request: Request,
    remoteIp: string | null,
    admit: { slot?: Slot },
  ): Promise<Response | PendingUpgrade> {
    const url = new URL(request.url);
    if (url.pathname !== this.options.path) {
      return this.options.fallback
        ? await this.options.fallback(request)
        : textResponse(404, "Not found");
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return textResponse(426, `${this.options.path} is a WebSocket endpoint: upgrade required`);
    }
    if (!originAllowed(request, this.options.allowedOrigins)) {
      this.#count("bad-origin");
      return textResponse(403, "Unauthorized origin");
    }
    const slot = this.#admission.reserve(remoteIp, () => this.#handshakeExpired(remoteIp));
    if (typeof slot === "string") return this.#refuse(slot);
    admit.slot = slot;
    const selected = selectDialect(url.searchParams, this.options.dialects);
    if (selected === null) {
      return textResponse(
        400,
        "Bad request: the query parameter client-id is required (a non-blank string of at most 128 characters)",
      );
    }
    const packerName = url.searchParams.get("packer") ?? this.options.packers[0].name;
    const { clientId, dialect } = selected;
    const packer = selected.packer ?? this.#packers.get(packerName);
    if (!packer) {
      return textResponse(
        400,
        `Bad request: unknown packer ${JSON.stringify(packerName)}; this server speaks ${
          [...this.#packers.keys()].join(", ")
        }`,
      );
    }
    let uid: string;
    let handshakeData: Record<string, unknown> | undefined;
    try {
      const auth = await this.options.authenticate(request, { clientId });
      if (auth instanceof Response) return auth;
      uid = auth === null || auth === undefined || auth === "" ? NIL_UID : String(auth);
      if (
        uid !== NIL_UID && this.#uids.connections(uid).size >= this.options.maxConnectionsPerUid
      ) {
        this.#count("too-many-connections");
        return textResponse(429, "Too many connections for this user");
      }
      handshakeData = await this.options.handshakeData(request, uid);
    } catch (e) {
      this.options.onError(e, { where: "authenticate/handshakeData" });
      return textResponse(500, "Internal error while authenticating the connection");
    }
    const offered = offeredProtocols(request);
    const protocol = offered.includes(SUBPROTOCOL) ? SUBPROTOCOL : undefined;
    // Only our own dialect speaks the wire transforms; Sente and original peers get plain frames.
    const wire = dialect === senteLiteDialect
      ? negotiateWire(this.options.wire, url.searchParams.get(WIRE_PARAM))
      : PLAIN;
    // Only our own dialect resumes; an unreadable value means no resume, as for older clients.
    const resume = dialect === senteLiteDialect && this.#delivery !== null
      ? parseResumeParam(url.searchParams.get(RESUME_PARAM))
      : null;
    // The token, not the client id, is what resumes a session (a client id is no credential).
    const resumeToken = resume !== null ? readResumeToken(offered) : null;
    return {
      wire,
      resume,
      resumeToken,
      clientId,
      uid,
      packer,
      dialect,
      request,
      handshakeData,
      protocol,
      remoteIp,
      slot,
    };
  }

  /** Answers an upgrade that admission refused: 503 when the server is full, 429 for the IP. */
  #refuse(refusal: Refusal): Response {
    if (refusal === "ip-full") {
      this.#count("too-many-connections");
      return textResponse(429, "Too many connections from this address");
    }
    this.#count("server-full");
    const now = this.options.clock.now();
    if (now - this.#lastFullReport >= 1000) { // at most once a second under a flood
      this.#lastFullReport = now;
      const { total, pending } = this.#admission;
      this.#tel.event("sente-lite/server-full", {
        level: "warn",
        data: () => ({ connections: total, pending, max: this.options.maxConnections }),
      });
    }
    return textResponse(503, "Server at its connection limit: try again later");
  }

  /** An admitted upgrade did not open its socket within `handshakeTimeoutMs`. */
  #handshakeExpired(remoteIp: string | null): void {
    this.#count("handshake-timeout");
    this.#tel.event("sente-lite/slow-upgrade", {
      level: "info",
      data: () => ({ remoteIp, timeoutMs: this.options.handshakeTimeoutMs }),
    });
  }

  /** Opens a connection over an adapter's socket and sends the handshake. */
  open(pending: PendingUpgrade, socket: ServerSocket): ConnectionSink {
    const slot = pending.slot ?? this.#admission.adopt(pending.remoteIp);
    if (!slot.open(this.options.clock)) {
      // Opened after the handshake timeout freed its slot: refuse it, try again later.
      try {
        socket.close(1013, "handshake timeout");
      } catch {
        // Already closing.
      }
      return { message: () => {}, closed: () => {} };
    }
    const conn = new Connection(
      randomHex(12),
      pending.uid,
      pending.clientId,
      pending.request,
      pending.packer,
      pending.dialect,
      socket,
      this.options.clock.now(),
      this.#stats,
    );
    this.#conns.set(conn.id, conn);
    this.#stats.connections = this.#conns.size;
    const hb = this.options.heartbeat;
    if (hb) {
      const timedOut = () => this.#closed(conn, 4008, "heartbeat timeout");
      this.#heartbeats.set(conn, startHeartbeat(this.options.clock, hb, conn, timedOut));
    }
    conn.remoteIp = pending.remoteIp;
    this.#slots.set(conn, slot);
    conn.clock = this.options.clock;
    conn.closeTimeoutMs = this.options.closeTimeoutMs;
    conn.onCloseTimeout = () => this.#closeTimedOut(conn);
    const bp = this.options.backpressure;
    if (bp) {
      const stats = this.#stats;
      conn.gate = new OutboundGate(bp, {
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        write: (frame, bytes) => conn.write(frame, bytes),
        gapFrame: (dropped) =>
          conn.frames({ type: "push", events: [["sente-lite/gap", { dropped }]] })[0],
        closeSlow: () => {
          if (conn.closed) return;
          stats.slowConsumerCloses++;
          this.#tel.event("sente-lite/slow-consumer", {
            level: "warn",
            data: () => ({ connId: conn.id, uid: conn.uid, buffered: socket.bufferedAmount }),
          });
          conn.close(CLOSE_SLOW_CONSUMER, "slow consumer: outbound buffer full");
        },
        dropped: (n) => void (stats.droppedFrames += n),
      }, this.options.clock);
    }
    const limits = this.options.rateLimit;
    if (limits) {
      conn.messageBucket = new TokenBucket(limits.messages, this.options.clock);
      conn.byteBucket = new TokenBucket(limits.bytes, this.options.clock);
    }
    const settings = pending.wire;
    let attachment: Attachment<Connection> | null = null;
    if (this.#delivery !== null && pending.resume != null) {
      const { uid, clientId } = conn;
      attachment = this.#delivery.attach(uid, clientId, conn, pending.resume, pending.resumeToken);
      conn.session = attachment.session;
    }
    const data = buildHandshakeData(pending.handshakeData, {
      version: PROTOCOL_VERSION,
      connId: conn.id,
      maxMessageBytes: this.options.maxMessageBytes,
      capabilities: [
        ...CAPABILITIES,
        ...capabilityNames(settings),
        ...(attachment ? [CAP_RESUME] : []),
      ],
      wire: wireHandshakeEntry(settings, wireLimits(this.options.wire)),
      resume: attachment?.state,
    });
    // The handshake goes out plain: the client learns the settings from it.
    conn.send({ type: "handshake", uid: conn.uid, data });
    if (settings !== PLAIN) this.#attachWire(conn, settings, socket);
    if (attachment) this.#resume(conn, attachment);
    if (this.#delivery !== null) this.#deliverOffline(conn);
    if (this.#uids.add(conn.uid, conn)) {
      this.#stats.uids = this.#uids.size;
      this.#internal("chsk/uidport-open", conn.uid, conn);
    }
    this.#hook("onOpen", () => this.options.onOpen?.(conn));
    this.#observe((o) => o.open?.(conn));
    this.#tel.event("sente-lite/conn-open", {
      level: "debug",
      data: () => ({
        connId: conn.id,
        uid: conn.uid,
        clientId: conn.clientId,
        dialect: conn.dialect.name,
        packer: conn.packer,
      }),
    });
    return {
      message: (frame) => {
        // The last line of defence: nothing a peer sends may throw into the runtime's event loop.
        try {
          this.#receive(conn, frame);
        } catch (e) {
          this.options.onError(e, { where: "receive" });
          this.#tel.error(e, { id: "sente-lite/internal-error" });
          conn.close(1011, "internal error");
        }
      },
      closed: (code, reason) => {
        this.#closed(conn, code, reason);
        if (this.#held.delete(conn)) this.#releaseSlot(conn); // the runtime let go at last
      },
    };
  }

  /** Puts the negotiated transforms between the connection and its socket. */
  #attachWire(conn: Connection, settings: WireSettings, socket: ServerSocket): void {
    conn.clock = this.options.clock;
    conn.wire = new ConnectionWire(settings, this.options.wire, {
      socket,
      frame: (frame) => {
        try {
          if (!conn.closed) this.#receiveLogical(conn, frame);
        } catch (e) {
          this.options.onError(e, { where: "receive" });
          conn.close(1011, "internal error");
        }
      },
      error: (error) => {
        if (error.fatal) this.#fatal(conn, error as unknown as ProtocolError);
        else this.#protocolError(conn, error as unknown as ProtocolError);
      },
      flushPushes: (events) => conn.sendNow({ type: "push", events }),
      clock: this.options.clock,
      budget: this.#reassemblyBudget,
    });
  }

  // ---------------------------------------------------------------- inbound

  #receive(conn: Connection, frame: Frame): void {
    const bytes = frameByteLength(frame);
    this.#stats.messagesIn++;
    this.#stats.bytesIn += bytes;
    const now = this.options.clock.now();
    conn.lastSeen = now;
    if (conn.closed) return;
    if (bytes > this.options.maxMessageBytes) {
      this.#fatal(
        conn,
        new ProtocolError("too-large", `frame of ${bytes} bytes is over the limit`),
      );
      return;
    }
    if (bytes >= this.options.largeMessageBytes) {
      this.#stats.largeMessages++;
      this.#tel.event("sente-lite/large-message", {
        level: "info",
        data: () => ({ connId: conn.id, uid: conn.uid, bytes }),
      });
      this.#hook(
        "onLargeMessage",
        () => this.options.onLargeMessage?.({ connection: conn, bytes }),
      );
    }
    if (
      conn.messageBucket && !(conn.messageBucket.take(1, now) && conn.byteBucket!.take(bytes, now))
    ) {
      this.#rateLimited(conn, frame);
      return;
    }
    conn.violations = 0;
    if (conn.wire?.receiver) conn.wire.receiver.receive(frame); // delivers to #receiveLogical
    else this.#receiveLogical(conn, frame);
  }

  /** One logical frame (after decompression and reassembly): unpack, decode, route. */
  #receiveLogical(conn: Connection, frame: Frame): void {
    let value: unknown;
    try {
      value = conn.packerImpl.unpack(frame);
    } catch (e) {
      this.#protocolError(
        conn,
        new ProtocolError(
          "unpack-failed",
          `the ${conn.packer} packer could not read the frame: ${errorMessage(e)}`,
        ),
      );
      return;
    }
    if (conn.wire?.settings.batching) {
      let batch: unknown[] | null;
      try {
        batch = decodeClientBatch(value);
      } catch (e) {
        this.#protocolError(conn, e as ProtocolError);
        return;
      }
      if (batch) {
        for (const envelope of batch) this.#decodeAndRoute(conn, envelope);
        return;
      }
    }
    this.#decodeAndRoute(conn, value);
  }

  #decodeAndRoute(conn: Connection, value: unknown): void {
    let ev;
    try {
      ev = conn.dialect.decode(value);
    } catch (e) {
      this.#protocolError(conn, e as ProtocolError);
      return;
    }
    this.#route(conn, ev.id, ev.data, ev.cbId);
  }

  /** Answers a frame over the rate (with its cbId when readable), closing after maxViolations. */
  #rateLimited(conn: Connection, frame: Frame): void {
    const limits = this.options.rateLimit as { maxViolations: number };
    if (++conn.violations > limits.maxViolations) {
      this.#fatal(
        conn,
        new ProtocolError(
          "rate-limit-exceeded",
          `over the rate for ${limits.maxViolations} frames`,
        ),
      );
      return;
    }
    let cbId: string | null = null;
    try {
      cbId = conn.dialect.decode(conn.packerImpl.unpack(frame)).cbId;
    } catch {
      // Unreadable frames are answered without a cbId.
    }
    this.#count("rate-limited");
    this.#sendError(
      conn,
      new ProtocolError("rate-limited", "slow down: frame not processed", cbId),
    );
  }

  #route(conn: Connection, id: string, data: unknown, cbId: string | null): void {
    if (isReservedId(id)) {
      if (id === "chsk/ws-ping") {
        if (cbId !== null) conn.send({ type: "reply", cbId, value: PONG });
        this.#internal(id, undefined, conn);
      } else if (id === "chsk/ws-pong") {
        this.#internal(id, undefined, conn);
      } else {
        this.#protocolError(
          conn,
          new ProtocolError("reserved-event", `clients may not send ${id}`, cbId),
        );
      }
      return;
    }
    if (isExtensionId(id) && this.#extension(conn, id, data, cbId)) return;
    // authorizeEvent also sees sente-lite/* events handled by plug-ins (e.g. telemetry).
    const handlers = this.#handlers.get(id) ?? this.#catchAll;
    if (handlers.length === 0) {
      const answer = conn.dialect.unhandled?.({ id, data, cbId }, conn.id, conn.lastSeen);
      if (answer) return void conn.send(answer);
      this.#protocolError(conn, new ProtocolError("no-handler", `no handler for ${id}`, cbId));
      return;
    }
    const msg = this.#message(conn, id, data, cbId);
    if (this.options.authorizeEvent && !this.#authorized(msg)) {
      this.#protocolError(conn, new ProtocolError("forbidden", `${id} is not allowed`, cbId));
      return;
    }
    this.#dispatch(handlers, msg, cbId, conn);
  }

  #authorized(msg: EventMessage): boolean {
    try {
      return this.options.authorizeEvent!(msg) === true;
    } catch (e) {
      this.options.onError(e, { message: msg, where: "authorizeEvent" });
      return false;
    }
  }

  #message(conn: Connection, id: string, data: unknown, cbId: string | null): EventMessage {
    let replied = false;
    const stats = this.#stats;
    const receivedAt = conn.lastSeen; // set from the clock when the frame arrived
    const observed = this.#observers.length > 0;
    if (cbId !== null && observed) this.#observe((o) => o.request?.(conn, id));
    return {
      event: [id, data],
      id,
      data,
      uid: conn.uid,
      clientId: conn.clientId,
      connId: conn.id,
      connection: conn,
      reply: cbId === null ? undefined : (value: unknown): boolean => {
        if (replied) {
          stats.repliesIgnored++;
          return false;
        }
        replied = true;
        if (observed) {
          const latencyMs = this.options.clock.now() - receivedAt;
          this.#observe((o) => o.reply?.(conn, id, latencyMs));
        }
        try {
          return conn.send({ type: "reply", cbId, value });
        } catch (e) {
          // The value could not be packed (a BigInt in JSON, a cycle…): the caller still learns.
          this.options.onError(e, { where: `reply to ${id}` });
          this.#sendError(
            conn,
            new ProtocolError("handler-error", `the reply to ${id} could not be packed`, cbId),
          );
          return false;
        }
      },
      send: (eventId: string, eventData?: unknown): boolean => {
        assertEventId(eventId, "id");
        return this.#push(conn, [eventId, eventData]);
      },
    };
  }

  #dispatch(
    handlers: EventHandler[],
    msg: EventMessage,
    cbId: string | null,
    conn: Connection,
  ): void {
    const timed = this.#tel.enabled("warn", "event");
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
        result.then(
          (value) => {
            if (value !== undefined && msg.reply) msg.reply(value);
          },
          (e) => this.#handlerError(conn, msg, cbId, e),
        );
      } else if (msg.reply) {
        msg.reply(result);
      }
    }
  }

  /** Reports handlers that block the event loop longer than `slowHandlerMs`. */
  #timeHandler(msg: EventMessage, ms: number): void {
    if (ms < this.options.slowHandlerMs) return;
    this.#tel.event("sente-lite/slow-handler", {
      level: "warn",
      data: () => ({ eventId: msg.id, connId: msg.connId, ms: Math.round(ms * 10) / 10 }),
    });
  }

  #handlerError(conn: Connection, msg: EventMessage, cbId: string | null, e: unknown): void {
    this.#tel.error(e, { id: "sente-lite/handler-error", data: () => ({ eventId: msg.id }) });
    this.options.onError(e, { message: msg, where: `handler for ${msg.id}` });
    this.#sendError(conn, new ProtocolError("handler-error", `handler for ${msg.id} failed`, cbId));
  }

  /** Delivers internal events only to handlers registered for their id. */
  #internal(id: string, data: unknown, conn: Connection): void {
    const handlers = this.#handlers.get(id);
    if (handlers) this.#dispatch(handlers, this.#message(conn, id, data, null), null, conn);
  }

  // ---------------------------------------------------------------- extensions

  /** Handles built-in `sente-lite/*` events; returns `false` for ids it does not own. */
  #extension(conn: Connection, id: string, data: unknown, cbId: string | null): boolean {
    switch (id) {
      case "sente-lite/subscribe":
      case "sente-lite/unsubscribe":
      case "sente-lite/publish":
        channelEvent(this.#channelHost, conn, id, data, cbId).catch((e) => {
          this.options.onError(e, { where: id });
          this.#sendError(conn, new ProtocolError("handler-error", `${id} failed`, cbId));
        });
        return true;
      case "sente-lite/reply":
        {
          const error = settleReply(conn, data);
          if (error) this.#protocolError(conn, error);
        }
        return true;
      case "sente-lite/msg":
        this.#sequencedIn(conn, data, cbId);
        return true;
      case "sente-lite/ack":
        this.#ackIn(conn, data);
        return true;
      default:
        return false;
    }
  }

  // ---------------------------------------------------------------- errors and close

  #count(code: string): void {
    this.#stats.errors[code] = (this.#stats.errors[code] ?? 0) + 1;
  }

  #sendError(conn: Connection, error: ProtocolError): void {
    const message = conn.dialect.errorMessage(error);
    if (message) conn.send(message);
  }

  #protocolError(conn: Connection, error: ProtocolError): void {
    if (error.fatal) return this.#fatal(conn, error);
    this.#count(error.code);
    this.#tel.event("sente-lite/protocol-error", {
      level: "debug",
      data: () => ({ connId: conn.id, uid: conn.uid, code: error.code, message: error.message }),
    });
    if (++conn.protocolErrors > this.options.maxProtocolErrors) {
      return this.#fatal(
        conn,
        new ProtocolError(
          "too-many-errors",
          `more than ${this.options.maxProtocolErrors} bad frames`,
        ),
      );
    }
    this.#sendError(conn, error);
  }

  #fatal(conn: Connection, error: ProtocolError): void {
    this.#count(error.code);
    this.#tel.event("sente-lite/protocol-error", {
      level: "warn",
      data: () => ({ connId: conn.id, uid: conn.uid, code: error.code, close: error.closeCode }),
    });
    conn.close(error.closeCode ?? 1008, `${error.code}: ${error.message}`.slice(0, 120));
  }

  #closed(conn: Connection, code: number, reason: string): void {
    if (!this.#conns.delete(conn.id)) return;
    conn.closed = true;
    if (conn.session !== null) this.#delivery!.detach(conn.session, conn);
    this.#tel.event("sente-lite/conn-close", {
      level: "debug",
      data: () => ({ connId: conn.id, uid: conn.uid, code, reason }),
    });
    this.#heartbeats.get(conn)?.stop();
    conn.gate?.close();
    conn.wire?.addTo(this.#stats.wire);
    conn.wire?.close();
    this.#heartbeats.delete(conn);
    conn.closeDone();
    if (!this.#held.has(conn)) this.#releaseSlot(conn);
    this.#stats.connections = this.#conns.size;
    for (const channel of conn.channels) this.#channels.remove(channel, conn);
    const session = conn.session;
    if (session !== null && session.conn === null && !session.expired) {
      // A resumable client keeps its channels: messages wait in its session until it is back.
      for (const channel of conn.channels) {
        session.channels.add(channel);
        let set = this.#keptSubs.get(channel);
        if (!set) this.#keptSubs.set(channel, set = new Set());
        set.add(session);
      }
    }
    conn.channels.clear();
    this.#stats.channels = this.#channels.size;
    for (const pending of [...conn.pending.values()]) {
      pending.cleanup();
      pending.reject(new ClosedError(`connection ${conn.id} closed (${code})`));
    }
    if (this.#uids.remove(conn.uid, conn)) {
      this.#stats.uids = this.#uids.size;
      this.#internal("chsk/uidport-close", conn.uid, conn);
    }
    this.#hook("onClose", () => this.options.onClose?.(conn, code, reason));
    this.#observe((o) => o.close?.(conn, code, reason));
  }

  /** A close the server started was not answered in time: the connection is dropped now. */
  #closeTimedOut(conn: Connection): void {
    if (!this.#conns.has(conn.id)) return;
    this.#count("close-timeout");
    this.#tel.event("sente-lite/close-timeout", {
      level: "warn",
      data: () => ({ connId: conn.id, uid: conn.uid, code: conn.closeCode }),
    });
    // Where the socket cannot be terminated (Deno) the runtime keeps its descriptor until the
    // peer goes: the slot stays counted against maxConnections/maxConnectionsPerIp until then.
    if (!conn.socket.terminate) this.#held.add(conn);
    // The runtime's own close event may still come later: #closed runs once.
    this.#closed(conn, conn.closeCode ?? 1006, "close timeout: the peer did not answer");
  }

  #releaseSlot(conn: Connection): void {
    this.#slots.get(conn)?.release(this.options.clock);
    this.#slots.delete(conn);
  }

  /** Adds an observer (metrics, see `./lifecycle`); returns a function that removes it. */
  observe(observer: ServerObserver): () => void {
    this.#observers = [...this.#observers, observer];
    return () => {
      this.#observers = this.#observers.filter((o) => o !== observer);
    };
  }

  #observe(fn: (observer: ServerObserver) => void): void {
    for (const o of this.#observers) this.#hook("observer", () => fn(o));
  }

  #hook(where: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.options.onError(e, { where });
    }
  }

  // ---------------------------------------------------------------- delivery (docs/delivery.md)

  /** After the handshake of a resuming client: supersede its old socket, send what it missed. */
  #resume(conn: Connection, attachment: Attachment<Connection>): void {
    const old = attachment.superseded;
    if (old && !old.closed) {
      old.close(CLOSE_SUPERSEDED, "superseded by a newer connection of this session");
    }
    if (attachment.rejected) {
      this.#tel.event("sente-lite/resume-denied", {
        level: "warn",
        data: () => ({ connId: conn.id, uid: conn.uid, clientId: conn.clientId }),
      });
    }
    for (const entry of attachment.replay) this.#sendSequenced(conn, entry);
    const session = attachment.session;
    for (const channel of session.channels) {
      this.#keptSubs.get(channel)?.delete(session);
      if (this.#keptSubs.get(channel)?.size === 0) this.#keptSubs.delete(channel);
      if (this.#channels.add(channel, conn)) conn.channels.add(channel);
    }
    session.channels.clear();
    this.#stats.channels = this.#channels.size;
    // The token is a secret: it stays out of telemetry and logs.
    const { token: _token, ...state } = attachment.state;
    this.#tel.event("sente-lite/resume", {
      level: state.gap ? "info" : "debug",
      data: () => ({ connId: conn.id, uid: conn.uid, clientId: conn.clientId, ...state }),
    });
  }

  /** A uid's first connection gets what was buffered while it had none (gaps first). */
  #deliverOffline(conn: Connection): void {
    const held = this.#delivery!.takeOffline(conn.uid);
    if (!held) return;
    for (const reason of ["overflow", "expired"] as const) {
      const dropped = held[reason];
      if (dropped > 0) {
        conn.send({ type: "push", events: [["sente-lite/gap", { dropped, reason }]] });
      }
    }
    for (const m of held.messages) this.#push(conn, m.event, m.bytes);
  }

  /** An application push to one connection: numbered and kept when it resumes. */
  #push(conn: Connection, event: Event, bytes = -1): boolean {
    const session = conn.session;
    if (session === null) return conn.send({ type: "push", events: [event] });
    return this.#sequenced(conn, session, event, bytes < 0 ? estimateBytes(event) : bytes);
  }

  /**
   * Numbers and keeps `event` in the session, then sends it if the socket is open. `true` means
   * the client gets it, now or on resume (also while its closed socket awaits cleanup).
   */
  #sequenced(conn: Connection, session: Session<Connection>, event: Event, bytes: number): boolean {
    if (session.conn !== conn) return false; // superseded: the newer connection gets it
    const delivery = this.#delivery!;
    const entry = delivery.sequence(session, event);
    delivery.account(session, entry, bytes);
    if (!conn.closed) this.#sendSequenced(conn, entry);
    return true;
  }

  #sendSequenced(conn: Connection, entry: Buffered): void {
    const [id, data] = entry.event;
    const body = { seq: entry.seq, event: eventValue(id, data) };
    conn.send({ type: "push", events: [["sente-lite/msg", body]] });
  }

  /** `sente-lite/msg` from a client: deduplicated by seq, then routed as its inner event. */
  #sequencedIn(conn: Connection, data: unknown, cbId: string | null): void {
    const d = data as Record<string, unknown> | null;
    const seq = typeof d === "object" && d !== null ? d["seq"] : undefined;
    const ev = typeof d === "object" && d !== null ? d["event"] : undefined;
    if (
      typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1 || !Array.isArray(ev) ||
      ev.length < 1 || ev.length > 2 || !isEventId(ev[0]) || ev[0] === "sente-lite/msg"
    ) {
      this.#protocolError(
        conn,
        new ProtocolError(
          "bad-request",
          `sente-lite/msg needs {"seq": n >= 1, "event": [id, data]}`,
          cbId,
        ),
      );
      return;
    }
    const session = conn.session;
    if (session !== null && !this.#delivery!.received(session, seq)) return; // a re-sent duplicate
    this.#route(conn, ev[0], ev[1], cbId);
  }

  /** `sente-lite/ack` from a client: it has every message up to `seq`. */
  #ackIn(conn: Connection, data: unknown): void {
    const d = data as Record<string, unknown> | null;
    const seq = typeof d === "object" && d !== null ? d["seq"] : undefined;
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
      this.#protocolError(
        conn,
        new ProtocolError("bad-request", `sente-lite/ack needs {"seq": n}`),
      );
      return;
    }
    if (conn.session !== null && conn.session.conn === conn) {
      this.#delivery!.acked(conn.session, seq);
    }
  }

  #deliveryLoss(loss: DeliveryLoss): void {
    this.#tel.event("sente-lite/delivery-loss", { level: "warn", data: () => ({ ...loss }) });
    this.#hook("onDeliveryLoss", () => this.options.onDeliveryLoss?.(loss));
  }

  // ---------------------------------------------------------------- outbound

  /**
   * Sends a message to many connections, encoding and packing once per dialect and packer.
   * Recipients whose packer cannot write it (a Transit peer's binary for an EDN peer) are skipped
   * and reported to `onError`; it throws only when no recipient could be sent it.
   */
  #fanOut(
    conns: Iterable<Connection>,
    message: ServerMessage,
    except?: ReadonlySet<string>,
  ): number {
    let cache: Map<ServerDialect, Map<Packer, Frame[]>> | undefined;
    // One SharedFrame per packed frame: compressed once for every recipient that compresses.
    let shared: Map<Frame, SharedFrame> | undefined;
    let n = 0;
    let bytes = -1; // size estimate of a sequenced push, made once for every resuming recipient
    let unpackable: { error: unknown; skipped: number } | undefined;
    for (const conn of conns) {
      if (except?.has(conn.id)) continue;
      if (conn.session !== null && message.type === "push") {
        // A resuming connection numbers its pushes: its frames are its own.
        let ok = true;
        for (const event of message.events) {
          if (bytes < 0) bytes = estimateBytes(event);
          ok = this.#sequenced(conn, conn.session, event, bytes) && ok;
        }
        if (ok) n++;
        continue;
      }
      cache ??= new Map();
      let byPacker = cache.get(conn.dialect);
      if (!byPacker) cache.set(conn.dialect, byPacker = new Map());
      let frames = byPacker.get(conn.packerImpl);
      if (!frames) {
        try {
          frames = conn.frames(message);
        } catch (error) {
          unpackable ??= { error, skipped: 0 };
          frames = UNPACKABLE; // tried once per dialect and packer, as a success is
        }
        byPacker.set(conn.packerImpl, frames);
      }
      if (frames === UNPACKABLE) {
        unpackable!.skipped++;
        continue;
      }
      let ok = true;
      if (conn.wire?.batcher && message.type === "push") {
        // A batching connection takes the events into its batch (its frames are its own).
        ok = conn.send(message);
      } else if (conn.wire?.sender && conn.wire.settings.compression) {
        shared ??= new Map();
        for (const frame of frames) {
          let s = shared.get(frame);
          if (!s) shared.set(frame, s = new SharedFrame(frame));
          ok = conn.sendShared(s) && ok;
        }
      } else {
        conn.wire?.batcher?.flush(); // keep order with pushes waiting in its batch
        for (const frame of frames) ok = conn.sendFrame(frame) && ok;
      }
      if (ok) n++;
    }
    if (unpackable) {
      if (n === 0) throw unpackable.error;
      this.options.onError(unpackable.error, {
        where: `fan-out: skipped ${unpackable.skipped} recipient(s) whose packer cannot write it`,
      });
    }
    return n;
  }

  /**
   * Pushes an event to every connection of `uid`; returns how many connections got it (a
   * resuming client whose socket is closing counts: it gets the event on resume). With
   * `delivery` on (the default) the event is also kept for the uid's disconnected resume sessions,
   * and when it reached no connection and no session it waits in the uid's offline buffer for
   * the next connection (`stats().offlineBuffered`); 0 then means "buffered", not "lost".
   */
  send(uid: string, id: string, data?: unknown): number {
    assertEventId(id);
    const event: Event = [id, data];
    const n = this.#fanOut(this.#uids.connections(uid), { type: "push", events: [event] });
    if (this.#delivery !== null) this.#delivery.hold(uid, event, n);
    return n;
  }

  /** Pushes an event to one connection; returns `false` when it is not open. */
  sendTo(connId: string, id: string, data?: unknown): boolean {
    assertEventId(id);
    const conn = this.#conns.get(connId);
    return conn ? this.#push(conn, [id, data]) : false;
  }

  /** Pushes an event to every open connection but those in `except`; returns the count. */
  broadcast(id: string, data?: unknown, options: BroadcastOptions = {}): number {
    assertEventId(id);
    const except = options.except ? new Set(options.except) : undefined;
    return this.#fanOut(
      this.#conns.values(),
      { type: "push", events: [[id, data]] },
      except,
    );
  }

  /** Publishes to a channel's subscribers as `sente-lite/channel-msg`; returns the count. */
  publish(channel: string, data?: unknown, options: BroadcastOptions = {}): number {
    if (!isChannelId(channel)) {
      throw new TypeError(`channel must be a non-empty string, got ${JSON.stringify(channel)}`);
    }
    return this.#publish(channel, data, null, options.except ? [...options.except] : []);
  }

  #publish(channel: string, data: unknown, from: string | null, except: string[]): number {
    const msg = { "channel-id": channel, data: data ?? null, from };
    const event: Event = ["sente-lite/channel-msg", msg];
    let n = this.#fanOut(
      this.#channels.members(channel),
      { type: "push", events: [event] },
      except.length ? new Set(except) : undefined,
    );
    const kept = this.#keptSubs.get(channel);
    if (kept && this.#delivery) {
      const bytes = estimateBytes(event);
      for (const session of kept) {
        const entry = this.#delivery.sequence(session, event);
        this.#delivery.account(session, entry, bytes);
        n++;
      }
    }
    return n;
  }

  /** A session that will not resume gives up the channels it kept. */
  #forgetChannels(session: Session<Connection>): void {
    for (const channel of session.channels) {
      const set = this.#keptSubs.get(channel);
      set?.delete(session);
      if (set?.size === 0) this.#keptSubs.delete(channel);
    }
    session.channels.clear();
  }

  /**
   * Sends a request to one connection and resolves with the client's reply (a sente-lite
   * extension: Sente has no server→client requests).
   * @throws {ClosedError} when the connection is not open or closes while waiting.
   * @throws {TimeoutError} after `timeoutMs` (default `requestTimeoutMs`).
   */
  request(
    connId: string,
    id: string,
    data?: unknown,
    options: RequestOptions = {},
  ): Promise<unknown> {
    assertEventId(id);
    const conn = this.#conns.get(connId);
    if (!conn || conn.closed) {
      return Promise.reject(new ClosedError(`connection ${connId} is not open`));
    }
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    options.signal?.throwIfAborted();
    return sendRequest(conn, this.options.clock, id, data, timeoutMs, options.signal);
  }

  // ---------------------------------------------------------------- queries and close

  /** The connected uids (observable). */
  get connectedUids(): ConnectedUids {
    return this.#uids;
  }

  /** Open connections, optionally only those of one uid. */
  connections(uid?: string): ConnectionInfo[] {
    const conns = uid === undefined ? this.#conns.values() : this.#uids.connections(uid);
    return [...conns].map((c) => c.info());
  }

  /** Channel ids that have subscribers, or the subscribers' connection ids of one channel. */
  channels(): string[] {
    return this.#channels.ids();
  }

  /** Connection ids subscribed to `channel`. */
  subscribers(channel: string): string[] {
    return [...this.#channels.members(channel)].map((c) => c.id);
  }

  /** A snapshot of the counters. */
  stats(): ServerStats {
    let bufferedBytes = 0;
    let queuedBytes = 0;
    const wire = { ...this.#stats.wire }; // closed connections' counters, plus the open ones'
    for (const conn of this.#conns.values()) {
      bufferedBytes += conn.socket.bufferedAmount;
      queuedBytes += conn.gate?.queuedBytes ?? 0;
      conn.wire?.addTo(wire);
    }
    const pendingUpgrades = this.#admission.pending;
    const deliveryBytes = this.#delivery?.bytes ?? 0;
    const errors = { ...this.#stats.errors };
    return {
      ...this.#stats,
      errors,
      bufferedBytes,
      queuedBytes,
      wire,
      pendingUpgrades,
      deliveryBytes,
    };
  }

  /** Closes one connection; returns `false` if it is not open. */
  closeConnection(connId: string, code = 1000, reason = ""): boolean {
    const conn = this.#conns.get(connId);
    if (!conn || conn.closed) return false;
    conn.close(code, reason);
    return true;
  }

  /** Closes every connection of `uid` (Sente's `[:chsk/close]`); returns how many. */
  closeUid(uid: string, code = 1000, reason = ""): number {
    let n = 0;
    for (const conn of [...this.#uids.connections(uid)]) {
      if (!conn.closed) {
        conn.close(code, reason);
        n++;
      }
    }
    return n;
  }

  /** Closes every connection (default 1001 "going away", so clients reconnect). */
  closeAll(code = 1001, reason = "server shutting down"): number {
    let n = 0;
    for (const conn of [...this.#conns.values()]) {
      if (!conn.closed) {
        conn.close(code, reason);
        n++;
      }
    }
    return n;
  }
}

/** The cached frames of a dialect and packer that could not write a fan-out's message. */
const UNPACKABLE: Frame[] = [];
