/**
 * The parts of one Hub and how they are wired together (docs/DESIGN: the Hub stays the small
 * object that holds the public API; each concern is its own module). Also the two figures that
 * read across parts: the stats snapshot and closing many connections at once.
 *
 * @module
 */
import type { FanOutQueue } from "./fanout.ts";
import { Cluster } from "./cluster.ts";
import { ClusterPresence } from "./cluster_presence.ts";
import { clientBundleRoute, clientScriptPath } from "./client_bundle.ts";
import type { Connection } from "./connection.ts";
import { Connections } from "./connections.ts";
import type { ServerContext } from "./context.ts";
import { watchDeparted } from "./departed.ts";
import type { Hub } from "./hub.ts";
import { Inbound } from "./inbound.ts";
import { LocalDelivery } from "./local.ts";
import { Membership } from "./membership.ts";
import { operationsRoute } from "./operations_route.ts";
import { Presence } from "./presence.ts";
import { Resume } from "./resume.ts";
import { Router } from "./router.ts";
import { ServerStreams, STREAM_CONTROL_EVENT } from "./streams.ts";
import type { ServerStats } from "./types.ts";
import { Upgrades } from "./upgrade.ts";

/** What a Hub delegates to (the shared state, `ctx`, it holds itself). */
export interface HubParts {
  /** Upgrade checks, hooks, dialect choice and the extra HTTP routes. */
  readonly upgrades: Upgrades;
  /** Opening and closing connections. */
  readonly connections: Connections;
  /** What arrives on a connection. */
  readonly inbound: Inbound;
  /** Handlers and extensions. */
  readonly router: Router;
  /** Sends over every node of the backplane. */
  readonly cluster: Cluster;
  /** Delivery and resume. */
  readonly resume: Resume;
  /** Channel presence. */
  readonly presence: Presence;
  /** This process's fan-out queue. */
  readonly fanOuts: FanOutQueue;
}

/**
 * Makes and wires the parts of `hub` over its shared state `ctx`. `hub` is passed to the
 * operations endpoints, which observe it at once: its `observe()` must work already.
 */
export function wireHub(ctx: ServerContext, hub: Hub): HubParts {
  const options = ctx.options;
  const resume = new Resume(ctx);
  const local = new LocalDelivery(ctx, resume);
  const cluster = new Cluster(ctx, local, resume.durable);
  const router = new Router(ctx, cluster, resume);
  // A dead node's uids closed on no node: one survivor fires their uidport-close.
  watchDeparted(ctx, (uid, conn) => router.internal("chsk/uidport-close", uid, conn));
  const upgrades = new Upgrades(ctx, resume.enabled);
  const inbound = new Inbound(ctx, router, resume.durable?.inbound);
  const connections = new Connections(ctx, inbound, router, resume, local.fanOuts);
  const push = (conn: Connection, id: string, data: unknown) => void resume.push(conn, [id, data]);
  const presence = router.presence = new Presence(ctx, push);
  if (ctx.topics.clustered && options.presence !== undefined) {
    presence.cluster = new ClusterPresence(ctx, presence);
  }
  const membership = new Membership(ctx, presence, push);
  cluster.membership = (target, channel, join) =>
    join ? membership.join(target, channel) : membership.leave(target, channel);
  const onError = (e: unknown) => options.onError(e, { where: "clientScript" });
  const script = clientBundleRoute(clientScriptPath(options.clientScript, options.path), onError);
  const ops = operationsRoute(hub, options.operations);
  upgrades.routes = [script, ops].filter((r) => r !== null);
  ctx.streams = new ServerStreams(ctx, options.streams);
  router.on(
    STREAM_CONTROL_EVENT,
    (msg) => ctx.streams!.control(msg.connection as never, msg.data),
  );
  return {
    upgrades,
    connections,
    inbound,
    router,
    cluster,
    resume,
    presence,
    fanOuts: local.fanOuts,
  };
}

/** A snapshot of the counters: the kept ones plus the live figures of the open connections. */
export function statsSnapshot(ctx: ServerContext, parts: HubParts): ServerStats {
  let bufferedBytes = 0;
  let queuedBytes = 0;
  let unacknowledged = 0;
  const wire = { ...ctx.stats.wire }; // closed connections' counters, plus the open ones'
  for (const conn of ctx.conns.values()) {
    bufferedBytes += conn.socket.bufferedAmount;
    queuedBytes += conn.queuedBytes;
    conn.wire?.addTo(wire);
    const session = conn.session;
    if (session !== null && session.conn === conn) unacknowledged += session.buffer.length;
  }
  parts.inbound.addInflationStats(wire);
  const pendingUpgrades = ctx.admission.pending;
  const deliveryBytes = parts.resume.bytes;
  const errors = { ...ctx.stats.errors };
  return {
    ...ctx.stats,
    errors,
    bufferedBytes,
    queuedBytes,
    wire,
    pendingUpgrades,
    deliveryBytes,
    unacknowledged,
    fanOutsQueued: parts.fanOuts.queued,
    streams: ctx.streams?.stats(),
  };
}

/** Closes each connection of `conns` not closed yet; returns how many. */
export function closeEach(conns: Iterable<Connection>, code: number, reason: string): number {
  let n = 0;
  for (const conn of [...conns]) {
    if (!conn.closed) {
      conn.close(code, reason);
      n++;
    }
  }
  return n;
}
