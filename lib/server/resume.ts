/**
 * The Hub's side of delivery and resume (docs/delivery.md): attaching a connection to its resume
 * session, replaying what it missed, offline buffers, numbered pushes, `sente-lite/msg` and
 * `sente-lite/ack` from clients, the channel subscriptions an away session keeps, and loss
 * reports. The books themselves (sessions, buffers, budgets) are lib/server/delivery.ts, reached
 * only through here. On a node of a cluster the books are the backplane's store instead
 * (lib/server/durable.ts), so a client resumes on any node.
 *
 * @module
 */
import { eventValue } from "../protocol/envelope.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { type Event, isEventId } from "../protocol/event.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import {
  type Attachment,
  type Buffered,
  CLOSE_SUPERSEDED,
  Delivery,
  type DeliveryLoss,
  estimateBytes,
  type Session,
} from "./delivery.ts";
import { Durable } from "./durable.ts";
import { ChannelSeq, type StreamStart } from "./channel_seq.ts";
import { BROADCAST_STREAM } from "./channel_log.ts";
import type { Sequencer } from "./fanout.ts";
import type { PendingUpgrade } from "./socket.ts";

/** Delivery glue of one Hub; without `delivery` (option `false`) only plain pushes remain. */
export class Resume implements Sequencer {
  readonly #ctx: ServerContext;
  /** Offline buffers and resume sessions, unless `delivery: false`. */
  readonly #delivery: Delivery<Connection> | null = null;
  /** The store-backed books of a node of a cluster (with `delivery` on), else `null`. */
  readonly durable: Durable | null = null;
  /** Resume sessions keeping channel subscriptions while disconnected, by channel. */
  readonly #keptSubs = new Map<string, Set<Session<Connection>>>();
  /**
   * Sessions away (detached, not ended): each keeps its uid's backplane topic, so sends to the uid
   * from other nodes are kept for it (docs/scaling.md).
   */
  readonly #away = new Set<Session<Connection>>();
  /** Channel sequences (capability `"channel-seq"`), with delivery on a server alone. */
  readonly channelSeq: ChannelSeq | null = null;
  /** Where the broadcast streams of connections just attached start (sent after the handshake). */
  readonly #starts = new WeakMap<Connection, StreamStart>();

