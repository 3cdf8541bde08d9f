/**
 * Cluster routing (docs/scaling.md): the Hub's sends spread over the nodes of its backplane. The
 * origin delivers to its own connections at once through lib/server/local.ts and publishes the
 * logical message **once** on the backplane topic (JSON text that keeps EDN/Transit types,
 * `lib/backplane/codec.ts`, encoded once for the whole cluster); every other node holding
 * recipients receives it and delivers through its own local.ts. Connection ids name their node,
 * so a send, a close or a request to a connection goes to its node's topic and a request's reply
 * comes back on the origin's topic.
 *
 * A server alone (the default private in-process backplane) publishes nothing and encodes
 * nothing: each method is the local send.
 *
 * @module
 */
import { type Backplane, TOPICS } from "../backplane/backplane.ts";
import { decodePayload, encodePayload } from "../backplane/codec.ts";
import type { LinkChange, LinkGap } from "../backplane/link.ts";
import type { Event } from "../protocol/event.ts";
import { ClosedError, ServerError, TimeoutError } from "../protocol/errors.ts";
import type { TimerHandle } from "../util/clock.ts";
import type { ServerContext } from "./context.ts";
import type { Durable } from "./durable.ts";
import type { LocalDelivery } from "./local.ts";
import { BROADCAST_STREAM } from "./channel_log.ts";
import {
  broadcastDurable,
  publishDurable,
  receivedBroadcast,
  receivedPublish,
  type StreamSends,
} from "./cluster_streams.ts";
import type { MembershipTarget } from "./membership.ts";
import type { RequestOptions } from "./types.ts";

/** This node's `server.join` (`join: true`) or `server.leave`; returns its count. */
export type MembershipChange = (target: MembershipTarget, channel: string, join: boolean) => number;

/** A request to a connection on another node, waiting for its reply. */
interface RemoteRequest {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  cleanup(): void;
}

/** Node-addressed messages (topic `n:<node>`). */
type NodeMessage =
  | { t: "to"; c: string; e: Event }
  | { t: "close"; c: string; code: number; reason: string }
  | { t: "sup"; a: string }
  | { t: "mem"; c: string; ch: string; j: boolean }
  | { t: "req"; c: string; r: string; e: [string, unknown]; ms: number }
  | { t: "res"; r: string; v?: unknown; err?: { name: string; code: string; message: string } };

/** The cluster-wide sends of one Hub. */
export class Cluster {
  readonly #ctx: ServerContext;
  readonly #local: LocalDelivery;
  readonly #durable: Durable | null;
  readonly #backplane: Backplane;
  /** `false` for a server alone: every send is local. */
  readonly #clustered: boolean;
  readonly #nodeId: string;
  readonly #pending = new Map<string, RemoteRequest>();
  #nextRequest = 0;
  #unwatch: () => void = () => {};
  #left = false;
  /** The link went `down` (every connection lost) since it was last `up`. */
  #wentDown = false;
  /** The numbering of the last channel publish (durable delivery), until taken. */
  #published: Promise<void> | undefined;
  /** The durable sends of channel sequences (a node with a store), else `null`. */
  readonly #streams: StreamSends | null = null;
  /** Gaps announced to this node's connections. */
  gaps = 0;
  /** This node's joins and leaves (set by the Hub), run for the other nodes' `member` calls. */
  membership: MembershipChange = () => 0;

