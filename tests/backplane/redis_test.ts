/**
 * The Redis backplane against a real redis-server (tests/_redis.ts): the shared contract, sharded
 * pub/sub, a SIGKILLed node's expiry, and Redis itself killed and restarted.
 */
import { strict as assert } from "node:assert";
import type { Backplane, PresenceChange } from "../../lib/backplane/backplane.ts";
import type { LinkChange } from "../../lib/backplane/link.ts";
import { redisBackplane, type RedisBackplaneOptions } from "../../lib/backplane/redis.ts";
import { IGNORE_REDIS, type RedisProcess, startRedis } from "../_redis.ts";
import { firstExisting, waitFor, withTimeout } from "../_util.ts";
import { backplaneContract } from "./_contract.ts";

// One server for the contract (each cluster uses its own key prefix); started outside any test
// so the resource sanitizer does not count it, and stopped by the last test.
const shared: RedisProcess | null = IGNORE_REDIS ? null : await startRedis();
let clusters = 0;

/** Resolves when `bp`'s link reaches `state` (at once if it is there). */
function linkReaches(bp: Backplane, state: string, what: string): Promise<LinkChange | null> {
  if (bp.link.state === state) return Promise.resolve(null);
  return withTimeout(
    new Promise<LinkChange>((resolve) => {
      const stop = bp.link.watch((c) => {
        if (c.to === state) {
          stop();
          resolve(c);
        }
      });
    }),
    15_000,
    what,
  );
}

async function cluster(
  url: string,
  n: number,
  extra: Partial<RedisBackplaneOptions> = {},
): Promise<Backplane[]> {
  const prefix = `t${++clusters}`;
  const nodes = Array.from(
    { length: n },
    () => redisBackplane({ url, prefix, heartbeatMs: 100, heartbeatTtlMs: 1000, ...extra }),
  );
  await Promise.all(nodes.map((b, i) => linkReaches(b, "up", `node ${i} up`)));
  return nodes;
}

backplaneContract("redis", async (n, store) => {
  const nodes = await cluster(shared!.url, n, store);
  return {
    nodes,
    [Symbol.asyncDispose]: async () => void await Promise.all(nodes.map((b) => b.close())),
  };
}, IGNORE_REDIS);

Deno.test({
  name: "redis: topics use sharded pub/sub on Redis 7",
  ignore: IGNORE_REDIS,
  async fn() {
    const [a, b] = await cluster(shared!.url, 2);
    try {
      await b.subscribe("c:sharded", () => {});
      const reply = await shared!.command("PUBSUB", "SHARDCHANNELS");
      const version = await shared!.command("INFO", "server");
      if (Number(/redis_version:(\d+)/.exec(version)?.[1]) >= 7) {
        assert.match(reply, /t\d+:t:c:sharded/);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  },
});

Deno.test({
  name: "redis: options are range-checked",
  ignore: IGNORE_REDIS,
  fn() {
    assert.throws(() => redisBackplane({ url: "http://x" }), TypeError);
    assert.throws(() => redisBackplane({ url: "redis://x", heartbeatMs: 0 }), RangeError);
    assert.throws(
      () => redisBackplane({ url: "redis://x", heartbeatMs: 1000, heartbeatTtlMs: 1500 }),
      RangeError,
    );
    assert.throws(() => redisBackplane({ url: "redis://x", nodeId: "a|b" }), RangeError);
    assert.throws(() => redisBackplane({ url: "redis://x", maxMessages: 0 }), RangeError);
  },
});

const BUN = firstExisting([`${Deno.cwd()}/node_modules/.bin/bun`]);

Deno.test({
  name: "redis: a SIGKILLed node's uids close everywhere within heartbeatTtlMs + heartbeatMs",
  ignore: IGNORE_REDIS,
  async fn() {
    const prefix = `t${++clusters}`;
    const b = redisBackplane({ url: shared!.url, prefix, heartbeatMs: 100, heartbeatTtlMs: 500 });
    await linkReaches(b, "up", "b up");
    const seen: PresenceChange[] = [];
    let changed = () => {};
    b.presence.watch((c) => (seen.push(c), changed()));
    // The dying node runs on Bun when it is installed (the client must work there too).
    const script = "tests/backplane/_node.ts";
    const cmd = BUN
      ? new Deno.Command(BUN, { args: [script, shared!.url, prefix, "zed"], stdout: "piped" })
      : new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, shared!.url, prefix, "zed"],
        stdout: "piped",
      });
    const child = cmd.spawn();
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!out.includes("ready")) {
        const { value, done } = await withTimeout(reader.read(), 20_000, "the node to be ready");
        if (done) throw new Error(`node exited before ready: ${out}`);
        out += value;
      }
      await waitFor(() => b.presence.has("zed") ? true : undefined, "zed online at b");
      child.kill("SIGKILL");
      await child.status;
      reader.releaseLock();
      await withTimeout(
        new Promise<void>((r) => {
          changed = () => seen.some((c) => c.uid === "zed" && !c.online) && r();
          changed();
        }),
        10_000,
        "zed to close after its node died",
      );
      assert.equal(b.presence.has("zed"), false);
      assert.equal(seen.length, 2);
      assert.deepEqual(seen[0], { uid: "zed", online: true });
      // Gone with its node: the change names the dead node.
      assert.deepEqual({ ...seen[1], node: undefined }, {
        uid: "zed",
        online: false,
        node: undefined,
      });
      assert.equal(typeof seen[1].node, "string");
      assert.notEqual(seen[1].node, b.nodeId);
      assert.deepEqual([...b.presence.nodes()], [b.nodeId]);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* already dead */ }
      await child.stdout.cancel().catch(() => {});
      await child.status;
      await b.close();
    }
  },
});

