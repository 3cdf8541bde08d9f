/**
 * The Redis backplane: topics on (sharded) pub/sub, presence on heartbeated keys, durable delivery
 * on streams (`redis_store.ts`), all through node-redis (`@redis/client`), on one primary or a
 * Redis Cluster (`redis_conn.ts`). On one primary, two connections per node: one for commands and
 * publishes, one subscriber; on a cluster, one per master plus a sharded subscriber per master
 * holding subscribed topics. All reconnect with exponential backoff and jitter; commands fail fast
 * while a connection is down (no offline queue: a queued publish would arrive late and out of
 * order, a failed one is counted and announced as a gap).
 *
 * @module
 */
import type {
  Backplane,
  BackplaneStats,
  DeliveryStore,
  Payload,
  Presence,
  TopicHandler,
} from "./backplane.ts";
import { type LinkStatus, LinkTracker } from "./link.ts";
import {
  clusterConnection,
  type RedisConnection,
  redisTarget,
  standaloneConnection,
} from "./redis_conn.ts";
import { PRESENCE_TOPIC, RedisPresence } from "./redis_presence.ts";
import { RedisStore } from "./redis_store.ts";
import { RedisRunner } from "./redis_runner.ts";
import * as SCRIPTS from "./redis_scripts.ts";
import { positiveInteger, resolveStoreOptions, type StoreOptions } from "./store_options.ts";
import { randomHex } from "../util/ids.ts";

/** Where a Redis Cluster is: some of its masters, to discover the rest. */
export interface RedisClusterNodes {
  /**
   * At least one node of the cluster (three recommended), e.g.
   * `[{ url: "redis://10.0.0.1:7000" }]`. Credentials and TLS (`rediss://`) of the first URL are
   * used for every node of the cluster.
   */
  rootNodes: readonly { readonly url: string }[];
}

/** Options of {@linkcode redisBackplane}: `url` (one primary) or `cluster` (a Redis Cluster). */
export interface RedisBackplaneOptions extends StoreOptions {
  /**
   * One Redis server, e.g. `redis://127.0.0.1:6379` (`rediss://` for TLS, user:pass@ for ACL).
   * Exactly one of `url` and `cluster` is given.
   */
  url?: string;
  /**
   * A Redis Cluster (through node-redis's `createCluster`): topics use sharded pub/sub, every
   * store script touches one slot (one uid's keys share a hash tag).
   */
  cluster?: RedisClusterNodes;
  /**
   * Head of every key and channel name, so several clusters can share one Redis.
   * @default {"sl"}
   */
  prefix?: string;
  /**
   * This node's id (letters, digits, `.`, `_`, `-`); must be unique in the cluster.
   * @default {16 random hex digits}
   */
  nodeId?: string;
  /**
   * Interval of this node's heartbeat, in ms.
   * @default {2000}
   */
  heartbeatMs?: number;
  /**
   * A node not heard of for this long is dead (its uids close), in ms; ≥ 2 × `heartbeatMs`.
   * @default {10000}
   */
  heartbeatTtlMs?: number;
  /**
   * Use sharded pub/sub (SPUBLISH/SSUBSCRIBE): `"auto"` = when the server is Redis ≥ 7.
   * @default {"auto"}
   */
  sharded?: boolean | "auto";
  /**
   * First reconnect delay, in ms (doubles per attempt, ± 25 % jitter).
   * @default {100}
   */
  reconnectInitialMs?: number;
  /**
   * Largest reconnect delay, in ms.
   * @default {5000}
   */
  reconnectMaxMs?: number;
  /**
   * Timeout of one connection attempt, and how long store calls wait for the first connection.
   * @default {5000}
   */
  connectTimeoutMs?: number;
}

/** The defaults of {@linkcode RedisBackplaneOptions} (besides `url`/`cluster`). */
export const REDIS_BACKPLANE_DEFAULTS: Readonly<
  Required<Omit<RedisBackplaneOptions, "url" | "cluster" | "nodeId" | keyof StoreOptions>>
> = Object.freeze({
  prefix: "sl",
  heartbeatMs: 2000,
  heartbeatTtlMs: 10_000,
  sharded: "auto",
  reconnectInitialMs: 100,
  reconnectMaxMs: 5000,
  connectTimeoutMs: 5000,
});

const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

