/**
 * `chsk/uidport-close` for the uids of a node that left the cluster without closing its
 * connections (SIGKILL, crash, partition: its heartbeat expired). No node saw those connections
 * close, so none fired the event; presence reports each uid that went offline with the node
 * ({@linkcode PresenceChange.node}) to every surviving node, and exactly one of them — the live
 * node with the smallest id, as each node sees the cluster — fires it, once per uid.
 *
 * The message's connection is a stand-in: already closed (sends return `false`), with the uid,
 * the id `<dead node>.departed` and an empty client id.
 *
 * @module
 */
import type { PresenceChange } from "../backplane/backplane.ts";
import { senteLiteDialect } from "../dialects/sente_lite.ts";
import { jsonPacker } from "../packers/json.ts";
import { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import type { ServerSocket } from "./socket.ts";

/** The stand-in socket of a departed node's connection: it sends and closes nothing. */
const NO_SOCKET: ServerSocket = { send() {}, close() {}, bufferedAmount: 0 };

/**
 * Watches presence for uids that went offline with a departed node and calls `fire` on the one
 * elected node; returns an unsubscribe function (a no-op for a server alone).
 */
export function watchDeparted(
  ctx: ServerContext,
  fire: (uid: string, conn: Connection) => void,
): () => void {
  if (!ctx.topics.clustered) return () => {};
  const backplane = ctx.options.backplane;
  const self = backplane.nodeId;
  const presence = backplane.presence;
  return presence.watch((change: PresenceChange) => {
    const node = change.node;
    if (change.online || node === undefined || node === self) return;
    for (const n of presence.nodes()) if (n !== node && n < self) return; // not elected
    const conn = new Connection(
      `${node}.departed`,
      change.uid,
      "",
      new Request("http://departed.invalid/"),
      jsonPacker,
      senteLiteDialect,
      NO_SOCKET,
      ctx.clock.now(),
      ctx.stats,
    );
    conn.closed = true;
    ctx.tel.event("sente-lite/uid-departed", {
      level: "info",
      data: () => ({ uid: change.uid, nodeId: node }),
    });
    fire(change.uid, conn);
  });
}
