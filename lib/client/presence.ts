// This module is browser compatible.
/**
 * Channel presence on the client (opt-in: import only what you use, it adds nothing to a bundle
 * that does not). The server names its presence channels with its `presence` option; a client
 * subscribed to one may ask who is there and hears joins and leaves (docs/PROTOCOL.md §3.1).
 *
 * @module
 */
import { ServerError } from "../protocol/errors.ts";
import type { Client } from "./client.ts";

/** One subscriber of a presence channel. */
export interface PresenceMember {
  /** Its connection id. */
  readonly connId: string;
  /** Its uid (`"sente/nil-uid"` when anonymous). */
  readonly uid: string;
}

/** A join or leave in a presence channel. */
export interface PresenceEvent extends PresenceMember {
  /** The channel id. */
  readonly channel: string;
  /** `"join"` or `"leave"`. */
  readonly action: "join" | "leave";
}

function member(m: unknown): PresenceMember {
  const r = (m ?? {}) as Record<string, unknown>;
  return { connId: String(r["conn-id"]), uid: String(r.uid) };
}

/**
 * Who is subscribed to `channel` now. The client must be subscribed to it; rejects with
 * `ServerError` (`presence-off`, `not-subscribed`) otherwise.
 *
 * @example
 * ```ts
 * import { connect, presence } from "@sente-lite/sente-lite/client";
 * const client = connect("ws://localhost:3000/chsk");
 * await client.subscribe("room:lobby", () => {});
 * console.log((await presence(client, "room:lobby")).map((m) => m.uid));
 * ```
 */
export async function presence(client: Client, channel: string): Promise<PresenceMember[]> {
  const reply = (await client.request("sente-lite/presence", { "channel-id": channel }) ??
    {}) as Record<string, unknown>;
  if (reply.success !== true) {
    throw new ServerError(String(reply.error ?? "refused"), `presence of ${channel} refused`);
  }
  return Array.isArray(reply.members) ? reply.members.map(member) : [];
}

/**
 * Calls `handler` for every join and leave in `channel` (while subscribed to it); returns a
 * function that stops.
 *
 * @example
 * ```ts
 * import { connect, onPresence } from "@sente-lite/sente-lite/client";
 * const client = connect("ws://localhost:3000/chsk");
 * onPresence(client, "room:lobby", (e) => console.log(e.uid, e.action));
 * ```
 */
export function onPresence(
  client: Client,
  channel: string,
  handler: (event: PresenceEvent) => void,
): () => void {
  return client.on("sente-lite/presence", (data) => {
    const d = (data ?? {}) as Record<string, unknown>;
    if (d["channel-id"] !== channel) return;
    const action = d.action === "leave" ? "leave" : "join";
    handler({ channel, action, ...member(d) });
  });
}
