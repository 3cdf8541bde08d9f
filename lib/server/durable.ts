/**
 * Durable delivery across nodes (docs/scaling.md, "store-first"): on a node of a cluster, resume
 * sessions and offline buffers live in the backplane's {@linkcode DeliveryStore}, so a client
 * whose node died resumes on any other node. What differs from the in-memory books
 * (lib/server/delivery.ts, still used by a server alone):
 *
 * - The **origin** of a send to a uid or a channel numbers it into every session that should get
 *   it, attached or not, in the store (`hold`/`holdChannel` with `attached`), then publishes.
 * - A node sends a resuming connection **what its session's stream holds** after the last seq it
 *   sent (`replay`), woken by topic messages: the stream's order is the one order, so messages of
 *   several origins never cross, and nothing depends on the attached node staying alive.
 * - A push to one connection (sendTo, broadcast, `msg.send`) is appended by the connection's node.
 * - The upgrade opens the session (async, before the handshake); the handshake's `seq` is where the
 *   client is, and the first pump sends what it missed.
 * - Client messages are deduplicated and recorded by lib/server/durable_inbound.ts.
 *
 * @module
 */
import type { DeliveryStore, OfflineDrain } from "../backplane/backplane.ts";
import { encodePayload } from "../backplane/codec.ts";
import { parseStored, type StoredEvent } from "./stored_event.ts";
import { eventValue } from "../protocol/envelope.ts";
import type { Event } from "../protocol/event.ts";
import { randomHex } from "../util/ids.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import { type Attachment, CLOSE_SUPERSEDED, type DeliveryLoss, Session } from "./delivery.ts";
import type { Sequencer } from "./fanout.ts";
import type { PendingUpgrade } from "./socket.ts";
import { broadcastStart, openSession, type Prepared } from "./durable_open.ts";
import { ChannelPump } from "./channel_pump.ts";
import { ConnStreams } from "./channel_seq.ts";
import { InboundRecords } from "./durable_inbound.ts";
import { DurableParking } from "./durable_parked.ts";
import { DELIVERY_DEFAULTS } from "./delivery_options.ts";

/** A resuming connection on this node. */
interface Live {
  readonly uid: string;
  readonly sessionId: string;
  readonly attachId: string;
  /** The last seq sent to the client. */
  sent: number;
  /**
   * Every delivery to the connection, in the order the sends were made: each step waits for the
   * one before (a store call in flight never lets a later send overtake it).
   */
  chain: Promise<void>;
  /** A fetch is queued on the chain and not started yet (wakes coalesce into it). */
  fetchQueued: boolean;
  /** Set once a send reached the client plainly (the store failed): numbered ones stop. */
  plain: boolean;
  /** The channel records in flight (`keepChannel`). */
  channels: Promise<unknown>;
}

/** A send being numbered in the store: `held` resolves `true` once it is, `false` if not. */
interface Pending {
  readonly held: Promise<boolean>;
  readonly event: Event;
  readonly except: readonly string[];
}

/** Store-first delivery of one Hub. */
export class Durable {
  readonly #ctx: ServerContext;
  readonly #store: DeliveryStore;
  readonly #nodeId: string;
  readonly #prepared = new WeakMap<PendingUpgrade, Prepared>();
  readonly #live = new Map<Connection, Live>();
  readonly #byAttach = new Map<string, Connection>();
  /** Channel sequences: channel streams numbered once for the cluster. */
  readonly pump: ChannelPump;
  /** Client→server dedup and records. */
  readonly inbound: InboundRecords;
  /** Closes a superseded attachment on another node (set by lib/server/cluster.ts). */
  closeRemote: (nodeId: string, attachId: string) => void = () => {};
  /**
   * Where another node's uid sends and channel publishes go on this node: they are in the store
   * already, a fetch sends them.
   */
  readonly stored: Sequencer = {
    sequenced: (conn) => {
      this.wake(conn);
      return true;
    },
  };

  readonly #maxReplayBytes: number;
  /** Sessions this node's connections parked, per IP (`delivery.maxParkedPerIp`). */
  readonly parking: DurableParking;

