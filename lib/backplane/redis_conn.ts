/**
 * The backplane's connection to Redis, for one primary (`createClient`: a command connection and
 * a subscriber) or a Redis Cluster (`createCluster`: node-redis keeps a connection per master and,
 * for sharded pub/sub, a subscriber per master, routing each command by its first key's slot and
 * each sharded channel by the channel's slot). The backplane sees one shape either way.
 *
 * @module
 */
import { createClient, createCluster } from "@redis/client";

/** Receives a pub/sub message. */
export type RedisListener = (message: string, channel: string) => void;

/** What the backplane needs from its Redis connection(s). */
export interface RedisConnection {
  /** `true` for a Redis Cluster. */
  readonly cluster: boolean;
  /** Whether commands can be sent now (every master reachable, on a cluster). */
  commandsReady(): boolean;
  /** Whether the subscriber is connected (on a cluster: whether any master is reachable). */
  subscriberReady(): boolean;
  /**
   * Sends one command, routed (on a cluster) by its first key: `args[1]`, or for EVAL/EVALSHA the
   * first declared key; commands without keys (INFO) go to any master.
   */
  command(args: string[]): Promise<unknown>;
  /** Publishes (SPUBLISH when `sharded`). */
  publish(channel: string, message: string, sharded: boolean): Promise<unknown>;
  /** Subscribes (SSUBSCRIBE when `sharded`); re-made by the client after reconnects. */
  subscribe(channel: string, listener: RedisListener, sharded: boolean): Promise<void>;
  /** Unsubscribes. */
  unsubscribe(channel: string, sharded: boolean): Promise<void>;
  /** Loads scripts into every master's cache (best effort). */
  loadScripts(scripts: string[]): void;
  /** Connects (in the background; reconnects on its own). */
  connect(): void;
  /** Closes gracefully when connected, else at once. */
  close(): Promise<void>;
}

const REDIS_URL = /^rediss?:\/\//;

/** Where to connect: one server, or a cluster's root nodes. */
export type RedisTarget = { readonly url: string } | { readonly roots: readonly string[] };

/**
 * Checks the `url` and `cluster` options (exactly one, redis:// or rediss:// URLs).
 * @throws {TypeError} when they are not.
 */
export function redisTarget(
  url: unknown,
  cluster: { readonly rootNodes?: unknown } | undefined,
): RedisTarget {
  if (url !== undefined && cluster !== undefined) {
    throw new TypeError("give either url or cluster, not both");
  }
  if (cluster === undefined) {
    if (typeof url !== "string" || !REDIS_URL.test(url)) {
      throw new TypeError(`url must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
    }
    return { url };
  }
  const roots = cluster?.rootNodes;
  if (!Array.isArray(roots) || roots.length === 0) {
    throw new TypeError("cluster.rootNodes must list at least one node");
  }
  return {
    roots: roots.map((r: { url?: unknown } | null) => {
      if (typeof r?.url !== "string" || !REDIS_URL.test(r.url)) {
        const got = JSON.stringify(r?.url);
        throw new TypeError(
          `cluster.rootNodes[].url must be a redis:// or rediss:// URL, got ${got}`,
        );
      }
      return r.url;
    }),
  };
}

/** Settings shared by both shapes. */
export interface ConnectionSettings {
  /** The reconnect delay for attempt `retries`. */
  reconnectStrategy: (retries: number) => number;
  /** One connection attempt's timeout. */
  connectTimeout: number;
  /** Called on every readiness change (and error). */
  onChange: () => void;
  /** `true` once the owner closed: stops the cluster's first-connect retries. */
  closed: () => boolean;
}

