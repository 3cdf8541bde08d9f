/**
 * The Redis backplane on a real Redis Cluster (three masters, tests/_redis_cluster.ts): the
 * shared contract, topics spread over the shards as sharded channels, a uid's store keys in one
 * slot, and keys of many uids spread over every master.
 */
import { strict as assert } from "node:assert";
import type { Backplane } from "../../lib/backplane/backplane.ts";
import type { LinkChange } from "../../lib/backplane/link.ts";
import { firstKey } from "../../lib/backplane/redis_conn.ts";
import { redisBackplane, type RedisBackplaneOptions } from "../../lib/backplane/redis.ts";
import {
  IGNORE_REDIS_CLUSTER,
  REDIS_CLI,
  type RedisClusterProcess,
  startRedisCluster,
} from "../_redis_cluster.ts";
import { waitFor, withTimeout } from "../_util.ts";
import { backplaneContract } from "./_contract.ts";

// One cluster for the file (each test cluster of nodes uses its own key prefix); started outside
// any test so the resource sanitizer does not count it, and stopped by the last test.
const shared: RedisClusterProcess | null = IGNORE_REDIS_CLUSTER ? null : await startRedisCluster();
let clusters = 0;

function up(bp: Backplane, what: string): Promise<void> {
  if (bp.link.state === "up") return Promise.resolve();
  return withTimeout(
    new Promise<void>((resolve) => {
      const stop = bp.link.watch((c) => {
        if (c.to === "up") {
          stop();
          resolve();
        }
      });
    }),
    15_000,
    what,
  );
}

async function nodes(n: number, extra: Partial<RedisBackplaneOptions> = {}): Promise<Backplane[]> {
  const prefix = `c${++clusters}`;
  const rootNodes = shared!.urls.map((url) => ({ url }));
  const list = Array.from(
    { length: n },
    () =>
      redisBackplane({
        cluster: { rootNodes },
        prefix,
        heartbeatMs: 100,
        heartbeatTtlMs: 1000,
        ...extra,
      }),
  );
  await Promise.all(list.map((b, i) => up(b, `cluster node ${i} up`)));
  return list;
}

backplaneContract("redis cluster", async (n, store) => {
  const list = await nodes(n, store);
  return {
    nodes: list,
    [Symbol.asyncDispose]: async () => void await Promise.all(list.map((b) => b.close())),
  };
}, IGNORE_REDIS_CLUSTER);

Deno.test("redis cluster: commands are routed by their first key", () => {
  assert.equal(firstKey(["HSET", "k", "f", "v"]), "k");
  assert.equal(firstKey(["EVALSHA", "sha", "2", "a", "b", "x"]), "a");
  assert.equal(firstKey(["EVAL", "return 1", "0"]), undefined);
  assert.equal(firstKey(["INFO", "server"]), undefined);
});

Deno.test({
  name: "redis cluster: url and cluster are exclusive; root URLs are checked",
  fn() {
    assert.throws(
      () => redisBackplane({ url: "redis://x", cluster: { rootNodes: [{ url: "redis://y" }] } }),
      TypeError,
    );
    assert.throws(() => redisBackplane({ cluster: { rootNodes: [] } }), TypeError);
    assert.throws(
      () => redisBackplane({ cluster: { rootNodes: [{ url: "http://y" }] } }),
      TypeError,
    );
    assert.throws(() => redisBackplane({}), TypeError);
  },
});