Deno.test({
  name: "redis: Redis killed and restarted: no crash, link states, reconnect, gap, state rebuilt",
  ignore: IGNORE_REDIS,
  async fn() {
    await using redis = await startRedis();
    const [a, b] = await cluster(redis.url, 2, { reconnectInitialMs: 20, reconnectMaxMs: 200 });
    try {
      const changes: LinkChange[] = [];
      a.link.watch((c) => changes.push(c));
      const got: string[] = [];
      await b.subscribe("b", (p) => got.push(p));
      a.presence.add("alice");
      await waitFor(() => b.presence.has("alice") ? true : undefined, "alice at b");

      const down = linkReaches(a, "down", "a down");
      await redis.kill();
      await down;
      assert.equal(a.publish("b", "lost"), false);
      await assert.rejects(a.store.append("alice", "0000000000000000", "x"));
      a.presence.add("carol"); // while down: registered on the way back
      assert.equal(a.presence.has("carol"), true);

      const up = linkReaches(a, "up", "a up again");
      await redis.restart();
      const back = await up;
      assert.ok(back?.gap, "the return to up announces a gap");
      assert.ok(back.gap.dropped >= 1, `dropped ${back.gap.dropped}`);
      assert.ok(changes.map((c) => c.to).includes("down"));
      await linkReaches(b, "up", "b up again");

      // Subscriptions are re-made: a publish reaches b again (retried: b may still be resubscribing).
      await waitFor(
        () => got.includes("again") ? true : (a.publish("b", "again"), undefined),
        "a publish after the restart to reach b",
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      assert.ok(!got.includes("lost"));
      // Redis restarted empty: presence is rebuilt from the nodes, including the add made while down.
      await waitFor(
        () => b.presence.has("alice") && b.presence.has("carol") ? true : undefined,
        "alice and carol at b after the restart",
      );
      assert.ok(a.stats().publishDropped >= 1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  },
});

Deno.test({
  name:
    "redis: started while Redis is down: down, store calls fail after connectTimeoutMs, then up",
  ignore: IGNORE_REDIS,
  async fn() {
    await using redis = await startRedis();
    await redis.kill();
    const a = redisBackplane({
      url: redis.url,
      prefix: `t${++clusters}`,
      reconnectInitialMs: 20,
      reconnectMaxMs: 100,
      connectTimeoutMs: 300,
    });
    try {
      await linkReaches(a, "down", "a down");
      await assert.rejects(a.store.drain("u"));
      assert.equal(a.publish("b", "x"), false);
      const up = linkReaches(a, "up", "a up");
      await redis.restart();
      const change = await up;
      assert.equal(change?.gap?.dropped, 1, "the publish dropped before the first up is announced");
      assert.deepEqual(await a.store.drain("u"), { messages: [], overflow: 0, expired: 0 });
    } finally {
      await a.close();
    }
  },
});

Deno.test({
  name: "redis: a uid added while the node re-registers (link just up) is not lost",
  ignore: IGNORE_REDIS,
  async fn() {
    const opts = { url: shared!.url, prefix: `t${++clusters}`, heartbeatMs: 100 };
    const b = redisBackplane({ ...opts, heartbeatTtlMs: 1000 });
    await linkReaches(b, "up", "b up");
    const a = redisBackplane({ ...opts, heartbeatTtlMs: 1000 });
    // Runs right after the backplane's own watcher started the resync (which rewrites a's set).
    a.link.watch((c) => c.to === "up" && a.presence.add("early"));
    try {
      await linkReaches(a, "up", "a up");
      const uids = `${opts.prefix}:{n:${a.nodeId}}:uids`;
      await waitFor(
        async () => (await shared!.command("SMEMBERS", uids)).includes("early") ? true : undefined,
        "early in a's uid set",
      );
      await waitFor(() => b.presence.has("early") ? true : undefined, "early at b");
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  },
});

Deno.test({
  name: "redis: stop the shared redis-server",
  ignore: IGNORE_REDIS,
  async fn() {
    await shared?.kill();
  },
});