/** One primary: two clients, commands and subscriber. */
export function standaloneConnection(url: string, s: ConnectionSettings): RedisConnection {
  const options = {
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: s.reconnectStrategy, connectTimeout: s.connectTimeout },
  };
  const cmd = createClient(options);
  const sub = createClient(options);
  for (const c of [cmd, sub]) {
    // Without an `error` listener an EventEmitter throws: a Redis outage must never crash us.
    c.on("error", s.onChange);
    for (const e of ["ready", "end", "reconnecting", "connect"]) c.on(e, s.onChange);
  }
  return {
    cluster: false,
    commandsReady: () => cmd.isReady,
    subscriberReady: () => sub.isReady,
    command: (args) => cmd.sendCommand(args),
    publish: (channel, message, sharded) =>
      sharded ? cmd.sPublish(channel, message) : cmd.publish(channel, message),
    subscribe: (channel, listener, sharded) =>
      sharded ? sub.sSubscribe(channel, listener) : sub.subscribe(channel, listener),
    unsubscribe: (channel, sharded) =>
      sharded ? sub.sUnsubscribe(channel) : sub.unsubscribe(channel),
    loadScripts(scripts) {
      for (const script of scripts) cmd.sendCommand(["SCRIPT", "LOAD", script]).catch(() => {});
    },
    connect() {
      cmd.connect().catch(() => {});
      sub.connect().catch(() => {});
    },
    async close() {
      for (const c of [sub, cmd]) {
        try {
          if (c.isReady) await c.close();
          else c.destroy();
        } catch {
          // already closed
        }
      }
    },
  };
}

/** The first key of a command (routing on a cluster), or `undefined` when it has none. */
export function firstKey(args: readonly string[]): string | undefined {
  const name = args[0]?.toUpperCase();
  if (name === "EVAL" || name === "EVALSHA") return Number(args[2]) > 0 ? args[3] : undefined;
  if (name === "INFO" || name === "SCRIPT" || name === "PING") return undefined;
  return args[1];
}

/**
 * A Redis Cluster: one node-redis cluster client (a connection per master, a sharded subscriber
 * per master that holds subscribed channels). `rootNodes` only discover the topology; credentials
 * and TLS of the first root URL apply to every node (node-redis does not carry them over itself).
 */
export function clusterConnection(
  rootUrls: readonly string[],
  s: ConnectionSettings,
): RedisConnection {
  const first = new URL(rootUrls[0]);
  const defaults = {
    disableOfflineQueue: true,
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    socket: {
      reconnectStrategy: s.reconnectStrategy,
      connectTimeout: s.connectTimeout,
      ...(first.protocol === "rediss:" ? { tls: true as const } : {}),
    },
  };
  const cluster = createCluster({
    rootNodes: rootUrls.map((url) => ({ url, disableOfflineQueue: true })),
    defaults,
  });
  // Without an `error` listener an EventEmitter throws: a Redis outage must never crash us.
  for (
    const e of [
      "error",
      "connect",
      "disconnect",
      "node-error",
      "node-ready",
      "node-connect",
      "node-reconnecting",
      "node-disconnect",
      "sharded-channel-moved-error",
    ]
  ) cluster.on(e, s.onChange);

  const commandsReady = (): boolean =>
    cluster.isReady && cluster.masters.length > 0 &&
    cluster.masters.every((m) => m.client?.isReady === true);

  // The cluster client connects once (topology discovery); only then do its node clients
  // reconnect on their own. So the first connect is retried here, with the same backoff.
  const connectLoop = async (): Promise<void> => {
    for (let retries = 0; !s.closed(); retries++) {
      try {
        await cluster.connect();
        s.onChange();
        return;
      } catch {
        s.onChange();
        await new Promise((r) => setTimeout(r, s.reconnectStrategy(retries)));
      }
    }
  };

  return {
    cluster: true,
    commandsReady,
    // The "subscriber side" of a cluster: some master is reachable, so a master's outage shows
    // as `degraded` (part of the cluster unreachable), all of them as `down`.
    subscriberReady: () =>
      cluster.isReady && cluster.masters.some((m) => m.client?.isReady === true),
    command: (args) => cluster.sendCommand(firstKey(args), false, args),
    publish: (channel, message, sharded) =>
      sharded ? cluster.sPublish(channel, message) : cluster.publish(channel, message),
    subscribe: (channel, listener, sharded) =>
      sharded ? cluster.sSubscribe(channel, listener) : cluster.subscribe(channel, listener),
    unsubscribe: (channel, sharded) =>
      sharded ? cluster.sUnsubscribe(channel) : cluster.unsubscribe(channel),
    loadScripts(scripts) {
      for (const master of cluster.masters) {
        cluster.nodeClient(master).then((c) => {
          for (const script of scripts) c.sendCommand(["SCRIPT", "LOAD", script]).catch(() => {});
        }, () => {});
      }
    },
    connect() {
      connectLoop().catch(() => {});
    },
    async close() {
      try {
        if (cluster.isReady) await cluster.close();
        else cluster.destroy();
      } catch {
        // already closed
      }
    },
  };
}
