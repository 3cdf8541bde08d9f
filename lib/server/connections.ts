/**
 * A connection's life: `open` (the Connection, its heartbeat, outbound gate, rate buckets, wire
 * transforms, the handshake, resume, registries, `chsk/uidport-open`, `onOpen`) and the close
 * path (registries, pending requests, kept channels, connection slot, close timeout,
 * `chsk/uidport-close`, `onClose`).
 *
 * @module
 */
import { ClosedError } from "../protocol/errors.ts";
import { buildHandshakeData, PROTOCOL_VERSION, type ServerInfo } from "../protocol/handshake.ts";
import { senteLiteDialect } from "../dialects/sente_lite.ts";
import { jsonPacker } from "../packers/json.ts";
import { handshakeFrame } from "./handshake_frame.ts";
import { CAP_CHANNEL_SEQ } from "./channel_seq.ts";
import { capabilityNames, PLAIN, wireHandshakeEntry } from "../wire/capabilities.ts";
import type { Frame } from "../packers/packer.ts";
import { CLOSE_SLOW_CONSUMER, type GatePolicy } from "./backpressure.ts";
import { Connection, type ConnectionHost } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import { CAP_RESUME } from "./delivery.ts";
import { HeartbeatScheduler } from "./heartbeat.ts";
import type { FanOutQueue } from "./fanout.ts";
import type { Inbound } from "./inbound.ts";
import { IpBudget } from "./ip_budget.ts";
import { IpMessageRates } from "./ip_message_rate.ts";
import { TokenBucket } from "./rate_limit.ts";
import type { Resume } from "./resume.ts";
import { openRejected } from "./rejection.ts";
import type { Router } from "./router.ts";
import type { ConnectionSink, PendingUpgrade, ServerSocket } from "./socket.ts";
import { wireLimits } from "./wire.ts";
import { Slot } from "./admission.ts";

/** Capabilities announced in the handshake. */
const CAPABILITIES = ["channels", "server-requests", "error-frames"];

/** Opens and closes the connections of one Hub. */
export class Connections {
  readonly #ctx: ServerContext;
  readonly #inbound: Inbound;
  readonly #router: Router;
  readonly #resume: Resume;
  /** Every connection's heartbeat on one timer (none with `heartbeat: false`). */
  readonly #heartbeats: HeartbeatScheduler<Connection> | null;
  readonly #variants = new Map<string, string>();
  /** The last variant looked up: connections mostly share one, so no key is built for them. */
  #lastVariant: { dialect: unknown; packer: unknown; cseq: boolean; variant: string } | null = null;
  readonly #fanOuts: FanOutQueue;
  /** The answers every connection shares (no closures per connection). */
  readonly #host: ConnectionHost;
  /** The backpressure policy every connection's gate shares; `null`: backpressure off. */
  readonly #gate: GatePolicy | null;
  /** Dropped after a close timeout while the runtime still holds their socket (Deno). */
  readonly #held = new Set<Connection>();
  /** Messages per remote IP (`rateLimit.messagesPerIp`), shared by its connections. */
  readonly #ipMessages: IpMessageRates | undefined;
  /** Inflated bytes per remote IP (`rateLimit.bytesPerIp`), outliving connections. */
  readonly #ipBudget: IpBudget | undefined;
  /** The wire limits every handshake announces (the options do not change). */
  readonly #wireLimits: ReturnType<typeof wireLimits>;