  /** Delivers through `ctx.options.backplane.store`; `loss` reports evicted sessions' messages. */
  constructor(ctx: ServerContext, loss: (loss: DeliveryLoss) => void = () => {}) {
    this.#ctx = ctx;
    this.#store = ctx.options.backplane.store;
    this.#nodeId = ctx.options.backplane.nodeId;
    this.pump = new ChannelPump(ctx);
    this.inbound = new InboundRecords(ctx, this.#store, (e) => this.#failed(e));
    const delivery = ctx.options.delivery || DELIVERY_DEFAULTS;
    this.#maxReplayBytes = delivery.maxReplayBytes;
    this.parking = new DurableParking(
      this.#store,
      ctx.clock,
      delivery.maxParkedPerIp,
      this.#store.ttlMs ?? delivery.ttlMs,
      (uid, clientId, dropped) => {
        ctx.stats.offlineDropped += dropped;
        loss({ reason: "evicted", uid, clientId, dropped });
      },
      (e) => this.#failed(e),
    );
    ctx.onChannelMember = (channel, conn, joined) => this.#member(conn, channel, joined);
  }

  /** Before the upgrade: opens or makes the session, takes the offline buffer. */
  async prepare(pending: PendingUpgrade): Promise<void> {
    const { uid, clientId } = pending;
    const attachId = `${this.#nodeId}.${randomHex(12)}`;
    const at = { nodeId: this.#nodeId, connId: attachId };
    const p: Prepared = {
      attachId,
      sessionId: null,
      token: null,
      state: null,
      channels: [],
      rejected: false,
      offline: null,
    };
    try {
      if (pending.resume != null) {
        await openSession(
          this.#store,
          this.#ctx.stats,
          pending,
          p,
          at,
          (old) => this.#supersede(old.nodeId, old.connId),
        );
      }
      await broadcastStart(this.#store, pending, p);
      p.offline = await this.#store.drain(uid);
    } catch (e) {
      // The store is unreachable: the connection works without resume (and is told so).
      this.#ctx.tel.event("sente-lite/durable-unavailable", {
        level: "warn",
        data: () => ({ uid, clientId, error: String(e) }),
      });
      if (p.sessionId === null) p.state = null;
    }
    this.#prepared.set(pending, p);
    // An upgrade that never opens (the client left, the handshake timed out) must not leave its
    // session attached: this node would keep refreshing it.
    if (p.sessionId === null) return;
    const sessionId = p.sessionId;
    p.timer = this.#ctx.clock.setTimeout(() => {
      if (!this.#prepared.delete(pending)) return;
      this.#store.detach(uid, sessionId, at).then((parked) => {
        if (parked === true) this.parking.park(pending.remoteIp, uid, clientId, sessionId, at);
      }).catch((e) => this.#failed(e));
    }, this.#ctx.options.handshakeTimeoutMs + 1000);
  }

