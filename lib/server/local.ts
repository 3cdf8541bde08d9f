/**
 * Local delivery: the sends of the public API (to a uid, a connection, everyone, a channel, and
 * server→client requests) carried out on the connections of this process. The Hub's send methods
 * validate their arguments and go through lib/server/cluster.ts, which calls this on the origin
 * node and on every other node that receives the send from the backplane.
 *
 * @module
 */
import type { Event } from "../protocol/event.ts";
import { ClosedError } from "../protocol/errors.ts";
import type { ServerContext } from "./context.ts";
import { BROADCAST_STREAM } from "./channel_log.ts";
import {
  everyone,
  FanOutQueue,
  ofUid,
  type Sequencer,
  type StreamRef,
  subscribers,
} from "./fanout.ts";
import { sendRequest } from "./requests.ts";
import type { Resume } from "./resume.ts";
import type { RequestOptions } from "./types.ts";

/** The sends of one Hub to its own connections. */
export class LocalDelivery {
  readonly #ctx: ServerContext;
  readonly #resume: Resume;
  /** Large fan-outs in slices, in order; native topics where the socket has them. */
  readonly fanOuts: FanOutQueue;

  /** Sends over the connections in `ctx`, resuming ones through `resume`. */
  constructor(ctx: ServerContext, resume: Resume) {
    this.#ctx = ctx;
    this.#resume = resume;
    this.fanOuts = new FanOutQueue(ctx.options, resume);
  }

  /** The event a channel publish pushes. */
  static channelEvent(channel: string, data: unknown, from: string | null): Event {
    return ["sente-lite/channel-msg", { "channel-id": channel, data: data ?? null, from }];
  }

  /**
   * Pushes to every connection of `uid` (and keeps it for its sessions or offline). `elsewhere`:
   * the uid is reached on another node (or this is another node's send), so it is not buffered
   * offline here; `hold: false` keeps nothing in this node's books (durable delivery numbers it
   * in the store); `sequencer` numbers it for resuming recipients (default: `resume.stored`).
   */
  toUid(uid: string, event: Event, elsewhere = false, hold = true, sequencer?: Sequencer): number {
    const ctx = this.#ctx;
    const n = this.fanOuts.run(
      // ofUid() iterates its members (live, at the fan-out's turn) and reads their size, no
      // more; the anonymous uid's are a live view over the connections (lib/server/uids.ts).
      ofUid(ctx.uids.connections(uid) as Parameters<typeof ofUid>[0], uid),
      { type: "push", events: [event] },
      undefined,
      sequencer ?? this.#resume.stored,
    );
    if (hold) this.#resume.hold(uid, event, elsewhere ? n + 1 : n);
    return n;
  }

  /** Pushes to one connection; `false` when it is not open here. */
  toConnection(connId: string, event: Event): boolean {
    const conn = this.#ctx.conns.get(connId);
    return conn ? this.#resume.push(conn, event) : false;
  }

  /**
   * Pushes to every connection but those in `except`; `streamed`: only those with (`true`) or
   * without (`false`) channel sequences, `sequencer` numbering it for resuming ones.
   */
  toAll(
    event: Event,
    except: ReadonlySet<string> | undefined,
    streamed?: boolean,
    sequencer?: Sequencer,
  ): number {
    const ctx = this.#ctx;
    return this.fanOuts.run(
      everyone(ctx.conns, except, streamed),
      { type: "push", events: [event] },
      null,
      sequencer,
      this.#stream(BROADCAST_STREAM, event, except ? [...except] : []),
    );
  }

  /** A broadcast numbered in the cluster's broadcast stream, to this node's channel-seq ones. */
  toAllStreamed(cseq: number, event: Event, except: readonly string[]): number {
    return this.fanOuts.run(
      everyone(this.#ctx.conns, except.length ? new Set(except) : undefined, true),
      { type: "push", events: [event] },
      null,
      this.#resume.stored,
      { key: BROADCAST_STREAM, cseq },
    );
  }

  /** The publish's number in `key`'s stream, when channel-seq connections hold it. */
  #stream(key: string, event: Event, except: readonly string[]): StreamRef | null {
    const seq = this.#resume.channelSeq;
    const cseq = seq === null ? null : seq.append(key, event, except, this.#ctx.conns);
    return cseq === null ? null : { key, cseq };
  }

  /**
   * Publishes to a channel's subscribers and (`hold`) the away sessions of this node that keep
   * it; `sequencer` as for {@linkcode toUid}.
   */
  toChannel(
    channel: string,
    data: unknown,
    from: string | null,
    except: string[],
    hold = true,
    sequencer?: Sequencer,
    streamed?: boolean,
  ): number {
    const event = LocalDelivery.channelEvent(channel, data, from);
    const ctx = this.#ctx;
    const n = this.fanOuts.run(
      subscribers(
        ctx.channels.members(channel),
        channel,
        except.length ? new Set(except) : undefined,
        streamed,
      ),
      { type: "push", events: [event] },
      channel,
      sequencer ?? this.#resume.stored,
      this.#stream(channel, event, except),
    );
    // Resumed connections waiting to replay the channel from its log get it then.
    const waiting = this.#resume.channelSeq?.logs.get(channel)?.pending ?? 0;
    return hold ? n + waiting + this.#resume.keep(channel, event) : n + waiting;
  }

  /**
   * A channel message numbered in the cluster's channel stream (lib/server/channel_pump.ts): to
   * this node's subscribers with channel sequences; returns how many.
   */
  toChannelStreamed(
    channel: string,
    cseq: number,
    event: Event,
    except: readonly string[],
  ): number {
    const ctx = this.#ctx;
    return this.fanOuts.run(
      subscribers(
        ctx.channels.members(channel),
        channel,
        except.length ? new Set(except) : undefined,
        true,
      ),
      { type: "push", events: [event] },
      channel,
      this.#resume.stored,
      { key: channel, cseq },
    );
  }

  /** Sends a request to one connection and resolves with its reply (see `Hub.request`). */
  request(
    connId: string,
    id: string,
    data: unknown,
    options: RequestOptions,
  ): Promise<unknown> {
    const conn = this.#ctx.conns.get(connId);
    if (!conn || conn.closed) {
      return Promise.reject(new ClosedError(`connection ${connId} is not open`));
    }
    const timeoutMs = options.timeoutMs ?? this.#ctx.options.requestTimeoutMs;
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    options.signal?.throwIfAborted();
    return sendRequest(conn, this.#ctx.clock, id, data, timeoutMs, options.signal);
  }
}