Deno.test({
  name: "redis cluster: topics are sharded channels spread over the masters; store keys too",
  ignore: IGNORE_REDIS_CLUSTER,
  async fn() {
    const [a, b] = await nodes(2);
    try {
      // 30 topics: with 16384 slots over three masters, every master holds some of them.
      const got = new Set<string>();
      const topics = Array.from({ length: 30 }, (_, i) => `c:room${i}`);
      for (const t of topics) await b.subscribe(t, (p) => void got.add(p));
      for (const t of topics) a.publish(t, t);
      const deadline = Date.now() + 10_000;
      while (got.size < topics.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(got.size, topics.length);
      const perMaster = await Promise.all(
        shared!.ports.map(async (port) => {
          const out = await new Deno.Command(REDIS_CLI!, {
            args: ["-p", String(port), "PUBSUB", "SHARDCHANNELS", `c${clusters}:t:c:*`],
            stdout: "piped",
          }).output();
          return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).length;
        }),
      );
      assert.equal(perMaster.reduce((x, y) => x + y), topics.length, `${perMaster}`);
      assert.ok(perMaster.every((n) => n > 0), `every master holds topics: ${perMaster}`);

      // Sessions of 30 uids: each uid's keys in one slot (the scripts ran), spread over masters.
      const sessions = await Promise.all(
        Array.from({ length: 30 }, (_, i) => a.store.create(`user${i}`, "c", at(a, `x${i}`))),
      );
      for (const [i, s] of sessions.entries()) {
        assert.equal(await a.store.append(`user${i}`, s.sessionId, `m${i}`), 1);
        const r = await b.store.replay(`user${i}`, s.sessionId, 0);
        assert.deepEqual(r.messages, [{ seq: 1, payload: `m${i}` }]);
      }
      const keys = await Promise.all(
        shared!.ports.map(async (port) => {
          const out = await new Deno.Command(REDIS_CLI!, {
            args: ["-p", String(port), "DBSIZE"],
            stdout: "piped",
          }).output();
          return Number(new TextDecoder().decode(out.stdout).trim());
        }),
      );
      assert.ok(keys.every((n) => n > 0), `every master holds keys: ${keys}`);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  },
});

const at = (node: Backplane, connId: string) => ({ nodeId: node.nodeId, connId });

/** Resolves with the change that brings `bp`'s link to `state`. */
function reaches(bp: Backplane, state: string, what: string): Promise<LinkChange> {
  return withTimeout(
    new Promise<LinkChange>((resolve) => {
      const stop = bp.link.watch((c) => {
        if (c.to === state) {
          stop();
          resolve(c);
        }
      });
    }),
    30_000,
    what,
  );
}

Deno.test({
  name:
    "redis cluster: a master SIGKILLed and restarted: degraded, back up with a gap, topics back",
  ignore: IGNORE_REDIS_CLUSTER,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using own = await startRedisCluster();
    const rootNodes = own.urls.map((url) => ({ url }));
    const options = {
      cluster: { rootNodes },
      prefix: "out",
      heartbeatMs: 100,
      heartbeatTtlMs: 5000,
      reconnectInitialMs: 50,
      reconnectMaxMs: 300,
    };
    const [a, b] = [redisBackplane(options), redisBackplane(options)];
    try {
      await Promise.all([up(a, "a up"), up(b, "b up")]);
      const got = new Set<string>();
      const topics = Array.from({ length: 30 }, (_, i) => `c:t${i}`);
      for (const t of topics) await b.subscribe(t, (p) => void got.add(p));
      const degraded = reaches(a, "degraded", "a degraded");
      await own.kill(0);
      await degraded;
      assert.equal(a.publish("c:t0", "while-down"), false, "dropped while a master is down");
      const back = reaches(a, "up", "a up again");
      await own.restart(0);
      const change = await back;
      assert.ok(change.gap, "the return carries a gap");
      assert.ok(change.gap!.dropped >= 1);
      // Every topic, on every master (the restarted one's subscriptions re-made), reaches b.
      await waitFor(
        () => {
          for (const t of topics) a.publish(t, `after:${t}`);
          return topics.every((t) => got.has(`after:${t}`)) ? true : undefined;
        },
        "every topic after the restart",
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      // The store works on every master again.
      for (let i = 0; i < 12; i++) {
        const s = await a.store.create(`u${i}`, "c", at(a, `x${i}`));
        assert.equal(await a.store.append(`u${i}`, s.sessionId, "m"), 1);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  },
});

Deno.test({
  name: "redis cluster: stop the shared cluster",
  ignore: IGNORE_REDIS_CLUSTER,
  async fn() {
    await shared?.[Symbol.asyncDispose]();
  },
});
