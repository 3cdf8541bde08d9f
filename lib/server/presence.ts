/**
 * Channel presence (like Centrifugo's): who is subscribed to a channel, and join/leave events to
 * its subscribers, for the channels the `presence` option names. In a cluster the members and
 * the events cover every node (lib/server/cluster_presence.ts).
 *
 * Wire (docs/PROTOCOL.md §3.1):
 * - C→S `["sente-lite/presence", {"channel-id": "room"}]` with a cb: reply
 *   `{"channel-id": "room", "success": true, "members": [{"conn-id": "…", "uid": "alice"}]}`, or
 *   `"success": false` with `"error": "presence-off"`, `"not-subscribed"` or `"rate-limited"`.
 *   Only subscribers may ask: presence is authorized like subscribing (by `authorizeChannel`, or
 *   `server.join`); a list takes a token of `rateLimit.presenceJoinsPerIp`.
 * - S→C push `["sente-lite/presence", {"channel-id": "room", "action": "join" | "leave",
 *   "conn-id": "…", "uid": "alice"}]` to the channel's other subscribers.
 *
 * Each join or leave costs one push per other subscriber of the channel.
 *
 * @module
 */
import { ProtocolError } from "../protocol/errors.ts";
import { isChannelId } from "./channels.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import type { ClusterPresence } from "./cluster_presence.ts";

/** The event id of presence requests and join/leave pushes. */
export const PRESENCE_EVENT = "sente-lite/presence";

/**
 * Which channels have presence: channel ids, `"prefix*"` patterns (`"room:*"`), or a predicate.
 */
export type PresenceChannels = readonly string[] | ((channel: string) => boolean);

/** One subscriber of a presence channel. */
export interface PresenceMember {
  /** Its connection id. */
  readonly connId: string;
  /** Its uid (`"sente/nil-uid"` when anonymous). */
  readonly uid: string;
}

/** Makes the matcher of a `presence` option; throws `TypeError` on a bad one. */
export function presenceMatcher(
  option: PresenceChannels | undefined,
): (channel: string) => boolean {
  if (option === undefined) return () => false;
  if (typeof option === "function") return option;
  if (!Array.isArray(option) || option.some((p) => typeof p !== "string" || p === "")) {
    throw new TypeError(
      'ServerOptions.presence must be a list of channel ids or "prefix*" patterns, or a predicate',
    );
  }
  const exact = new Set(option.filter((p) => !p.endsWith("*")));
  const prefixes = option.filter((p) => p.endsWith("*")).map((p) => p.slice(0, -1));
  return (channel) => exact.has(channel) || prefixes.some((p) => channel.startsWith(p));
}

/** Presence of one Hub. */
export class Presence {
  readonly #ctx: ServerContext;
  readonly #enabled: (channel: string) => boolean;
  readonly #push: (conn: Connection, id: string, data: unknown) => void;
  /** The other nodes' members, in a cluster (set by the Hub). */
  cluster: ClusterPresence | null = null;

  /** Presence for the channels `ctx.options.presence` names; events go out through `push`. */
  constructor(ctx: ServerContext, push: (conn: Connection, id: string, data: unknown) => void) {
    this.#ctx = ctx;
    this.#enabled = presenceMatcher(ctx.options.presence);
    this.#push = push;
  }

  /** `true` when `channel` has presence. */
  enabled(channel: string): boolean {
    try {
      return this.#enabled(channel) === true;
    } catch (e) {
      this.#ctx.options.onError(e, { where: "presence" });
      return false;
    }
  }

  /** The subscribers of `channel`, or `null` when it has no presence. */
  members(channel: string): PresenceMember[] | null {
    if (!this.enabled(channel)) return null;
    const local = [...this.#ctx.channels.members(channel)].map((c) => ({
      connId: c.id,
      uid: c.uid,
    }));
    return this.cluster === null ? local : [...local, ...this.cluster.members(channel)];
  }

  /** A connection of this node joined or left `channel`: tells the other subscribers. */
  changed(channel: string, conn: Connection, added: boolean): void {
    if (this.cluster !== null && this.enabled(channel)) this.cluster.local(channel, conn, added);
    const members = this.#ctx.channels.members(channel);
    if (members.size === 0 || (members.size === 1 && members.has(conn))) return;
    if (!this.enabled(channel)) return;
    this.tell(channel, conn.id, conn.uid, added, conn);
  }

  /** Pushes a join or leave of `connId` to this node's subscribers of `channel` but `except`. */
  tell(channel: string, connId: string, uid: string, added: boolean, except?: Connection): void {
    const members = this.#ctx.channels.members(channel);
    if (members.size === 0) return;
    const data = {
      "channel-id": channel,
      action: added ? "join" : "leave",
      "conn-id": connId,
      uid,
    };
    for (const other of [...members]) {
      if (other !== except && !other.closed) this.#push(other, PRESENCE_EVENT, data);
    }
  }

  /**
   * Answers a `sente-lite/presence` request from `conn`. A member list costs O(members), like a
   * join's pushes, so it takes a token of `budget` (`rateLimit.presenceJoinsPerIp`), after the
   * cheap refusals and before the list is made.
   */
  request(
    conn: Connection,
    data: unknown,
    cbId: string | null,
    budget?: { allowed(conn: Connection, channel: string): boolean },
  ): void {
    const channel = typeof data === "object" && data !== null
      ? (data as Record<string, unknown>)["channel-id"]
      : undefined;
    if (!isChannelId(channel) || cbId === null) {
      this.#ctx.protocolError(
        conn,
        new ProtocolError(
          "bad-request",
          `${PRESENCE_EVENT} is a request with {"channel-id": <non-empty string>}`,
          cbId,
        ),
      );
      return;
    }
    const answer = (body: Record<string, unknown>) =>
      conn.send({ type: "reply", cbId, value: { "channel-id": channel, ...body } });
    if (!this.enabled(channel)) return void answer({ success: false, error: "presence-off" });
    // Authorized like subscribing: only the channel's subscribers see who else is there.
    if (!conn.channels.has(channel)) {
      this.#ctx.count("forbidden");
      return void answer({ success: false, error: "not-subscribed" });
    }
    if (budget && !budget.allowed(conn, channel)) {
      this.#ctx.count("rate-limited");
      return void answer({ success: false, error: "rate-limited" });
    }
    const members = this.members(channel)!;
    answer({
      success: true,
      members: members.map((m) => ({ "conn-id": m.connId, uid: m.uid })),
    });
  }
}
