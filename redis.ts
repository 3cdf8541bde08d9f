/**
 * The Redis backplane: several sente-lite server processes sharing one Redis form one cluster
 * (docs/scaling.md). A separate entrypoint, so only applications that use it pull a Redis client
 * (node-redis, `@redis/client`) into their graph. One Redis server (`url`) or a Redis Cluster
 * (`cluster: { rootNodes: [{ url }] }`, with sharded pub/sub and single-slot scripts).
 *
 * This release ships the building blocks — topics over sharded pub/sub, cluster presence with
 * heartbeats, the durable delivery store on streams, the link state — behind the `Backplane`
 * interface; the server joins a backplane in the next step (`createServer({ backplane })`).
 *
 * @example
 * ```ts ignore
 * import { redisBackplane } from "@sente-lite/sente-lite/redis";
 *
 * const a = redisBackplane({ url: "redis://127.0.0.1:6379" });
 * const b = redisBackplane({ url: "redis://127.0.0.1:6379" });
 * a.link.watch((c) => console.log(`link ${c.from} -> ${c.to}`, c.gap ?? ""));
 *
 * await b.subscribe("b", (payload, from) => console.log(`from ${from}: ${payload}`));
 * a.publish("b", JSON.stringify({ id: "demo/hello", data: 1 })); // reaches b, not a
 *
 * a.presence.add("alice");
 * b.presence.watch(({ uid, online }) => console.log(uid, online ? "online" : "offline"));
 *
 * const s = await a.store.create("alice", "tab-1", { nodeId: a.nodeId, connId: "c1" });
 * await a.store.append("alice", s.sessionId, JSON.stringify(["demo/n", 1]));
 * const opened = await b.store.open("alice", "tab-1", s.token, { nodeId: b.nodeId, connId: "c2" });
 * if (opened.status === "opened") {
 *   console.log(await b.store.replay("alice", s.sessionId, 0)); // {messages: [{seq: 1, …}], dropped: 0}
 * }
 * await Promise.all([a.close(), b.close()]);
 * ```
 *
 * @module
 */
export {
  REDIS_BACKPLANE_DEFAULTS,
  redisBackplane,
  type RedisBackplaneOptions,
  type RedisClusterNodes,
} from "./lib/backplane/redis.ts";
export {
  type AppendChannelOptions,
  type Attachment,
  type Backplane,
  type BackplaneStats,
  type ChannelReplay,
  type DeliveryStore,
  type HoldOptions,
  type HoldResult,
  type KeepOptions,
  type OfflineDrain,
  type OpenOptions,
  type OpenResult,
  type Payload,
  type Presence,
  type PresenceChange,
  type Replay,
  type SessionRecord,
  type StoredMessage,
  type StreamHolder,
  type TopicHandler,
  TOPICS,
} from "./lib/backplane/backplane.ts";
export {
  LINK_EVENTS,
  LINK_STATES,
  LINK_TRANSITIONS,
  type LinkChange,
  type LinkEvent,
  type LinkGap,
  type LinkState,
  type LinkStatus,
  linkTransition,
} from "./lib/backplane/link.ts";
export { localBackplane, type LocalBackplaneOptions, LocalBus } from "./lib/backplane/local.ts";
export { STORE_DEFAULTS, type StoreOptions } from "./lib/backplane/store_options.ts";
