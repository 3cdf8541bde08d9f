/**
 * The sends of a node of a cluster with durable delivery, for channel sequences
 * (lib/server/channel_pump.ts): a broadcast or channel publish is numbered once for the cluster
 * in its stream in the store; connections with channel sequences get the numbered frame from the
 * pump on every node, the others at once as before (older resuming clients numbered into their
 * sessions). Split out of lib/server/cluster.ts, which routes everything else.
 *
 * @module
 */
import { TOPICS } from "../backplane/backplane.ts";
import { encodePayload } from "../backplane/codec.ts";
import type { Event } from "../protocol/event.ts";
import { BROADCAST_STREAM } from "./channel_log.ts";
import type { ServerContext } from "./context.ts";
import type { Durable } from "./durable.ts";
import { LocalDelivery } from "./local.ts";

/** What the durable sends need from the cluster module. */
export interface StreamSends {
  readonly ctx: ServerContext;
  readonly local: LocalDelivery;
  readonly durable: Durable;
  /** Publishes on a backplane topic (to the other nodes). */
  publish(topic: string, payload: string): boolean;
}

/** A broadcast; returns how many of this node's connections get it (now or numbered). */
export function broadcastDurable(
  s: StreamSends,
  event: Event,
  except: ReadonlySet<string> | undefined,
): number {
  const { ctx, local, durable } = s;
  const x = except?.size ? [...except] : [];
  const m = x.length ? { e: event, x } : { e: event };
  const numbered = durable.pump.append(BROADCAST_STREAM, event, x);
  let n = local.toAll(event, except, false);
  for (const c of ctx.conns.values()) if (c.cseq !== null && !except?.has(c.id)) n++;
  numbered.then((cs) => {
    if (cs !== null) durable.pump.arrive(BROADCAST_STREAM, cs, event, x);
    else local.toAll(event, except, true, durable.plain); // the store failed: plainly
    s.publish(TOPICS.broadcast, encodePayload(cs === null ? m : { ...m, cs }));
  });
  return n;
}

/**
 * A channel publish; returns how many of this node's subscribers get it and the promise of its
 * numbering and publish (a client's publish is answered after it).
 */
export function publishDurable(
  s: StreamSends,
  channel: string,
  data: unknown,
  from: string | null,
  except: string[],
): { n: number; published: Promise<void> } {
  const { ctx, local, durable } = s;
  const m = except.length ? { d: data ?? null, f: from, x: except } : { d: data ?? null, f: from };
  const event = LocalDelivery.channelEvent(channel, data, from);
  // Numbered twice at most: once in the channel's stream for every channel-seq subscriber of
  // the cluster, and into the sessions of older resuming clients that keep the channel.
  const held = durable.holdChannel(channel, event, except);
  const numbered = durable.pump.append(channel, event, except);
  const sequencer = durable.sequencerFor(held, event, except);
  let n = local.toChannel(channel, data, from, except, false, sequencer, false);
  for (const c of ctx.channels.members(channel)) {
    if (c.cseq !== null && !except.includes(c.id)) n++; // they get it numbered, below
  }
  const stream = numbered.then((cs) => {
    if (cs !== null) durable.pump.arrive(channel, cs, event, except);
    // Not numbered: the store failed (they get it plainly, and learn of it when the link
    // returns), or no session holds the stream (no channel-seq subscriber anywhere).
    else local.toChannel(channel, data, from, except, false, durable.plain, true);
    return cs;
  });
  const published = Promise.all([held, stream]).then(([, cs]) => {
    s.publish(TOPICS.channel(channel), encodePayload(cs === null ? m : { ...m, cs }));
  });
  return { n, published };
}

/** Another node's broadcast; `cs`: its number in the broadcast stream, if numbered. */
export function receivedBroadcast(
  s: StreamSends,
  event: Event,
  x: string[] | undefined,
  cs: number | undefined,
): void {
  const except = x?.length ? new Set(x) : undefined;
  if (typeof cs !== "number") return void s.local.toAll(event, except);
  s.local.toAll(event, except, false);
  s.durable.pump.arrive(BROADCAST_STREAM, cs, event, x ?? []);
}

/** Another node's channel publish; `cs`: its number in the channel's stream, if numbered. */
export function receivedPublish(
  s: StreamSends,
  channel: string,
  m: { d: unknown; f: string | null; x?: string[]; cs?: number },
): void {
  const x = m.x ?? [];
  if (typeof m.cs !== "number") return void s.local.toChannel(channel, m.d, m.f, x, false);
  s.local.toChannel(channel, m.d, m.f, x, false, undefined, false);
  s.durable.pump.arrive(channel, m.cs, LocalDelivery.channelEvent(channel, m.d, m.f), x);
}
