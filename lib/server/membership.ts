/**
 * Server-side membership (Socket.IO's `socket.join`): `server.join(connId | { uid }, channel)`
 * subscribes a connection, or every open connection of a uid, to a channel; `server.leave`
 * removes it. The client is told with a push (docs/PROTOCOL.md §3.1):
 * `["sente-lite/subscribed", {"channel-id": "room", "success": true, "server": true}]` and
 * `["sente-lite/unsubscribed", {"channel-id": "room", "server": true}]`; sente-lite clients then
 * list the channel in `channels()` and re-subscribe it after a reconnect like their own.
 *
 * Every membership change, whoever made it, runs the `onSubscribe`/`onUnsubscribe` hooks and
 * presence (lib/server/presence.ts), through the registry's listener.
 *
 * @module
 */
import { isChannelId } from "./channels.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import type { Presence } from "./presence.ts";
import type { ConnectionInfo } from "./types.ts";

/** A connection, or every connection of a uid. */
export type MembershipTarget = string | { readonly uid: string };

/** Who made a membership change. */
export type MembershipCause = "client" | "server" | "close";

/** What `onSubscribe` and `onUnsubscribe` receive. */
export interface SubscriptionEvent {
  /** The channel id. */
  readonly channel: string;
  /** The connection that joined or left. */
  readonly connection: ConnectionInfo;
  /** Its uid (the same as `connection.uid`). */
  readonly uid: string;
  /**
   * `"client"` (it subscribed or unsubscribed, or resumed its subscriptions), `"server"`
   * (`server.join`/`server.leave`) or `"close"` (the connection closed).
   */
  readonly by: MembershipCause;
}

/** Server-side joins and leaves, and the hooks of every membership change. */
export class Membership {
  readonly #ctx: ServerContext;
  readonly #presence: Presence;
  readonly #push: (conn: Connection, id: string, data: unknown) => void;
  /** Set while `join`/`leave` change the registry, so the hooks tell who did. */
  #serverChange = false;

  /** Listens to `ctx.channels`; pushes go out through `push`. */
  constructor(
    ctx: ServerContext,
    presence: Presence,
    push: (conn: Connection, id: string, data: unknown) => void,
  ) {
    this.#ctx = ctx;
    this.#presence = presence;
    this.#push = push;
    ctx.channels.listener = (channel, conn, added) => this.#changed(channel, conn, added);
  }

  #targets(target: MembershipTarget, channel: string): Connection[] {
    if (!isChannelId(channel)) {
      throw new TypeError(`channel must be a non-empty string, got ${JSON.stringify(channel)}`);
    }
    if (typeof target === "string") {
      const conn = this.#ctx.conns.get(target);
      return conn ? [conn] : [];
    }
    if (typeof target !== "object" || target === null || typeof target.uid !== "string") {
      throw new TypeError("target must be a connection id or { uid }");
    }
    return [...this.#ctx.uids.connections(target.uid)];
  }

  /** Subscribes the target's open connections; returns how many were not subscribed yet. */
  join(target: MembershipTarget, channel: string): number {
    let n = 0;
    for (const conn of this.#targets(target, channel)) {
      // A channel its resumed session kept goes live with the client's cursor (channel_seq.ts).
      if (conn.closed || conn.channels.has(channel) || conn.cseq?.pending?.has(channel)) continue;
      this.#serverChange = true;
      try {
        this.#ctx.channels.add(channel, conn);
      } finally {
        this.#serverChange = false;
      }
      conn.subscribe(channel);
      n++;
      this.#push(conn, "sente-lite/subscribed", {
        "channel-id": channel,
        success: true,
        server: true,
        ...cursorNow(conn, channel),
      });
    }
    this.#ctx.stats.channels = this.#ctx.channels.size;
    return n;
  }

  /** Unsubscribes the target's connections; returns how many were subscribed. */
  leave(target: MembershipTarget, channel: string): number {
    let n = 0;
    for (const conn of this.#targets(target, channel)) {
      if (conn.cseq?.dropPending(channel)) {
        n++;
        this.#push(conn, "sente-lite/unsubscribed", { "channel-id": channel, server: true });
        continue;
      }
      if (!conn.channels.has(channel)) continue;
      this.#serverChange = true;
      try {
        this.#ctx.channels.remove(channel, conn);
      } finally {
        this.#serverChange = false;
      }
      conn.unsubscribe(channel);
      n++;
      if (!conn.closed) {
        this.#push(conn, "sente-lite/unsubscribed", { "channel-id": channel, server: true });
      }
    }
    this.#ctx.stats.channels = this.#ctx.channels.size;
    return n;
  }

  #changed(channel: string, conn: Connection, added: boolean): void {
    const ctx = this.#ctx;
    const by: MembershipCause = this.#serverChange ? "server" : conn.closed ? "close" : "client";
    const hook = added ? ctx.options.onSubscribe : ctx.options.onUnsubscribe;
    if (hook) {
      const event: SubscriptionEvent = { channel, connection: conn, uid: conn.uid, by };
      ctx.hook(added ? "onSubscribe" : "onUnsubscribe", () => hook(event));
    }
    this.#presence.changed(channel, conn, added);
  }
}

/** The `cseq` a join push tells a channel-seq client, when known at once (a server alone). */
function cursorNow(conn: Connection, channel: string): Record<string, unknown> | undefined {
  const extra = conn.cseq?.host.subscribed(conn, channel, null, false);
  return extra instanceof Promise ? undefined : extra;
}
