/**
 * The channel extension events a client sends: `sente-lite/subscribe`, `sente-lite/unsubscribe`
 * and `sente-lite/publish` (docs/PROTOCOL.md §3.1), with limits and the authorization hook.
 *
 * Answers go back as a reply when the client sent a callback id, else (as the original
 * sente-lite's clients expect) as a `sente-lite/subscribed` push; a publish has no ack there.
 *
 * @module
 */
import { ProtocolError } from "../protocol/errors.ts";
import { type ChannelRegistry, isChannelId } from "./channels.ts";
import type { Connection } from "./connection.ts";
import type { ChannelAuthorization } from "./auth.ts";

/** What the channel events need from the Hub. */
export interface ChannelHost {
  /** Subscriber sets. */
  readonly registry: ChannelRegistry<Connection>;
  /** Channels one connection may be subscribed to. */
  readonly maxSubscriptions: number;
  /** The authorization hook, if any. */
  readonly authorize: ((request: ChannelAuthorization) => boolean | Promise<boolean>) | undefined;
  /** Counts an error code in the stats. */
  count(code: string): void;
  /** Answers a bad request (counted, limited, sent as an error event). */
  protocolError(conn: Connection, error: ProtocolError): void;
  /** Sends an error event without counting it as the peer's fault. */
  sendError(conn: Connection, error: ProtocolError): void;
  /** Publishes to a channel; returns how many subscribers got it. */
  publish(channel: string, data: unknown, from: string | null, except: string[]): number;
  /** The number of channels changed. */
  changed(): void;
  /** Whether `conn` may join `channel` now (`rateLimit.presenceJoinsPerIp`). */
  joinAllowed?(conn: Connection, channel: string): boolean;
  /**
   * Resolves once a new subscription of `conn` takes effect everywhere (a node of a cluster
   * records it in the shared store and listens to the channel's topic); awaited before the reply.
   */
  settled?(conn: Connection): Promise<void> | undefined;
  /**
   * Resolves once the last `publish` is numbered for every resuming subscriber in the cluster
   * (so a publish made after the reply is ordered after this one everywhere); awaited before the
   * reply.
   */
  published?(): Promise<void> | undefined;
}

/** Removes `conn` from `channel`. */
export function unsubscribe(host: ChannelHost, conn: Connection, channel: string): void {
  conn.cseq?.dropPending(channel);
  host.registry.remove(channel, conn);
  conn.unsubscribe(channel);
  host.changed();
}

/** Handles one channel event from `conn`. */
export async function channelEvent(
  host: ChannelHost,
  conn: Connection,
  id: string,
  data: unknown,
  cbId: string | null,
): Promise<void> {
  const d = (data ?? {}) as Record<string, unknown>;
  const channel = typeof data === "object" && data !== null ? d["channel-id"] : undefined;
  if (!isChannelId(channel)) {
    host.protocolError(
      conn,
      new ProtocolError("bad-request", `${id} needs {"channel-id": <non-empty string>}`, cbId),
    );
    return;
  }
  const answer = (body: Record<string, unknown>) => {
    const value = { "channel-id": channel, ...body };
    if (cbId !== null) conn.send({ type: "reply", cbId, value });
    else if (id !== "sente-lite/publish") {
      conn.send({ type: "push", events: [["sente-lite/subscribed", value]] });
    } else if (body.success === false) {
      host.sendError(conn, new ProtocolError("forbidden", `publish to ${channel} denied`));
    }
  };
  if (id === "sente-lite/unsubscribe") {
    unsubscribe(host, conn, channel);
    answer({ success: true });
    return;
  }
  const action = id === "sente-lite/subscribe" ? "subscribe" : "publish";
  // A channel-seq client's cursor in the channel's stream (docs/PROTOCOL.md §8).
  const streams = conn.cseq;
  const after = streams !== null && action === "subscribe" ? cursorOf(d["after"]) : null;
  if (streams !== null && action === "subscribe" && streams.pending?.has(channel)) {
    // Kept by its resumed session: what it missed is replayed from the log, then it is live.
    const extra = streams.host.activate(conn, channel, after, () => {
      if (host.registry.add(channel, conn)) conn.subscribe(channel);
      streams.dropPending(channel); // its hold on the stream passed to the subscription
      host.changed();
    });
    answer({ success: true, ...extra instanceof Promise ? await extra : extra });
    return;
  }
  if (action === "subscribe" && conn.channels.has(channel)) {
    // Already a member (subscribed, joined by the server, or restored by a resume): idempotent,
    // and not asked again, so a client's re-subscribe never drops what the server joined.
    const extra = streams?.host.subscribed(conn, channel, null, false);
    answer({ success: true, ...extra instanceof Promise ? await extra : extra });
    return;
  }
  if (action === "subscribe") {
    if (conn.channels.size >= host.maxSubscriptions) {
      host.count("limit-exceeded");
      answer({ success: false, error: "max-subscriptions-per-conn" });
      return;
    }
  }
  if (host.authorize) {
    const ok = await host.authorize({
      action,
      channel,
      uid: conn.uid,
      clientId: conn.clientId,
      connId: conn.id,
      connection: conn.info(),
      data: d["data"],
    });
    if (!ok) {
      host.count("forbidden");
      answer({ success: false, error: "forbidden" });
      return;
    }
  }
  if (conn.closed) return;
  if (action === "subscribe") {
    if (host.joinAllowed?.(conn, channel) === false) {
      host.count("rate-limited");
      answer({ success: false, error: "rate-limited" });
      return;
    }
    if (host.registry.add(channel, conn)) conn.subscribe(channel);
    host.changed();
    // No replay for a new member: it proves no earlier membership, so it only learns of the gap.
    // A server alone answers in this turn (an awaited plain value would yield one, letting what
    // a hook publishes meanwhile overtake the reply).
    const extra = streams?.host.subscribed(conn, channel, after, false);
    const cseq = extra instanceof Promise ? await extra : extra;
    const settled = host.settled?.(conn);
    if (settled) await settled; // no extra turn where nothing needs settling
    answer({ success: true, ...cseq });
  } else {
    const except = d["exclude-sender?"] === true ? [conn.id] : [];
    const delivered = host.publish(channel, d["data"], conn.id, except);
    const published = host.published?.();
    if (published) await published;
    answer({ success: true, delivered });
  }
}

/** A cursor (`"after"`) as sent: a non-negative safe integer, else none. */
function cursorOf(v: unknown): number | null {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : null;
}
