/**
 * The demo CLI joins a cluster: two `server.ts` processes, one with `--redis URL` and one with
 * `REDIS_URL`, on one redis-server; a send on one reaches a client of the other, `/ready` shows
 * both nodes, and each exits 0 on SIGTERM (leaving the cluster). The same on a Redis Cluster with
 * `--redis-cluster` and `REDIS_CLUSTER`.
 */
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import { IGNORE_REDIS, startRedis } from "../_redis.ts";
import { IGNORE_REDIS_CLUSTER, startRedisCluster } from "../_redis_cluster.ts";
import { waitFor, withTimeout } from "../_util.ts";
import { Child } from "../runtime/_child.ts";
import { EVENT_MS, START_MS } from "./_cluster.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Starts `server.ts --port 0` with `args`/`env`; resolves with it and its port. */
async function demo(args: string[], env: Record<string, string>): Promise<[Child, number]> {
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const child = new Child("server.ts CLI", "env", [
    ...envArgs,
    Deno.execPath(),
    "run",
    "-A",
    `${ROOT}server.ts`,
    "--port",
    "0",
    ...args,
  ], ROOT);
  const line = await child.line("the listening line", (l) => l.includes("(WebSocket"), START_MS);
  return [child, Number(line.match(/:(\d+)\//)![1])];
}

/** A client publish on node A reaches a subscriber on node B; then both exit cleanly on SIGTERM. */
async function publishAcrossThenStop(
  [a, portA]: [Child, number],
  [b, portB]: [Child, number],
): Promise<void> {
  const onB = connect(`ws://127.0.0.1:${portB}/chsk`, { onError: () => {} });
  const onA = connect(`ws://127.0.0.1:${portA}/chsk`, { onError: () => {} });
  await Promise.all([onA.ready, onB.ready]);
  let resolve!: (d: unknown) => void;
  const received = new Promise((r) => resolve = r);
  await onB.subscribe("cli", (d) => resolve(d));
  await onA.publish("cli", "across");
  assert.equal(await withTimeout(received, EVENT_MS, "a publish across nodes"), "across");
  onA.close();
  onB.close();
  for (const c of [a, b]) c.process.kill("SIGTERM");
  for (const c of [a, b]) assert.equal((await c.exited(EVENT_MS)).code, 0, c.describe());
}

Deno.test({
  name: "demo CLI: --redis and REDIS_URL make a two-node cluster",
  ignore: IGNORE_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await startRedis();
    const [a, portA] = await demo(["--redis", redis.url], {});
    const [b, portB] = await demo([], { REDIS_URL: redis.url });
    try {
      assert.match(a.stdout, /joins the cluster at 127\.0\.0\.1:/);
      assert.match(b.stdout, /joins the cluster at 127\.0\.0\.1:/);
      const ready = await waitFor(
        async () => {
          const body = await (await fetch(`http://127.0.0.1:${portA}/ready`)).json();
          const bp = body.components.server.detail.backplane;
          return bp?.nodes === 2 ? bp : undefined;
        },
        "node A sees two nodes",
        { timeoutMs: EVENT_MS, intervalMs: 50 },
      );
      assert.equal(ready.link, "up");
      await publishAcrossThenStop([a, portA], [b, portB]);
    } finally {
      await Promise.all([a.stop("SIGKILL"), b.stop("SIGKILL")]);
    }
  },
});

Deno.test({
  name: "demo CLI: --redis-cluster and REDIS_CLUSTER make a two-node cluster on a Redis Cluster",
  ignore: IGNORE_REDIS_CLUSTER,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await startRedisCluster();
    const [a, portA] = await demo(["--redis-cluster", redis.urls.join(",")], {});
    const [b, portB] = await demo([], { REDIS_CLUSTER: redis.urls[1] });
    try {
      assert.match(a.stdout, /joins the cluster at the Redis Cluster of 127\.0\.0\.1:/);
      await waitFor(
        async () => {
          const body = await (await fetch(`http://127.0.0.1:${portB}/ready`)).json();
          const bp = body.components.server.detail.backplane;
          return bp?.nodes === 2 && bp.link === "up" ? bp : undefined;
        },
        "node B sees two nodes",
        { timeoutMs: EVENT_MS, intervalMs: 50 },
      );
      await publishAcrossThenStop([a, portA], [b, portB]);
      // Both at once is a usage error.
      const [both] = [
        new Child("server.ts CLI", Deno.execPath(), [
          "run",
          "-A",
          `${ROOT}server.ts`,
          "--redis",
          "redis://127.0.0.1:1",
          "--redis-cluster",
          redis.urls[0],
        ], ROOT),
      ];
      assert.equal((await both.exited(START_MS)).code, 2, both.describe());
    } finally {
      await Promise.all([a.stop("SIGKILL"), b.stop("SIGKILL")]);
    }
  },
});