  /**
   * Routes over `ctx.options.backplane`, delivering locally through `local`; `durable`: the
   * store-first books of a node with delivery on (sends are numbered in the store first).
   */
  constructor(ctx: ServerContext, local: LocalDelivery, durable: Durable | null) {
    this.#ctx = ctx;
    this.#local = local;
    this.#durable = durable;
    this.#backplane = ctx.options.backplane;
    this.#nodeId = this.#backplane.nodeId;
    this.#clustered = ctx.topics.clustered;
    if (!this.#clustered) return;
    const topics = ctx.topics;
    // Another node's send: delivered here; kept in this node's memory books only without a store.
    const keep = durable === null;
    topics.routes = {
      uid: (uid, payload) => {
        const m = decodePayload(payload) as { e: Event } | { ch: string; j: boolean };
        if ("ch" in m) return void this.membership({ uid }, m.ch, m.j);
        local.toUid(uid, m.e, true, keep);
      },
      channel: (channel, payload) => {
        const m = decodePayload(payload) as {
          d: unknown;
          f: string | null;
          x?: string[];
          cs?: number;
        };
        if (this.#streams) return receivedPublish(this.#streams, channel, m);
        local.toChannel(channel, m.d, m.f, m.x ?? [], keep);
      },
    };
    if (durable) {
      this.#streams = { ctx, local, durable, publish: (t, p) => this.#publish(t, p) };
      durable.pump.deliver = (channel, cseq, event, except) =>
        void (channel === BROADCAST_STREAM
          ? local.toAllStreamed(cseq, event, except)
          : local.toChannelStreamed(channel, cseq, event, except));
      durable.closeRemote = (nodeId, attachId) =>
        this.#publish(TOPICS.node(nodeId), encodePayload({ t: "sup", a: attachId }));
    }
    topics.retain(TOPICS.broadcast, (payload) => this.#onBroadcast(payload));
    topics.retain(TOPICS.node(this.#nodeId), (payload, from) => this.#onNode(payload, from));
    this.#unwatch = this.#backplane.link.watch((change) => this.#onLink(change));
  }

  /** The backplane (for stats and the link state). */
  get backplane(): Backplane {
    return this.#backplane;
  }

  /** A send to `uid` on every node; returns how many connections of this node got it. */
  toUid(uid: string, event: Event): number {
    if (!this.#clustered) return this.#local.toUid(uid, event);
    const payload = encodePayload({ e: event }); // before any delivery: a bad value throws first
    const elsewhere = this.#elsewhere(uid);
    const durable = this.#durable;
    if (durable === null) {
      const n = this.#local.toUid(uid, event, elsewhere);
      this.#publish(TOPICS.uid(uid), payload);
      return n;
    }
    // Store first: numbered into every session of the uid, then the other nodes are told.
    const offline = !elsewhere && this.#ctx.uids.count(uid) === 0;
    const held = durable.holdUid(uid, event, offline);
    const sequencer = durable.sequencerFor(held, event, []);
    const n = this.#local.toUid(uid, event, elsewhere, false, sequencer);
    held.then(() => this.#publish(TOPICS.uid(uid), payload));
    return n;
  }

  /**
   * `server.join` / `server.leave` on every node: a uid's connections everywhere (on the uid's
   * topic, so ordered with `send(uid)` from this node), a connection on its node. Returns this
   * node's count; for another node's connection 1 when it was sent to its node.
   */
  member(target: MembershipTarget, channel: string, join: boolean): number {
    const n = this.membership(target, channel, join); // validates, then this node's connections
    if (!this.#clustered) return n;
    if (typeof target === "string") {
      const node = this.#owner(target);
      if (node === null) return n;
      const m = { t: "mem", c: target, ch: channel, j: join };
      return this.#publish(TOPICS.node(node), encodePayload(m)) ? 1 : 0;
    }
    this.#publish(TOPICS.uid(target.uid), encodePayload({ ch: channel, j: join }));
    return n;
  }

  /**
   * A push to one connection, on whichever node holds it. For another node's connection `true`
   * means it was sent to that node (whether the connection is still open there is not known).
   */
  toConnection(connId: string, event: Event): boolean {
    const node = this.#owner(connId);
    if (node === null) return this.#local.toConnection(connId, event);
    return this.#publish(TOPICS.node(node), encodePayload({ t: "to", c: connId, e: event }));
  }

  /** A broadcast to every node; returns how many connections of this node got it. */
  toAll(event: Event, except: ReadonlySet<string> | undefined): number {
    if (!this.#clustered) return this.#local.toAll(event, except);
    const x = except?.size ? [...except] : [];
    const m = x.length ? { e: event, x } : { e: event };
    const durable = this.#durable;
    if (durable === null) {
      const n = this.#local.toAll(event, except);
      this.#publish(TOPICS.broadcast, encodePayload(m));
      return n;
    }
    return broadcastDurable(this.#streams!, event, except);
  }

  /**
   * A channel publish (server or client) to every node's subscribers; returns how many of this
   * node's subscribers and away sessions got it.
   */
  toChannel(channel: string, data: unknown, from: string | null, except: string[]): number {
    if (!this.#clustered) return this.#local.toChannel(channel, data, from, except);
    const m = except.length
      ? { d: data ?? null, f: from, x: except }
      : { d: data ?? null, f: from };
    const payload = encodePayload(m);
    const durable = this.#durable;
    if (durable === null) {
      const n = this.#local.toChannel(channel, data, from, except);
      this.#publish(TOPICS.channel(channel), payload);
      return n;
    }
    const { n, published } = publishDurable(this.#streams!, channel, data, from, except);
    this.#published = published;
    return n;
  }

  /**
   * The numbering (and publish) of the last `toChannel` on a durable node, once: a client's
   * publish is answered after it, so what happens after the answer is ordered after it.
   */
  takePublished(): Promise<void> | undefined {
    const p = this.#published;
    this.#published = undefined;
    return p;
  }

  /** Closes a connection on whichever node holds it; `true` when it was (or was sent) closed. */
  close(connId: string, code: number, reason: string): boolean {
    const node = this.#owner(connId);
    if (node === null) {
      const conn = this.#ctx.conns.get(connId);
      if (!conn || conn.closed) return false;
      conn.close(code, reason);
      return true;
    }
    return this.#publish(
      TOPICS.node(node),
      encodePayload({ t: "close", c: connId, code, reason }),
    );
  }

  /** A server→client request to a connection on any node; the reply comes back here. */
  request(connId: string, id: string, data: unknown, options: RequestOptions): Promise<unknown> {
    const node = this.#owner(connId);
    if (node === null) return this.#local.request(connId, id, data, options);
    const ctx = this.#ctx;
    const timeoutMs = options.timeoutMs ?? ctx.options.requestTimeoutMs;
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    const signal = options.signal;
    signal?.throwIfAborted();
    const r = (this.#nextRequest++).toString(36);
    const payload = encodePayload({
      t: "req",
      c: connId,
      r,
      e: [id, data ?? null],
      ms: timeoutMs,
    });
    return new Promise((resolve, reject) => {
      let timer: TimerHandle | undefined = undefined;
      const onAbort = () => {
        cleanup();
        reject(signal!.reason);
      };
      const cleanup = () => {
        this.#pending.delete(r);
        ctx.clock.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      // The owner times the client out after timeoutMs; this timer also covers a dead node.
      timer = ctx.clock.setTimeout(() => {
        cleanup();
        reject(new TimeoutError(`no reply to ${id} within ${timeoutMs} ms`));
      }, timeoutMs + 1000);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(r, { resolve, reject, cleanup });
      if (!this.#publish(TOPICS.node(node), payload)) {
        cleanup();
        reject(new ClosedError(`connection ${connId}: the backplane link is down`));
      }
    });
  }

  /** Leaves the cluster: topics released, remote requests rejected, the backplane closed. */
  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    this.#unwatch();
    this.#ctx.topics.close();
    for (const p of [...this.#pending.values()]) {
      p.cleanup();
      p.reject(new ClosedError("the server left its cluster"));
    }
    await this.#backplane.close();
  }

  /** The node holding `connId` when it is another node, else `null` (this node's, or foreign). */
  #owner(connId: string): string | null {
    if (!this.#clustered) return null;
    const dot = connId.lastIndexOf(".");
    if (dot <= 0) return null;
    const node = connId.slice(0, dot);
    return node === this.#nodeId ? null : node;
  }

  /** Whether another node holds a connection of `uid` (as this node last heard). */
  #elsewhere(uid: string): boolean {
    const nodes = this.#backplane.presence.nodesOf(uid);
    return nodes.size > 1 || (nodes.size === 1 && !nodes.has(this.#nodeId));
  }

  #publish(topic: string, payload: string): boolean {
    if (this.#left) return false;
    return this.#backplane.publish(topic, payload);
  }

  #onBroadcast(payload: string): void {
    const m = decodePayload(payload) as { e?: Event; x?: string[]; g?: LinkGap; cs?: number };
    if (m.g) return this.#announceGap(m.g);
    if (!m.e) return;
    if (this.#streams) return receivedBroadcast(this.#streams, m.e, m.x, m.cs);
    this.#local.toAll(m.e, m.x?.length ? new Set(m.x) : undefined);
  }

  #onNode(payload: string, from: string): void {
    const m = decodePayload(payload) as NodeMessage;
    switch (m.t) {
      case "to":
        this.#local.toConnection(m.c, m.e);
        return;
      case "close":
        this.#ctx.conns.get(m.c)?.close(m.code, m.reason);
        return;
      case "sup":
        this.#durable?.supersede(m.a);
        return;
      case "mem":
        this.membership(m.c, m.ch, m.j);
        return;
      case "req": {
        const reply = (res: object) =>
          this.#publish(TOPICS.node(from), encodePayload({ t: "res", r: m.r, ...res }));
        let answer: Promise<unknown>;
        try {
          answer = this.#local.request(m.c, m.e[0], m.e[1], { timeoutMs: m.ms });
        } catch (e) {
          answer = Promise.reject(e);
        }
        answer.then(
          (v) => reply({ v: v ?? null }),
          (e) => {
            const err = e as { name?: string; code?: string; message?: string };
            reply({
              err: {
                name: String(err?.name ?? "Error"),
                code: String(err?.code ?? "error"),
                message: String(err?.message ?? e),
              },
            });
          },
        );
        return;
      }
      case "res": {
        const p = this.#pending.get(m.r);
        if (!p) return; // timed out or aborted meanwhile
        p.cleanup();
        if (!m.err) return p.resolve(m.v);
        const { name, code, message } = m.err;
        if (name === "ClosedError") p.reject(new ClosedError(message));
        else if (name === "TimeoutError") p.reject(new TimeoutError(message));
        else p.reject(new ServerError(code, message));
        return;
      }
    }
  }

  /** Link transitions: telemetry; a return to `up` with a gap is announced (docs/scaling.md). */
  #onLink(change: LinkChange): void {
    const ctx = this.#ctx;
    ctx.tel.event("sente-lite/backplane-link", {
      level: change.gap || change.to === "down" || change.to === "degraded" ? "warn" : "info",
      data: () => ({ nodeId: this.#nodeId, from: change.from, to: change.to, gap: change.gap }),
    });
    if (change.to === "down") this.#wentDown = true;
    if (change.to !== "up") return;
    // Any `up` ends the outage (a `down` while starting must not make a later partial one total).
    const wentDown = this.#wentDown;
    this.#wentDown = false;
    const gap = change.gap;
    if (!gap) return;
    this.#announceGap(gap);
    // What the topics missed is in the store, unless the store itself may have restarted.
    this.#durable?.afterGap(wentDown);
    // Other nodes' clients missed what this node could not publish: they hear of it too.
    if (gap.dropped > 0) this.#publish(TOPICS.broadcast, encodePayload({ g: gap }));
  }

  /** Tells every local connection that cross-node messages may have been lost. */
  #announceGap(gap: LinkGap): void {
    const ctx = this.#ctx;
    this.gaps++;
    const body = { reason: "backplane", dropped: gap.dropped, durationMs: gap.durationMs };
    for (const conn of ctx.conns.values()) {
      if (!conn.closed) conn.send({ type: "push", events: [["sente-lite/gap", body]] });
    }
  }
}
