/**
 * The demo server's live stats, published through sente-lite itself: every second a small wire
 * snapshot to `demo:stats` (the demo page's chart) and a full one to `admin:stats` (the admin
 * page). The timer runs only while one of the two channels has subscribers, so an idle demo server
 * (and every test that makes one) holds no timer.
 *
 * @module
 */
import type { Server } from "../server/server.ts";
import type { ServerStats } from "../server/types.ts";

/** The channel the demo page's wire chart subscribes to. */
export const DEMO_STATS_CHANNEL = "demo:stats";
/** The channel the admin page subscribes to (admin uid only). */
export const ADMIN_STATS_CHANNEL = "admin:stats";

/** What `demo:stats` carries every second. */
export interface WireSnapshot {
  /** Server time (ms). */
  t: number;
  connections: number;
  /** Bytes of compressed frames before compression (cumulative). */
  before: number;
  /** The same frames' bytes after compression (cumulative). */
  after: number;
  /** Frames compressed (cumulative). */
  compressed: number;
  /** Batch frames sent and the pushes they carried (cumulative). */
  batchFrames: number;
  batchedMessages: number;
}

/** One connection as the admin page lists it. */
export interface AdminConnection {
  id: string;
  uid: string;
  openedAt: number;
  channels: string[];
}

/** What `admin:stats` carries every second. */
export interface AdminSnapshot {
  t: number;
  connections: AdminConnection[];
  uids: number;
  channels: { id: string; subscribers: number }[];
  /** Per second, over the last tick. */
  rates: { messagesIn: number; messagesOut: number; bytesIn: number; bytesOut: number };
  totals: { messagesIn: number; messagesOut: number; bytesIn: number; bytesOut: number };
  wire: WireSnapshot;
  /** Delivery: resumes, gaps and drops. */
  delivery: {
    resumed: number;
    resumeFailed: number;
    offlineBuffered: number;
    offlineDropped: number;
    offlineExpired: number;
    droppedFrames: number;
    slowConsumerCloses: number;
  };
}

/** The feed's controls: `wake` after a subscribe to a stats channel, `check` after a leave. */
export interface StatsFeed {
  /** Starts the timer if it is not running. */
  wake(): void;
  /** Stops the timer when neither stats channel has subscribers. */
  check(): void;
}

/** At most this many connections and channels go into one admin snapshot. */
const ADMIN_LIST_LIMIT = 200;

/** Makes the stats feed of `server` (idle until {@linkcode StatsFeed.wake}). */
export function statsFeed(server: Server, intervalMs = 1000): StatsFeed {
  let timer: ReturnType<typeof setInterval> | undefined;
  let previous: { at: number; stats: ServerStats } | undefined;
  const watched = () =>
    server.subscribers(DEMO_STATS_CHANNEL).length + server.subscribers(ADMIN_STATS_CHANNEL).length;
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
    previous = undefined;
  };
  const tick = () => {
    if (watched() === 0) return stop();
    const now = Date.now();
    const stats = server.stats();
    const wire = wireSnapshot(now, stats);
    if (server.subscribers(DEMO_STATS_CHANNEL).length) server.publish(DEMO_STATS_CHANNEL, wire);
    if (server.subscribers(ADMIN_STATS_CHANNEL).length) {
      server.publish(ADMIN_STATS_CHANNEL, adminSnapshot(server, now, stats, wire, previous));
    }
    previous = { at: now, stats };
  };
  return {
    wake() {
      if (timer !== undefined) return;
      timer = setInterval(tick, intervalMs);
      queueMicrotask(tick); // the first point at once, not a second later
    },
    check() {
      if (timer !== undefined && watched() === 0) stop();
    },
  };
}

function wireSnapshot(t: number, s: ServerStats): WireSnapshot {
  return {
    t,
    connections: s.connections,
    before: s.wire.compressBytesBefore,
    after: s.wire.compressBytesAfter,
    compressed: s.wire.compressedOut,
    batchFrames: s.wire.batchFrames,
    batchedMessages: s.wire.batchedMessages,
  };
}

function adminSnapshot(
  server: Server,
  now: number,
  s: ServerStats,
  wire: WireSnapshot,
  previous: { at: number; stats: ServerStats } | undefined,
): AdminSnapshot {
  const channelsOf = new Map<string, string[]>();
  const channels = server.channels().slice(0, ADMIN_LIST_LIMIT).map((id) => {
    const subscribers = server.subscribers(id);
    for (const connId of subscribers) {
      const list = channelsOf.get(connId) ?? [];
      list.push(id);
      channelsOf.set(connId, list);
    }
    return { id, subscribers: subscribers.length };
  });
  const seconds = previous ? Math.max(0.001, (now - previous.at) / 1000) : 1;
  const rate = (k: "messagesIn" | "messagesOut" | "bytesIn" | "bytesOut") =>
    previous ? Math.round((s[k] - previous.stats[k]) / seconds) : 0;
  return {
    t: now,
    connections: server.connections().slice(0, ADMIN_LIST_LIMIT).map((c) => ({
      id: c.id,
      uid: c.uid,
      openedAt: c.openedAt,
      channels: channelsOf.get(c.id) ?? [],
    })),
    uids: s.uids,
    channels,
    rates: {
      messagesIn: rate("messagesIn"),
      messagesOut: rate("messagesOut"),
      bytesIn: rate("bytesIn"),
      bytesOut: rate("bytesOut"),
    },
    totals: {
      messagesIn: s.messagesIn,
      messagesOut: s.messagesOut,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
    },
    wire,
    delivery: {
      resumed: s.resumed,
      resumeFailed: s.resumeFailed,
      offlineBuffered: s.offlineBuffered,
      offlineDropped: s.offlineDropped,
      offlineExpired: s.offlineExpired,
      droppedFrames: s.droppedFrames,
      slowConsumerCloses: s.slowConsumerCloses,
    },
  };
}