  /** At open: the connection takes its prepared session; `null` when it does not resume. */
  attach(conn: Connection, pending: PendingUpgrade): Attachment<Connection> | null {
    const p = this.#prepared.get(pending);
    if (!p) return null;
    this.#prepared.delete(pending);
    this.#ctx.clock.clearTimeout(p.timer);
    this.#offline.set(conn, p.offline);
    if (p.sessionId === null || p.state === null) return null;
    this.parking.unpark(conn.uid, p.sessionId); // attached again: no longer parked here
    const session = new Session<Connection>(conn.uid, conn.clientId, p.sessionId);
    session.conn = conn;
    session.inAck = p.state.ack;
    for (const c of p.channels) session.channels.add(c);
    conn.session = session;
    // Channel publishes come numbered per channel (the pump); broadcasts stay the session's.
    if (pending.channelSeq !== undefined) {
      conn.cseq = new ConnStreams(this.pump, this.#maxReplayBytes);
      // Numbered broadcasts too once the stream's number is known (else the session's).
      conn.cseq.broadcastAfter = p.broadcastAfter ?? null;
    }
    this.#live.set(conn, {
      uid: conn.uid,
      sessionId: p.sessionId,
      attachId: p.attachId,
      sent: p.state.seq,
      chain: Promise.resolve(),
      fetchQueued: false,
      plain: false,
      channels: Promise.resolve(),
    });
    this.#byAttach.set(p.attachId, conn);
    this.inbound.attach(conn, conn.uid, p.sessionId, p.state.ack);
    return { session, state: p.state, replay: [], superseded: null, rejected: p.rejected };
  }

  readonly #offline = new WeakMap<Connection, OfflineDrain | null>();

  /** After the handshake: the kept channels are subscribed, what was missed is sent. */
  resume(conn: Connection, attachment: Attachment<Connection>): void {
    const ctx = this.#ctx;
    if (attachment.rejected) {
      ctx.tel.event("sente-lite/resume-denied", {
        level: "warn",
        data: () => ({ connId: conn.id, uid: conn.uid, clientId: conn.clientId }),
      });
    }
    const session = attachment.session;
    for (const channel of session.channels) {
      // A channel-seq client brings its cursor with its re-subscribe: the replay comes first.
      if (conn.cseq !== null) conn.cseq.addPending(channel);
      else if (ctx.channels.add(channel, conn)) conn.subscribe(channel);
    }
    session.channels.clear();
    ctx.stats.channels = ctx.channels.size;
    this.pump.activateBroadcast(conn);
    const { token: _token, ...state } = attachment.state;
    ctx.tel.event("sente-lite/resume", {
      level: state.gap ? "info" : "debug",
      data: () => ({
        connId: conn.id,
        uid: conn.uid,
        clientId: conn.clientId,
        durable: true,
        ...state,
      }),
    });
    this.wake(conn);
    // Sends published before this node listened to the uid's and channels' topics are in the
    // store: one more pump once the subscriptions are active finds them.
    ctx.topics.ready().then(() => this.wake(conn));
  }

  /** What waited in the uid's offline buffer (losses first), as the in-memory path does. */
  deliverOffline(conn: Connection): void {
    const held = this.#offline.get(conn);
    this.#offline.delete(conn);
    if (!held) return;
    for (const reason of ["overflow", "expired"] as const) {
      const dropped = held[reason];
      if (dropped > 0) {
        conn.send({ type: "push", events: [["sente-lite/gap", { dropped, reason }]] });
      }
    }
    // Sent at once, unnumbered: everything buffered predates the session (a uid with a session
    // is never buffered), so these go before what the session's first fetch sends.
    for (const payload of held.messages) {
      const m = parseStored(payload);
      if (m) conn.send({ type: "push", events: [m.e] });
    }
  }

  /** A push to one resuming connection: appended to its session, then sent from the store. */
  push(conn: Connection, event: Event): boolean {
    const l = this.#live.get(conn);
    if (!l) return conn.send({ type: "push", events: [event] });
    const held = this.#store.append(l.uid, l.sessionId, encodePayload({ e: event })).then(
      (seq) => seq > 0,
      (e) => this.#failed(e),
    );
    this.#after(conn, { held, event, except: [] });
    return true;
  }

  /**
   * Origin of a send to `uid`: numbered into every session of the uid (or its offline buffer),
   * attached ones too. Resolves `true` once numbered, `false` when the store failed or no session
   * took it (this node's resuming recipients then get it plainly).
   */
  holdUid(uid: string, event: Event, offline: boolean): Promise<boolean> {
    return this.#store.hold(uid, encodePayload({ e: event }), offline, { attached: true }).then(
      (held) => held.sessions > 0,
      (e) => this.#failed(e),
    );
  }

  /** Origin of a channel publish: numbered into every session keeping the channel. */
  holdChannel(channel: string, event: Event, except: readonly string[]): Promise<boolean> {
    const stored: StoredEvent = except.length ? { e: event, x: [...except] } : { e: event };
    return this.#store.holdChannel(channel, encodePayload(stored), { attached: true }).then(
      (n) => n > 0,
      (e) => this.#failed(e),
    );
  }

  /** Sends plainly (a channel-seq connection's channel message the store could not number). */
  readonly plain: Sequencer = {
    sequenced: (conn, _session, event) => {
      const l = this.#live.get(conn);
      if (l) this.#plain(conn, l, event);
      else conn.send({ type: "push", events: [event] });
      return true;
    },
  };

  /**
   * The origin's sequencer of one send: its resuming recipients get it once `held` (the store
   * numbering it) settles — fetched, or plainly if it was not numbered — even when the fan-out
   * reaches them later (a queued fan-out).
   */
  sequencerFor(held: Promise<boolean>, event: Event, except: readonly string[]): Sequencer {
    const p: Pending = { held, event, except };
    return {
      sequenced: (conn) => {
        this.#after(conn, p);
        return true;
      },
    };
  }

  /** Queues on `conn`'s chain: once `p` is numbered, a fetch; if it was not, a plain send. */
  #after(conn: Connection, p: Pending): void {
    const l = this.#live.get(conn);
    if (!l) return;
    l.chain = l.chain.then(() => p.held).then(async (ok) => {
      if (conn.closed) return;
      if (ok) return await this.#fetch(conn, l);
      if (!p.except.includes(conn.id)) this.#plain(conn, l, p.event);
    }).catch((e) => void this.#failed(e));
  }

  /** Sends `conn` what its session holds after what it was sent (queued on its chain). */
  wake(conn: Connection): void {
    const l = this.#live.get(conn);
    if (!l || conn.closed || l.plain || l.fetchQueued) return;
    l.fetchQueued = true;
    l.chain = l.chain.then(() => {
      l.fetchQueued = false;
      return this.#fetch(conn, l);
    }).catch((e) => void this.#failed(e));
  }

  /**
   * After a link gap: wakes every resuming connection; after a total outage (`restarted`: the
   * engine may have restarted empty, losing the sessions) closes them with 1012 instead, so each
   * reconnects and learns from its handshake whether its session survived (`resumed`, or a gap).
   */
  afterGap(restarted: boolean): void {
    for (const [conn, l] of [...this.#live]) {
      if (!restarted && !l.plain) this.wake(conn);
      else if (!conn.closed) conn.close(1012, "backplane restarted: resume to check the session");
    }
  }

  async #fetch(conn: Connection, l: Live): Promise<void> {
    if (l.plain) return;
    const r = await this.#store.replay(l.uid, l.sessionId, l.sent);
    if (conn.closed || l.plain) return;
    if (r.dropped > 0) {
      conn.send({
        type: "push",
        events: [["sente-lite/gap", { dropped: r.dropped, reason: "overflow" }]],
      });
    }
    for (const m of r.messages) {
      if (m.seq <= l.sent) continue;
      l.sent = m.seq;
      const stored = parseStored(m.payload);
      if (!stored || stored.x?.includes(conn.id)) continue;
      const [id, data] = stored.e;
      const body = { seq: m.seq, event: eventValue(id, data) };
      conn.send({ type: "push", events: [["sente-lite/msg", body]] });
    }
  }

  /** `sente-lite/ack` from a client. */
  acked(conn: Connection, seq: number): void {
    const l = this.#live.get(conn);
    if (l) this.#store.ack(l.uid, l.sessionId, seq).catch((e) => this.#failed(e));
  }

  /** The connection closed: the session waits in the store, keeping the channels. */
  detach(conn: Connection): void {
    const l = this.#live.get(conn);
    this.#offline.delete(conn);
    if (!l) return;
    this.#live.delete(conn);
    this.#byAttach.delete(l.attachId);
    this.inbound.detach(conn);
    const at = { nodeId: this.#nodeId, connId: l.attachId };
    const streams = conn.cseq;
    const channels = [...conn.channels, ...streams?.pending ?? []];
    // Counted once parked (a superseded connection's detach parks nothing).
    this.#store.detach(l.uid, l.sessionId, at, channels, { indexed: streams === null })
      .then((parked) => {
        if (parked === true) {
          this.parking.park(conn.remoteIp, l.uid, conn.clientId, l.sessionId, at);
        }
      }).catch((e) => this.#failed(e));
  }

  /** Another node's open superseded a connection of this node. */
  supersede(attachId: string): void {
    const conn = this.#byAttach.get(attachId);
    if (conn && !conn.closed) {
      conn.close(CLOSE_SUPERSEDED, "superseded by a newer connection of this session");
    }
  }

  #supersede(nodeId: string, attachId: string): void {
    if (nodeId === this.#nodeId) this.supersede(attachId);
    else this.closeRemote(nodeId, attachId);
  }

  /** A resuming connection joined or left a channel: the store numbers its messages for it. */
  #member(conn: Connection, channel: string, joined: boolean): void {
    const l = this.#live.get(conn);
    if (!l || conn.closed) return; // a closing connection's channels stay with its session
    const indexed = conn.cseq === null; // a channel-seq session replays the channel's stream
    const done = this.#store.keepChannel(l.uid, l.sessionId, channel, joined, { indexed })
      .catch((e) => this.#failed(e));
    l.channels = Promise.all([l.channels, done]);
  }

  /** Resolves once `conn`'s channel records are in the store and the topics are listened to. */
  settled(conn: Connection): Promise<void> | undefined {
    const l = this.#live.get(conn);
    if (!l) return undefined;
    return Promise.all([l.channels, this.#ctx.topics.ready()]).then(() => {});
  }

  /**
   * Sends `event` unnumbered: from now on this connection gets no numbered messages (they could
   * overtake plain ones); the link's return closes it so it resumes from the store (or learns of
   * the gap).
   */
  #plain(conn: Connection, l: Live, event: Event): void {
    l.plain = true;
    conn.send({ type: "push", events: [event] });
  }

  #failed(e: unknown): false {
    this.#ctx.tel.event("sente-lite/durable-error", {
      level: "warn",
      data: () => ({ error: String(e) }),
    });
    return false;
  }
}
