/**
 * Channel sequences on a node of a cluster (docs/scaling.md, docs/delivery.md): a channel publish
 * is numbered ONCE for the whole cluster in the channel's stream in the shared store
 * (`DeliveryStore.appendChannel`: one Redis script per publish, not one per subscribed session),
 * and every node sends its channel-seq subscribers the same numbered frame.
 *
 * Each node keeps, per channel, the last number it sent and one chain of steps, so its
 * subscribers get the stream in order and without holes even when publishes of several nodes
 * arrive out of order: a number past the next one first fetches the missing ones from the store.
 * A resumed connection's kept channel goes live in the channel's turn, after its replay from the
 * store, so nothing newer overtakes the replay.
 *
 * @module
 */
import type { ChannelReplay, DeliveryStore, StreamHolder } from "../backplane/backplane.ts";
import { encodePayload } from "../backplane/codec.ts";
import { parseStored } from "./stored_event.ts";
import type { Event } from "../protocol/event.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import { cutGap, replayFrom, streamEvent, streamGap, type StreamHost } from "./channel_seq.ts";
import { ENTRY_BYTES } from "./delivery_options.ts";
import { BROADCAST_STREAM } from "./channel_log.ts";

/** One channel's turn on this node. */
interface Turn {
  /** The last number sent to this node's subscribers, `null` before the first. */
  sent: number | null;
  chain: Promise<void>;
  /** Steps queued and not finished. */
  queued: number;
}

/** Sends one numbered channel message to this node's channel-seq subscribers. */
export type StreamDelivery = (
  channel: string,
  cseq: number,
  event: Event,
  except: readonly string[],
) => void;

/** The channel streams of one node of a cluster. */
export class ChannelPump implements StreamHost {
  readonly #ctx: ServerContext;
  readonly #store: DeliveryStore;
  readonly #turns = new Map<string, Turn>();
  /** The last append per channel: this node's publishes are numbered in the order made. */
  readonly #appends = new Map<string, Promise<unknown>>();
  /** Set by lib/server/cluster.ts: the local fan-out of a numbered message. */
  deliver: StreamDelivery = () => {};