class RedisBackplane implements Backplane {
  readonly nodeId: string;
  readonly presence: Presence;
  readonly store: DeliveryStore;
  readonly #link = new LinkTracker("connecting");
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #presence: RedisPresence;
  readonly #redisStore: RedisStore;
  readonly #handlers = new Map<string, Set<TopicHandler>>();
  #sharded: boolean | undefined;
  #stats: BackplaneStats = { published: 0, publishDropped: 0, received: 0, topics: 0 };
  #closed = false;
  #firstUp: Promise<void>;
  #connectTimeoutMs: number;

  constructor(options: RedisBackplaneOptions) {
    const o = { ...REDIS_BACKPLANE_DEFAULTS, ...options };
    const store = resolveStoreOptions(options);
    const target = redisTarget(o.url, o.cluster);
    for (
      const k of [
        "heartbeatMs",
        "heartbeatTtlMs",
        "reconnectInitialMs",
        "reconnectMaxMs",
        "connectTimeoutMs",
      ] as const
    ) positiveInteger(k, o[k]);
    if (o.heartbeatTtlMs < 2 * o.heartbeatMs) {
      throw new RangeError(`heartbeatTtlMs must be >= 2 × heartbeatMs, got ${o.heartbeatTtlMs}`);
    }
    if (o.reconnectMaxMs < o.reconnectInitialMs) {
      throw new RangeError(`reconnectMaxMs must be >= reconnectInitialMs`);
    }
    if (!/^[A-Za-z0-9._-]{1,32}$/.test(o.prefix)) {
      throw new RangeError(
        `prefix must be 1-32 of [A-Za-z0-9._-], got ${JSON.stringify(o.prefix)}`,
      );
    }
    this.nodeId = o.nodeId ?? randomHex(16);
    if (!NODE_ID.test(this.nodeId)) {
      throw new RangeError(
        `nodeId must be 1-64 of [A-Za-z0-9._-], got ${JSON.stringify(o.nodeId)}`,
      );
    }
    this.#prefix = o.prefix;
    this.#connectTimeoutMs = o.connectTimeoutMs;
    if (o.sharded !== "auto") this.#sharded = o.sharded;

    const reconnectStrategy = (retries: number): number => {
      const base = Math.min(o.reconnectMaxMs, o.reconnectInitialMs * 2 ** Math.min(retries, 30));
      return Math.round(base * (0.75 + Math.random() * 0.5));
    };
    const settings = {
      reconnectStrategy,
      connectTimeout: o.connectTimeoutMs,
      onChange: () => this.#update(),
      closed: () => this.#closed,
    };
    this.#redis = "roots" in target
      ? clusterConnection(target.roots, settings)
      : standaloneConnection(target.url, settings);

    const runner = new RedisRunner(
      this.#redis,
      () => this.#link.state === "connecting",
      () => this.#started(),
    );
    this.#redisStore = new RedisStore(
      runner,
      o.prefix,
      store.maxMessages,
      store.ttlMs,
      store.maxChannelBytes,
      store.maxSessionBytes,
    );
    this.store = this.#redisStore;
    this.#presence = new RedisPresence(
      {
        redis: runner,
        publish: (payload) => this.publish(PRESENCE_TOPIC, payload),
        ready: () => this.#redis.commandsReady(),
      },
      o.prefix,
      this.nodeId,
      o.heartbeatMs,
      o.heartbeatTtlMs,
    );
    this.presence = this.#presence;
    this.#firstUp = new Promise<void>((resolve) => {
      const stop = this.#link.watch((c) => {
        if (c.to === "up" || c.to === "closed") {
          stop();
          resolve();
        }
      });
    });
    this.#link.watch((c) => {
      if (c.to !== "up") return;
      this.#presence.resync().catch(() => {});
      // A restarted Redis has an empty script cache: load them all once instead of letting every
      // call in flight miss (NOSCRIPT) and send its script again.
      this.#redis.loadScripts(Object.values(SCRIPTS));
    });
    this.#presence.start();
    this.#redis.connect();
    // The link reports `up` before this subscription is active: a `+uid` another node published
    // in between never arrives, and the snapshot taken at `up` may predate it. Rebuilding the view
    // once the subscription is active closes that window (what comes after it arrives).
    this.subscribe(PRESENCE_TOPIC, (p, from) => this.#presence.receive(p, from))
      .then(() => this.#presence.resync())
      .catch(() => {});
  }

  get link(): LinkStatus {
    return this.#link;
  }

  /** Feeds the link table from the two clients' readiness. */
  #update(): void {
    if (this.#closed) return;
    const cmd = this.#redis.commandsReady();
    const ready = Number(cmd) + Number(this.#redis.subscriberReady());
    if (cmd && this.#sharded === undefined) {
      // Decide once, before reporting `up`: topics need to know which commands to use.
      this.#detectSharded().then(() => this.#update(), () => {});
      return;
    }
    this.#link.apply(ready === 2 ? "ready" : ready === 1 ? "partial" : "lost");
  }

  async #detectSharded(): Promise<void> {
    const info = String(await this.#redis.command(["INFO", "server"]));
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
    this.#sharded ??= major >= 7;
  }

  #channel(topic: string): string {
    return `${this.#prefix}:t:${topic}`;
  }

  /** Waits for the first `up` (bounded), so calls made at startup do not fail needlessly. */
  async #started(): Promise<void> {
    if (this.#link.state !== "connecting") return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#firstUp,
      new Promise<void>((r) => timer = setTimeout(r, this.#connectTimeoutMs)),
    ]).finally(() => clearTimeout(timer));
  }

  publish(topic: string, payload: Payload): boolean {
    if (this.#closed) return false;
    if (!this.#redis.commandsReady() || this.#sharded === undefined) {
      this.#stats.publishDropped++;
      this.#link.dropped();
      return false;
    }
    this.#stats.published++;
    const channel = this.#channel(topic);
    const message = `${this.nodeId}|${payload}`;
    this.#redis.publish(channel, message, this.#sharded).catch(() => {
      this.#stats.publishDropped++;
      this.#link.dropped();
    });
    return true;
  }

  #listener = (message: string, channel: string): void => {
    const bar = message.indexOf("|");
    const from = message.slice(0, bar);
    if (bar < 0 || from === this.nodeId) return;
    const handlers = this.#handlers.get(channel.slice(this.#prefix.length + 3));
    if (!handlers) return;
    const payload = message.slice(bar + 1);
    for (const h of handlers) {
      try {
        h(payload, from);
      } catch (e) {
        console.error("sente-lite: backplane topic handler threw:", e);
      }
    }
  };

  /** Subscribes on the engine, retrying across outages until it is active (or closed). */
  async #engineSubscribe(topic: string): Promise<void> {
    const channel = this.#channel(topic);
    for (let delay = 50; !this.#closed; delay = Math.min(delay * 2, 1000)) {
      try {
        await this.#started();
        if (this.#sharded === undefined) throw new Error("not connected yet");
        await this.#redis.subscribe(channel, this.#listener, this.#sharded);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async subscribe(topic: string, handler: TopicHandler): Promise<() => void> {
    if (this.#closed) throw new Error("backplane is closed");
    let set = this.#handlers.get(topic);
    const first = set === undefined;
    if (!set) this.#handlers.set(topic, set = new Set());
    const counted: TopicHandler = (payload, from) => {
      this.#stats.received++;
      handler(payload, from);
    };
    set.add(counted);
    if (first) {
      this.#stats.topics++;
      await this.#engineSubscribe(topic);
    }
    const handlers = set;
    return () => {
      if (!handlers.delete(counted) || handlers.size > 0) return;
      if (this.#handlers.get(topic) !== handlers) return;
      this.#handlers.delete(topic);
      this.#stats.topics--;
      if (this.#closed || !this.#redis.subscriberReady()) return;
      this.#redis.unsubscribe(this.#channel(topic), this.#sharded ?? false).catch(() => {});
    };
  }

  stats(): BackplaneStats {
    return { ...this.#stats, topics: Math.max(0, this.#stats.topics - 1) };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#presence.close();
    this.#closed = true;
    this.#redisStore.close();
    this.#handlers.clear();
    this.#link.apply("close()");
    await this.#redis.close();
  }
}

/**
 * A backplane node on Redis (one primary, or a Redis Cluster with `cluster`). Returns at once; the
 * link starts `connecting` and reports `up` once its connections are ready (store calls made
 * before wait up to `connectTimeoutMs` for it).
 * @throws {TypeError} when neither or both of `url` and `cluster` are given, or a URL is not a
 * redis:// or rediss:// URL.
 * @throws {RangeError} when an option is out of range.
 *
 * @example
 * ```ts
 * import { redisBackplane } from "@sente-lite/sente-lite/redis";
 *
 * const backplane = redisBackplane({ url: "redis://127.0.0.1:6379", prefix: "chat" });
 * // A Redis Cluster: some of its masters; the client discovers the rest.
 * const clustered = redisBackplane({
 *   cluster: { rootNodes: [{ url: "redis://10.0.0.1:7000" }, { url: "redis://10.0.0.2:7000" }] },
 * });
 * console.log(typeof backplane, typeof clustered);
 * ```
 */
export function redisBackplane(options: RedisBackplaneOptions): Backplane {
  return new RedisBackplane(options);
}