  /** Connections whose frames go to `inbound`, internal events to `router`. */
  constructor(
    ctx: ServerContext,
    inbound: Inbound,
    router: Router,
    resume: Resume,
    fanOuts: FanOutQueue,
  ) {
    this.#fanOuts = fanOuts;
    this.#ctx = ctx;
    this.#inbound = inbound;
    this.#router = router;
    this.#resume = resume;
    const hb = ctx.options.heartbeat;
    this.#heartbeats = hb
      ? new HeartbeatScheduler<Connection>(
        ctx.clock,
        hb,
        (conn) => this.closed(conn, 4008, "heartbeat timeout"),
      )
      : null;
    const bp = ctx.options.backpressure;
    this.#gate = bp ? { options: bp, clock: ctx.clock } : null;
    this.#host = {
      clock: ctx.clock,
      closeTimeoutMs: ctx.options.closeTimeoutMs,
      received: (conn, frame) => this.received(conn, frame),
      socketClosed: (conn, code, reason) => this.socketClosed(conn, code, reason),
      closeSlow: (conn) => {
        ctx.stats.slowConsumerCloses++;
        ctx.tel.event("sente-lite/slow-consumer", {
          level: "warn",
          data: () => ({ connId: conn.id, uid: conn.uid, buffered: conn.socket.bufferedAmount }),
        });
        conn.close(CLOSE_SLOW_CONSUMER, "slow consumer: outbound buffer full");
      },
      closeTimedOut: (conn) => this.#closeTimedOut(conn),
    };
    this.#wireLimits = wireLimits(ctx.options.wire);
    const rates = ctx.options.rateLimit;
    if (rates && rates.bytesPerIp) this.#ipBudget = new IpBudget(rates.bytesPerIp, ctx.clock);
    if (rates && rates.messagesPerIp) {
      this.#ipMessages = new IpMessageRates(rates.messagesPerIp, ctx.clock);
    }
  }

  /** Opens a connection over an adapter's socket and sends the handshake. */
  open(pending: PendingUpgrade, socket: ServerSocket): ConnectionSink {
    const ctx = this.#ctx;
    const options = ctx.options;
    const slot = pending.slot ?? ctx.admission.adopt(pending.remoteIp);
    if (!slot.open(ctx.clock)) {
      // Opened after the handshake timeout freed its slot: refuse it, try again later.
      try {
        socket.close(1013, "handshake timeout");
      } catch {
        // Already closing.
      }
      return { received: () => {}, socketClosed: () => {} };
    }
    if (pending.rejection) return openRejected(ctx, slot, socket, pending.rejection);
    const connId = ctx.newConnId(); // told in the handshake, then not kept (Connection.key)
    const conn = new Connection(
      connId,
      pending.uid,
      pending.clientId,
      pending.request,
      pending.packer,
      pending.dialect,
      socket,
      ctx.clock.now(),
      ctx.stats,
    );
    this.#fanOuts.opened(conn); // it gets the fan-outs made from now on
    ctx.conns.add(conn);
    ctx.stats.connections = ctx.conns.size;
    this.#heartbeats?.add(conn);
    conn.remoteIp = pending.remoteIp;
    conn.slot = slot instanceof Slot && slot.handOver(ctx.admission, conn.remoteIp) ? true : slot;
    conn.host = this.#host;
    conn.gate = this.#gate; // shared; the connection keeps the gate's state
    const limits = options.rateLimit;
    if (limits) {
      conn.messageBucket = new TokenBucket(limits.messages, ctx.clock);
      // Left in closed(), which runs once for every connection that got this far.
      conn.ipMessageBucket = this.#ipMessages?.join(conn.remoteIp) ?? null;
      const ipBucket = this.#ipBudget?.forIp(conn.remoteIp); // charged with inflated bytes
      conn.byteBucket = new TokenBucket(limits.bytes, ctx.clock, ipBucket);
    }
    const settings = pending.wire;
    const attachment = this.#resume.attach(conn, pending);
    const info: ServerInfo = {
      version: PROTOCOL_VERSION,
      connId,
      maxMessageBytes: options.maxMessageBytes,
      capabilities: this.#capabilities(conn, pending, attachment !== null),
      wire: wireHandshakeEntry(settings, this.#wireLimits),
      resume: attachment?.state,
    };
    // The handshake goes out plain: the client learns the settings from it. The common one (our
    // dialect, JSON, no application data) is written from pre-serialized parts.
    if (
      pending.handshakeData === undefined && conn.dialect === senteLiteDialect &&
      conn.packerImpl === jsonPacker
    ) {
      const frame = handshakeFrame(conn.uid, info);
      conn.sendFrame(frame.text, frame.bytes);
    } else {
      const data = buildHandshakeData(pending.handshakeData, info);
      conn.send({ type: "handshake", uid: conn.uid, data });
    }
    if (settings !== PLAIN) this.#inbound.attachWire(conn, settings, socket);
    if (attachment) this.#resume.resume(conn, attachment);
    ctx.streams?.attach(conn);
    const variant = this.#variant(conn);
    if (variant !== null) conn.joinTopics(variant);
    else if (conn.cseq?.broadcastAfter != null) {
      // Native broadcasts only after its broadcast replay (a node of a cluster: channel_pump.ts).
      conn.cseq.onLive = () => {
        const v = conn.closed ? null : this.#variant(conn);
        if (v !== null) conn.joinTopics(v);
      };
    }
    this.#resume.deliverOffline(conn);
    if (ctx.uids.add(conn.uid, conn)) {
      ctx.stats.uids = ctx.uids.size;
      this.#router.internal("chsk/uidport-open", conn.uid, conn);
    }
    ctx.hook("onOpen", () => options.onOpen?.(conn));
    ctx.observe((o) => o.open?.(conn));
    ctx.tel.event("sente-lite/conn-open", {
      level: "debug",
      data: () => ({
        connId: conn.id,
        uid: conn.uid,
        clientId: conn.clientId,
        dialect: conn.dialect.name,
        packer: conn.packer,
      }),
    });
    return conn; // the adapter reports its socket's events to the connection itself
  }

  /** The capabilities a connection's handshake announces. */
  #capabilities(conn: Connection, pending: PendingUpgrade, resumes: boolean): string[] {
    const capabilities = CAPABILITIES.slice();
    if (pending.wire !== PLAIN) capabilities.push(...capabilityNames(pending.wire));
    if (resumes) capabilities.push(CAP_RESUME);
    if (conn.cseq !== null) capabilities.push(CAP_CHANNEL_SEQ);
    const streams = this.#ctx.streams?.open(conn, pending);
    if (streams !== undefined && streams.length > 0) capabilities.push(...streams);
    return capabilities;
  }

  /** One frame from `conn`'s socket. */
  received(conn: Connection, frame: Frame): void {
    // The last line of defence: nothing a peer sends may throw into the runtime's event loop.
    try {
      this.#inbound.receive(conn, frame);
    } catch (e) {
      const ctx = this.#ctx;
      ctx.options.onError(e, { where: "receive" });
      ctx.tel.error(e, { id: "sente-lite/internal-error" });
      conn.close(1011, "internal error");
    }
  }

  /** The runtime reported `conn`'s socket closed. */
  socketClosed(conn: Connection, code: number, reason: string): void {
    // A peer that drops TCP instead of answering our close frame shows up as 1006: the
    // connection ended with the code the server sent.
    this.closed(conn, code === 1006 && conn.closeCode !== null ? conn.closeCode : code, reason);
    if (this.#held.delete(conn)) this.#releaseSlot(conn); // the runtime let go at last
  }

  /**
   * The frame variant of a connection whose frames are everyone's, when its socket has native
   * topics: no resume session numbering its channel messages (channel sequences share them), no
   * batching, compression or chunking, and the backpressure policy `"close"` (or none;
   * `"drop-oldest"` queues per connection).
   */
  #variant(conn: Connection): string | null {
    const socket = conn.socket;
    if (!socket.publish || !socket.subscribe || !socket.unsubscribe) return null;
    // A session numbers its pushes; with channel sequences only its own (uid) pushes, which
    // take the per-connection path anyway: its channel and broadcast frames are its variant's.
    if ((conn.session !== null && conn.cseq === null) || conn.wire !== null) return null;
    if (conn.cseq !== null && conn.cseq.broadcastAfter !== null) return null; // not yet
    const bp = this.#ctx.options.backpressure;
    if (bp && bp.policy !== "close") return null;
    const cseq = conn.cseq !== null;
    const last = this.#lastVariant;
    if (
      last !== null && last.dialect === conn.dialect && last.packer === conn.packerImpl &&
      last.cseq === cseq
    ) return last.variant;
    const key = `${conn.dialect.name}/${conn.packerImpl.name}${cseq ? "+cseq" : ""}`;
    let variant = this.#variants.get(key);
    if (variant === undefined) this.#variants.set(key, variant = key);
    this.#lastVariant = { dialect: conn.dialect, packer: conn.packerImpl, cseq, variant };
    return variant; // one string per variant, shared by its connections
  }

  /** The connection is gone (socket closed, heartbeat or close timeout); runs once. */
  closed(conn: Connection, code: number, reason: string): void {
    const ctx = this.#ctx;
    if (!ctx.conns.remove(conn)) return;
    // A resuming connection keeps in its session what queued fan-outs owe it.
    if (conn.session !== null) conn.settleOwed();
    conn.leaveTopics(); // no-op unless it was native (closed by the peer)
    conn.closed = true;
    this.#resume.detach(conn);
    ctx.streams?.closed(conn);
    ctx.tel.event("sente-lite/conn-close", {
      level: "debug",
      data: () => ({ connId: conn.id, uid: conn.uid, code, reason }),
    });
    this.#heartbeats?.remove(conn);
    if (conn.ipMessageBucket !== null) this.#ipMessages?.leave(conn.remoteIp);
    conn.closeGate();
    conn.wire?.addTo(ctx.stats.wire);
    conn.wire?.close();
    conn.closeDone();
    if (!this.#held.has(conn)) this.#releaseSlot(conn);
    ctx.stats.connections = ctx.conns.size;
    for (const channel of conn.channels) ctx.channels.remove(channel, conn);
    this.#resume.keepChannels(conn);
    conn.clearChannels();
    ctx.stats.channels = ctx.channels.size;
    const pending = conn.takePending();
    for (let i = 0; i < pending.length; i++) { // indexed: no iterator on the close path
      pending[i].cleanup();
      pending[i].reject(new ClosedError(`connection ${conn.id} closed (${code})`));
    }
    if (ctx.uids.remove(conn.uid, conn)) {
      ctx.stats.uids = ctx.uids.size;
      this.#router.internal("chsk/uidport-close", conn.uid, conn);
    }
    ctx.hook("onClose", () => ctx.options.onClose?.(conn, code, reason));
    ctx.observe((o) => o.close?.(conn, code, reason));
  }

  /** A close the server started was not answered in time: the connection is dropped now. */
  #closeTimedOut(conn: Connection): void {
    const ctx = this.#ctx;
    if (!ctx.conns.holds(conn)) return;
    ctx.count("close-timeout");
    ctx.tel.event("sente-lite/close-timeout", {
      level: "warn",
      data: () => ({ connId: conn.id, uid: conn.uid, code: conn.closeCode }),
    });
    // Where the socket cannot be terminated (Deno) the runtime keeps its descriptor until the
    // peer goes: the slot stays counted against maxConnections/maxConnectionsPerIp until then.
    if (!conn.socket.terminate) this.#held.add(conn);
    // The runtime's own close event may still come later: closed() runs once.
    this.closed(conn, conn.closeCode ?? 1006, "close timeout: the peer did not answer");
  }

  #releaseSlot(conn: Connection): void {
    const slot = conn.slot;
    conn.slot = null;
    if (slot === true) this.#ctx.admission.released(conn.remoteIp, false); // an opened Slot
    else slot?.release(this.#ctx.clock);
  }
}