  /** Makes the glue; the delivery books exist when `options.delivery` is on. */
  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
    const options = ctx.options;
    if (options.delivery) {
      this.#delivery = new Delivery<Connection>(options.delivery, options.clock, {
        loss: (loss) => this.#deliveryLoss(loss),
        ack: (conn, seq) => void conn.send({ type: "push", events: [["sente-lite/ack", { seq }]] }),
        ended: (session) => this.#forgetChannels(session),
      }, ctx.stats);
      if (ctx.topics.clustered) this.durable = new Durable(ctx, (l) => this.#deliveryLoss(l));
      else this.channelSeq = new ChannelSeq(options.delivery, options.clock);
    }
  }

  /** Where uid sends and channel publishes are numbered on this node. */
  get stored(): Sequencer {
    return this.durable?.stored ?? this;
  }

  /** Before an upgrade (async): a node of a cluster opens the session in the store. */
  async prepare(pending: PendingUpgrade): Promise<void> {
    if (this.durable) await this.durable.prepare(pending);
  }

  /** `true` when delivery is on (sessions, offline buffers). */
  get enabled(): boolean {
    return this.#delivery !== null;
  }

  /** Bytes the delivery books hold. */
  get bytes(): number {
    return (this.#delivery?.bytes ?? 0) + (this.channelSeq?.logs.bytes ?? 0);
  }

  /** Attaches a resuming connection to its session (new or found); `null` when it does not resume. */
  attach(conn: Connection, pending: PendingUpgrade): Attachment<Connection> | null {
    if (this.durable) return this.durable.attach(conn, pending);
    if (this.#delivery === null || pending.resume == null) return null;
    const { uid, clientId } = conn;
    const attachment = this.#delivery.attach(
      uid,
      clientId,
      conn,
      pending.resume,
      pending.resumeToken,
      conn.remoteIp,
    );
    conn.session = attachment.session;
    this.#back(attachment.session);
    if (this.channelSeq !== null && pending.channelSeq !== undefined) {
      // Only a session its token opened was a recipient of what the logs hold.
      const { resumed, gap } = attachment.state;
      const found = resumed || (gap !== null && gap.reason !== "unknown");
      const start = this.channelSeq.attach(conn, pending.channelSeq, found);
      attachment.state.cseq = start.position;
      this.#starts.set(conn, start);
    }
    return attachment;
  }

  /** After the handshake of a resuming client: supersede its old socket, send what it missed. */
  resume(conn: Connection, attachment: Attachment<Connection>): void {
    if (this.durable) return this.durable.resume(conn, attachment);
    const ctx = this.#ctx;
    const old = attachment.superseded;
    if (old && !old.closed) {
      // Its channels pass to the new connection (the token proves the session subscribed): they
      // replay from the logs when the client re-subscribes with its cursors.
      if (conn.cseq !== null && old.cseq !== null) {
        for (const channel of [...old.channels, ...old.cseq.pending ?? []]) {
          this.channelSeq!.own(conn).addPending(channel);
        }
      }
      old.close(CLOSE_SUPERSEDED, "superseded by a newer connection of this session");
    }
    if (attachment.rejected) {
      ctx.tel.event("sente-lite/resume-denied", {
        level: "warn",
        data: () => ({ connId: conn.id, uid: conn.uid, clientId: conn.clientId }),
      });
    }
    const replay = attachment.replay;
    for (let i = 0; i < replay.length; i++) this.#sendSequenced(conn, replay[i]); // no iterator
    const session = attachment.session;
    const streams = conn.cseq;
    // Guarded, not a loop over an empty array: no iterator for a session that keeps none.
    if (session.keepsChannels) {
      for (const channel of session.channels) {
        this.#keptSubs.get(channel)?.delete(session);
        if (this.#keptSubs.get(channel)?.size === 0) this.#keptSubs.delete(channel);
        if (session.channelSeq && streams !== null) {
          // Live once the client's re-subscribe brings its cursor (the log replays what it missed).
          this.channelSeq!.own(conn).addPending(channel);
          this.channelSeq!.logs.release(channel); // the session's hold passes to the connection
        } else {
          if (session.channelSeq) this.channelSeq!.logs.release(channel);
          if (ctx.channels.add(channel, conn)) conn.subscribe(channel);
        }
        ctx.topics.releaseChannel(channel); // the connection's subscription holds it now
      }
    }
    session.dropChannels();
    session.channelSeq = streams !== null;
    const start = this.#starts.get(conn);
    this.#starts.delete(conn);
    if (start?.since) this.channelSeq!.replay(conn, BROADCAST_STREAM, start.since);
    ctx.stats.channels = ctx.channels.size;
    const state = attachment.state;
    ctx.tel.event("sente-lite/resume", {
      level: state.gap ? "info" : "debug",
      data: () => {
        // The token is a secret: it stays out of telemetry and logs. Copied only when recorded.
        const { token: _token, ...rest } = state;
        return { connId: conn.id, uid: conn.uid, clientId: conn.clientId, ...rest };
      },
    });
  }

  /** A uid's first connection gets what was buffered while it had none (gaps first). */
  deliverOffline(conn: Connection): void {
    if (this.durable) return this.durable.deliverOffline(conn);
    if (this.#delivery === null) return;
    const held = this.#delivery.takeOffline(conn.uid);
    if (!held) return;
    for (const reason of ["overflow", "expired"] as const) {
      const dropped = held[reason];
      if (dropped > 0) {
        conn.send({ type: "push", events: [["sente-lite/gap", { dropped, reason }]] });
      }
    }
    for (const m of held.messages) this.push(conn, m.event, m.bytes);
  }

  /** A closed connection leaves its session (which then waits for a resume). */
  detach(conn: Connection): void {
    if (this.durable) return this.durable.detach(conn);
    const session = conn.session;
    if (session === null) return;
    this.#delivery!.detach(session, conn);
    if (session.conn === null && !session.expired && !this.#away.has(session)) {
      this.#away.add(session);
      this.#ctx.topics.retainUid(session.uid);
    }
  }

  /** The session is attached again, or ended: it no longer keeps its uid's topic. */
  #back(session: Session<Connection>): void {
    if (this.#away.delete(session)) this.#ctx.topics.releaseUid(session.uid);
  }

  /** A resumable client keeps its channels: messages wait in its session until it is back. */
  keepChannels(conn: Connection): void {
    if (this.durable) return; // the store keeps them (detach)
    const session = conn.session;
    if (session === null || session.conn !== null || session.expired) return;
    const streams = conn.cseq;
    const channels = streams?.pending ? [...conn.channels, ...streams.pending] : conn.channels;
    for (const channel of channels) {
      if (session.channels.has(channel)) continue;
      session.channels.add(channel);
      this.#ctx.topics.retainChannel(channel);
      // The channel's log keeps its messages for a channel-seq session: nothing is buffered here.
      if (streams !== null) this.channelSeq!.logs.retain(channel);
      let set = this.#keptSubs.get(channel);
      if (!set) this.#keptSubs.set(channel, set = new Set());
      set.add(session);
    }
  }

  /** Keeps a channel message for the away sessions subscribed to it; returns how many. */
  keep(channel: string, event: Event): number {
    const kept = this.#keptSubs.get(channel);
    if (!kept || !this.#delivery || this.durable) return 0;
    const bytes = estimateBytes(event);
    let n = 0;
    for (const session of kept) {
      n++;
      if (session.channelSeq) continue; // its channel's log keeps it (channel_seq.ts)
      const entry = this.#delivery.sequence(session, event);
      this.#delivery.account(session, entry, bytes);
    }
    return n;
  }

  /**
   * Keeps a push to a uid for its away sessions, or offline when it reached nobody (`delivered`
   * counts 1 more when the uid is connected on another node, so it is not buffered here).
   */
  hold(uid: string, event: Event, delivered: number): void {
    if (this.#delivery !== null && !this.durable) this.#delivery.hold(uid, event, delivered);
  }

  /** A session that will not resume gives up the channels it kept. */
  #forgetChannels(session: Session<Connection>): void {
    this.#back(session);
    if (!session.keepsChannels) return;
    for (const channel of session.channels) {
      this.#ctx.topics.releaseChannel(channel);
      if (session.channelSeq) this.channelSeq!.logs.release(channel);
      const set = this.#keptSubs.get(channel);
      set?.delete(session);
      if (set?.size === 0) this.#keptSubs.delete(channel);
    }
    session.dropChannels();
  }

  /** An application push to one connection: numbered and kept when it resumes. */
  push(conn: Connection, event: Event, bytes = -1): boolean {
    const session = conn.session;
    if (session === null) return conn.send({ type: "push", events: [event] });
    return this.sequenced(conn, session, event, bytes < 0 ? estimateBytes(event) : bytes);
  }

  /**
   * Numbers and keeps `event` in the session, then sends it if the socket is open. `true` means
   * the client gets it, now or on resume (also while its closed socket awaits cleanup).
   */
  sequenced(conn: Connection, session: Session<Connection>, event: Event, bytes: number): boolean {
    if (this.durable) return this.durable.push(conn, event);
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

  /**
   * `sente-lite/msg` from a client: deduplicated by seq. Returns its inner event to route, or
   * `null` (answered as a bad request, or a re-sent duplicate).
   */
  sequencedIn(conn: Connection, data: unknown, cbId: string | null): unknown[] | null {
    const d = data as Record<string, unknown> | null;
    const seq = typeof d === "object" && d !== null ? d["seq"] : undefined;
    const ev = typeof d === "object" && d !== null ? d["event"] : undefined;
    if (
      typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1 || !Array.isArray(ev) ||
      ev.length < 1 || ev.length > 2 || !isEventId(ev[0]) || ev[0] === "sente-lite/msg"
    ) {
      this.#ctx.protocolError(
        conn,
        new ProtocolError(
          "bad-request",
          `sente-lite/msg needs {"seq": n >= 1, "event": [id, data]}`,
          cbId,
        ),
      );
      return null;
    }
    const session = conn.session;
    if (this.durable) return this.durable.inbound.received(conn, seq) ? ev : null;
    if (session !== null && !this.#delivery!.received(session, seq)) return null; // a duplicate
    return ev;
  }

  /** `sente-lite/ack` from a client: it has every message up to `seq`. */
  ackIn(conn: Connection, data: unknown): void {
    const d = data as Record<string, unknown> | null;
    const seq = typeof d === "object" && d !== null ? d["seq"] : undefined;
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
      this.#ctx.protocolError(
        conn,
        new ProtocolError("bad-request", `sente-lite/ack needs {"seq": n}`),
      );
      return;
    }
    if (this.durable) this.durable.acked(conn, seq);
    else if (conn.session !== null && conn.session.conn === conn) {
      this.#delivery!.acked(conn.session, seq);
    }
  }

  #deliveryLoss(loss: DeliveryLoss): void {
    this.#ctx.tel.event("sente-lite/delivery-loss", { level: "warn", data: () => ({ ...loss }) });
    this.#ctx.hook("onDeliveryLoss", () => this.#ctx.options.onDeliveryLoss?.(loss));
  }
}
