/**
 * The Redis backplane's building blocks on a private redis-server (docs/scaling.md): topic
 * throughput between two nodes (pipelined publishes of 64 B, the raw client's PUBLISH as the
 * baseline in the same run), publish → delivery latency one at a time, store appends and replays,
 * and Redis memory per parked session.
 *
 *   deno run -A bench/backplane_redis.ts [messages=50000]
 *
 * Prints one JSON object.
 */
import { createClient } from "@redis/client";
import { redisBackplane } from "../redis.ts";
import type { Backplane } from "../lib/backplane/backplane.ts";
import { startRedis } from "../tests/_redis.ts";

const N = Number(Deno.args[0] ?? 50_000);
const payload = "x".repeat(64);

function up(bp: Backplane): Promise<void> {
  if (bp.link.state === "up") return Promise.resolve();
  return new Promise((r) => bp.link.watch((c) => c.to === "up" && r()));
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor(s.length * p))].toFixed(3);
}

await using redis = await startRedis();
const out: Record<string, unknown> = { runtime: `deno ${Deno.version.deno}`, messages: N };

// Baseline: the raw client, PUBLISH to one subscriber.
{
  const pub = createClient({ url: redis.url });
  const sub = createClient({ url: redis.url });
  await pub.connect();
  await sub.connect();
  let got = 0;
  let done = () => {};
  const all = new Promise<void>((r) => done = r);
  await sub.sSubscribe("raw", () => ++got === N && done());
  const t0 = performance.now();
  const sent: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) sent.push(pub.sPublish("raw", payload));
  await all;
  await Promise.all(sent);
  out.raw_spublish_per_s = Math.round(N / (performance.now() - t0) * 1000);
  pub.destroy();
  sub.destroy();
}

const a = redisBackplane({ url: redis.url });
const b = redisBackplane({ url: redis.url });
await Promise.all([up(a), up(b)]);
{
  let got = 0;
  let done = () => {};
  const all = new Promise<void>((r) => done = r);
  const stop = await b.subscribe("b", () => ++got === N && done());
  const t0 = performance.now();
  for (let i = 0; i < N; i++) a.publish("b", payload);
  await all;
  out.backplane_deliveries_per_s = Math.round(N / (performance.now() - t0) * 1000);
  stop();
}
{
  let resolve = () => {};
  await b.subscribe("c:rt", () => resolve());
  const lat: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t0 = performance.now();
    const p = new Promise<void>((r) => resolve = r);
    a.publish("c:rt", payload);
    await p;
    lat.push(performance.now() - t0);
  }
  out.publish_to_delivery_ms = { p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}
{
  const s = await a.store.create("bench", "tab", { nodeId: a.nodeId, connId: "c" });
  const M = Math.min(N, 20_000);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: M }, () => a.store.append("bench", s.sessionId, payload)));
  out.store_appends_per_s = Math.round(M / (performance.now() - t0) * 1000);
  const t1 = performance.now();
  const r = await b.store.replay("bench", s.sessionId, 0);
  out.replay_ms = { messages: r.messages.length, ms: +(performance.now() - t1).toFixed(1) };
}
{
  const used = async () =>
    Number(/used_memory:(\d+)/.exec(await redis.command("INFO", "memory"))?.[1]);
  const before = await used();
  const S = 2000;
  const sessions = await Promise.all(
    Array.from(
      { length: S },
      (_, i) => a.store.create(`u${i}`, "tab", { nodeId: a.nodeId, connId: `c${i}` }),
    ),
  );
  await Promise.all(
    sessions.map((s, i) =>
      a.store.detach(`u${i}`, s.sessionId, { nodeId: a.nodeId, connId: `c${i}` })
    ),
  );
  out.bytes_per_parked_session = Math.round((await used() - before) / S);
}
await Promise.all([a.close(), b.close()]);
console.log(JSON.stringify(out));