  /** Numbers through `ctx.options.backplane.store`. */
  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
    this.#store = ctx.options.backplane.store;
  }

  // Holders and pending counts are the store's business here: a session with channel sequences
  // holds a stream from its first read of it (`channelSince` with the holder, below) until it
  // leaves the channel or expires, and a publish numbers only into a held stream.
  retain(): void {}
  release(): void {}
  pending(): void {}

  /**
   * Numbers a publish in the channel's stream (`except`: connection ids; the sessions of this
   * node's connections among them are stored too, so a resumed sender never gets its own).
   * Resolves with the number, or `null` when it is not numbered: the store failed, or no session
   * of the cluster holds the channel's stream (not stored: nobody reads it numbered). Either way
   * the caller sends it plainly.
   */
  append(channel: string, event: Event, except: readonly string[]): Promise<number | null> {
    const x = except.flatMap((id) => {
      const s = this.#ctx.conns.get(id)?.session?.id;
      return s ? [id, s] : [id];
    });
    const payload = encodePayload(x.length ? { e: event, x } : { e: event }); // throws first
    // One at a time per channel: a store call may overtake another (a script's first use is
    // two round trips), and this node's publishes must keep their order in the stream.
    const prev = this.#appends.get(channel) ?? Promise.resolve();
    const held = channel !== BROADCAST_STREAM; // every channel-seq connection reads broadcasts
    const append = async () =>
      (await this.#store.appendChannel(channel, payload, { held })) || null;
    const numbered = prev.then(append).catch((e) => {
      this.#failed(e);
      return null;
    });
    this.#appends.set(channel, numbered);
    numbered.then(() => {
      if (this.#appends.get(channel) === numbered) this.#appends.delete(channel);
    });
    return numbered;
  }

  /** A numbered message of `channel` reached this node (its own publish or another node's). */
  arrive(channel: string, cseq: number, event: Event, except: readonly string[]): void {
    this.#turn(channel, async (t) => {
      if (t.sent !== null && cseq <= t.sent) return;
      if (t.sent !== null && cseq > t.sent + 1) {
        // Another node's publish is still on its way: the store has it, in order.
        const r = await this.#store.channelSince(channel, t.sent);
        for (const m of r.messages) {
          if (m.seq >= cseq) break;
          if (m.seq <= t.sent) continue;
          const s = parseStored(m.payload);
          if (s) this.deliver(channel, m.seq, s.e, s.x ?? []);
          t.sent = m.seq;
        }
      }
      this.deliver(channel, cseq, event, except);
      t.sent = cseq;
    });
  }

  /**
   * The stream's number now, for a subscribe's reply (no replay: it proves no membership). In the
   * channel's turn: the first subscriber on this node also sets where the node's sending starts,
   * so a publish numbered after it is never skipped because a later one arrived first.
   */
  subscribed(conn: Connection, channel: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.#turn(channel, async (t) => {
        try {
          const r = await this.#store.channelSince(channel, null, holder(conn));
          this.#heldBy(conn, channel);
          if (t.sent === null) t.sent = r.current;
          resolve({ cseq: r.current });
        } catch (e) {
          this.#failed(e);
          resolve({});
        }
      });
    });
  }

  /** In the channel's turn: subscribes, waits for its topic, replays after `after`, then live. */
  activate(
    conn: Connection,
    channel: string,
    after: number | null,
    add: () => void,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.#turn(channel, async (t) => {
        add();
        await this.#ctx.topics.ready(); // later publishes reach this node by the topic
        let current = 0;
        try {
          const r = await this.#store.channelSince(channel, after, holder(conn));
          this.#heldBy(conn, channel);
          current = r.current;
          if (t.sent === null) t.sent = current;
          this.#replay(conn, channel, r);
        } catch (e) {
          this.#failed(e);
        }
        resolve(current > 0 ? { cseq: current } : {});
      });
    });
  }

  /**
   * In the broadcast stream's turn: sends `conn` the broadcasts after its handshake's `cseq`
   * (`conn.cseq.broadcastAfter`), then makes it live for broadcasts.
   */
  activateBroadcast(conn: Connection): void {
    const streams = conn.cseq;
    if (streams === null || streams.broadcastAfter === null) return;
    this.#turn(BROADCAST_STREAM, async (t) => {
      try {
        const r = await this.#store.channelSince(BROADCAST_STREAM, streams.broadcastAfter);
        if (t.sent === null) t.sent = r.current;
        this.#replay(conn, BROADCAST_STREAM, r);
      } catch (e) {
        this.#failed(e);
      }
      streams.broadcastAfter = null;
      streams.onLive?.();
      streams.onLive = null;
    });
  }

  /**
   * Sends `conn` the gap and kept messages of a stream it may have (skipping those that skip it):
   * the newest within its replay budget (`delivery.maxReplayBytes`), the older told as a gap.
   */
  #replay(conn: Connection, key: string, r: ChannelReplay): void {
    if (conn.closed) return;
    const cut = replayFrom(conn.cseq, r.messages, (m) => m.payload.length + ENTRY_BYTES);
    const told = r.dropped === 0 ? null : { reason: r.reason ?? "unknown", dropped: r.dropped };
    const gap = cutGap(told, cut);
    if (gap !== null) conn.send({ type: "push", events: [streamGap(key, gap)] });
    const messages = cut === 0 ? r.messages : r.messages.slice(cut);
    const sid = conn.session?.id;
    for (const m of messages) {
      const s = parseStored(m.payload);
      if (!s || conn.closed || s.x?.includes(conn.id) || (sid && s.x?.includes(sid))) continue;
      conn.send({ type: "push", events: [streamEvent(key, m.seq, s.e)] });
    }
  }

  /**
   * `conn` read `channel`'s stream as its holder: if it left the channel meanwhile (its leave may
   * have reached the store first: a batch subscribes and unsubscribes in one go), it lets go
   * again, so no holder outlives a subscription (else fresh channel names would make keys).
   */
  #heldBy(conn: Connection, channel: string): void {
    const sid = conn.session?.id;
    // A closed one's channels are the business of its detach (it parks them, held).
    if (sid === undefined || conn.closed || conn.channels.has(channel)) return;
    if (conn.cseq?.pending?.has(channel)) return;
    this.#store.keepChannel(conn.uid, sid, channel, false).catch((e) => this.#failed(e));
  }

  #turn(channel: string, step: (t: Turn) => Promise<void>): void {
    let t = this.#turns.get(channel);
    if (!t) this.#turns.set(channel, t = { sent: null, chain: Promise.resolve(), queued: 0 });
    const turn = t;
    turn.queued++;
    turn.chain = turn.chain.then(() => step(turn)).catch((e) => void this.#failed(e)).finally(
      () => {
        // A channel with no subscriber here forgets its turn (a later one starts afresh); the
        // broadcast stream's stays.
        if (
          --turn.queued === 0 && channel !== BROADCAST_STREAM &&
          this.#ctx.channels.members(channel).size === 0
        ) {
          this.#turns.delete(channel);
        }
      },
    );
  }

  #failed(e: unknown): void {
    this.#ctx.tel.event("sente-lite/durable-error", {
      level: "warn",
      data: () => ({ error: String(e) }),
    });
  }
}

/** `conn`'s session as the holder of the streams it reads (every channel-seq one has a session). */
function holder(conn: Connection): StreamHolder | undefined {
  return conn.session ? { uid: conn.uid, sessionId: conn.session.id } : undefined;
}
