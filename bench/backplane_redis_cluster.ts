/**
 * The Redis backplane on a Redis Cluster (three masters on this machine, tests/_redis_cluster.ts)
 * against one redis-server, in the same run (docs/scaling.md): pipelined publishes of 64 B
 * between two nodes on one topic and spread over 30 topics (so over the three shards), and the
 * raw node-redis SPUBLISH of each deployment as the baseline.
 *
 *   deno run -A bench/backplane_redis_cluster.ts [messages=50000]
 *
 * Prints one JSON object (msg/s, and the cluster's ratio to the single server).
 */
import { createClient, createCluster } from "@redis/client";
import { redisBackplane, type RedisBackplaneOptions } from "../redis.ts";
import type { Backplane } from "../lib/backplane/backplane.ts";
import { startRedis } from "../tests/_redis.ts";
import { startRedisCluster } from "../tests/_redis_cluster.ts";

const N = Number(Deno.args[0] ?? 50_000);
const payload = "x".repeat(64);

function up(bp: Backplane): Promise<void> {
  if (bp.link.state === "up") return Promise.resolve();
  return new Promise((r) => bp.link.watch((c) => c.to === "up" && r()));
}

/** Raw SPUBLISH to one sharded channel, one subscriber: msg/s. */
async function raw(
  pub: { sPublish(c: string, m: string): Promise<unknown> },
  sub: { sSubscribe(c: string, l: () => void): Promise<void> },
): Promise<number> {
  let got = 0;
  let done = () => {};
  const all = new Promise<void>((r) => done = r);
  await sub.sSubscribe("raw", () => ++got === N && done());
  const t0 = performance.now();
  const sent: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) sent.push(pub.sPublish("raw", payload));
  await all;
  await Promise.all(sent);
  return Math.round(N / (performance.now() - t0) * 1000);
}

/** Backplane publishes from a to b over `topics` topics: msg/s. */
async function through(options: RedisBackplaneOptions, topics: number): Promise<number> {
  const a = redisBackplane(options);
  const b = redisBackplane(options);
  await Promise.all([up(a), up(b)]);
  let got = 0;
  let done = () => {};
  const all = new Promise<void>((r) => done = r);
  const names = Array.from({ length: topics }, (_, i) => `c:bench${i}`);
  for (const t of names) await b.subscribe(t, () => ++got === N && done());
  const t0 = performance.now();
  for (let i = 0; i < N; i++) a.publish(names[i % topics], payload);
  await all;
  const rate = Math.round(N / (performance.now() - t0) * 1000);
  await Promise.all([a.close(), b.close()]);
  return rate;
}

await using single = await startRedis();
await using cluster = await startRedisCluster();
const out: Record<string, unknown> = { runtime: `deno ${Deno.version.deno}`, messages: N };

{
  const pub = createClient({ url: single.url });
  const sub = createClient({ url: single.url });
  await Promise.all([pub.connect(), sub.connect()]);
  out.single_raw_spublish_per_s = await raw(pub, sub);
  pub.destroy();
  sub.destroy();
}
{
  const rootNodes = cluster.urls.map((url) => ({ url }));
  const pub = createCluster({ rootNodes });
  const sub = createCluster({ rootNodes });
  await Promise.all([pub.connect(), sub.connect()]);
  out.cluster_raw_spublish_per_s = await raw(pub, sub);
  pub.destroy();
  sub.destroy();
}
const clusterOptions = { cluster: { rootNodes: cluster.urls.map((url) => ({ url })) } };
out.single_backplane_1_topic_per_s = await through({ url: single.url, prefix: "b1" }, 1);
out.cluster_backplane_1_topic_per_s = await through({ ...clusterOptions, prefix: "b2" }, 1);
out.single_backplane_30_topics_per_s = await through({ url: single.url, prefix: "b3" }, 30);
out.cluster_backplane_30_topics_per_s = await through({ ...clusterOptions, prefix: "b4" }, 30);
const r = (a: string, b: string) => +((out[a] as number) / (out[b] as number)).toFixed(2);
out.ratio_cluster_to_single_raw = r("cluster_raw_spublish_per_s", "single_raw_spublish_per_s");
out.ratio_cluster_to_single_1_topic = r(
  "cluster_backplane_1_topic_per_s",
  "single_backplane_1_topic_per_s",
);
out.ratio_cluster_to_single_30_topics = r(
  "cluster_backplane_30_topics_per_s",
  "single_backplane_30_topics_per_s",
);
console.log(JSON.stringify(out, null, 2));
