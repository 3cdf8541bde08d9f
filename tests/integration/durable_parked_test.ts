/**
 * `delivery.maxParkedPerIp` for durable sessions (a node of a cluster), under attack on real
 * sockets (docs/delivery.md "Parked sessions per IP"): a peer opens resume connections with fresh
 * client ids one after another; each leaves a session in the shared store, kept `ttlMs` with the
 * messages sent to it. Without the cap nothing bounded them (measured: ~500 B of Redis per empty
 * session, ~490 sessions/s from one sequential client, so ~70 MB per 5 min TTL and far more with
 * a busy channel kept). With it, the node evicts the churning IP's own oldest parked sessions
 * from the store, each loss reported as `evicted`, while another IP's parked session resumes with
 * everything.
 *
 * Runs on a real redis-server (fails under CI=true when it is missing) and on the in-process
 * `localBackplane` store. Addresses come from a test query parameter through
 * `server.handler(request, info)`, as behind a proxy.
 */
import assert from "node:assert/strict";
import type { Backplane } from "../../lib/backplane/backplane.ts";
import { localBackplane } from "../../lib/backplane/local.ts";
import { redisBackplane } from "../../lib/backplane/redis.ts";
import type { DeliveryLoss } from "../../lib/server/delivery.ts";
import { createServer } from "../../lib/server/server.ts";
import { type RawPeer, resumingPeer } from "../_peer.ts";
import { IGNORE_REDIS, type RedisProcess, startRedis } from "../_redis.ts";
import { linkUp, serveAsTestIp, until } from "../_server.ts";

const CAP = 4;
const CHURN = 20;
const HONEST_IP = "192.0.2.10";
const ATTACKER_IP = "198.51.100.66";
const PREFIX = "parked";

async function attack(backplane: Backplane, redis: RedisProcess | null): Promise<void> {
  const losses: DeliveryLoss[] = [];
  const server = createServer({
    onError: () => {},
    backplane,
    authenticate: (request) => new URL(request.url).searchParams.get("uid"),
    delivery: { maxParkedPerIp: CAP },
    onDeliveryLoss: (l) => losses.push(l),
  });
  const { http, base } = serveAsTestIp(server);
  await linkUp(backplane);
  const peers: RawPeer[] = [];

  async function open(ip: string, uid: string, clientId: string, token?: string) {
    const opened = await resumingPeer(base, { "client-id": clientId, uid, "test-ip": ip }, token);
    peers.push(opened.peer);
    return opened;
  }

  async function park(ip: string, uid: string, clientId: string) {
    const o = await open(ip, uid, clientId);
    await o.peer.close();
    await until(() => server.stats().connections === 0, "the server-side close");
    return o;
  }

  /** Sessions of `uid` in Redis (their meta hashes). */
  async function sessionsInRedis(uid: string): Promise<number> {
    const reply = await redis!.command("KEYS", `${PREFIX}:{u:${uid}}:s:*`);
    return Number(/^\*(\d+)/.exec(reply)![1]);
  }

  try {
    const honest = await park(HONEST_IP, "alice", "alice-tab");
    for (let n = 1; n <= 5; n++) server.send("alice", "t/n", { n });
    for (let i = 0; i < CHURN; i++) {
      await park(ATTACKER_IP, "mallory", `churn-${i}-${crypto.randomUUID()}`);
      server.send("mallory", "t/m", { i }); // each kept session holds it: its eviction is a loss
    }
    await until(
      () => losses.length >= CHURN - CAP,
      `${CHURN - CAP} evictions reported (got ${losses.length})`,
      10_000,
    );
    assert.ok(losses.every((l) => l.reason === "evicted" && l.uid === "mallory" && l.dropped > 0));
    if (redis) {
      assert.equal(await sessionsInRedis("mallory"), CAP, "the attacker's parked sessions");
    }

    const back = await open(HONEST_IP, "alice", "alice-tab", honest.resume.token!);
    assert.equal(back.resume.resumed, true, `gap: ${JSON.stringify(back.resume.gap)}`);
    const ns: number[] = [];
    while (ns.length < 5) {
      const [payload] = JSON.parse(await back.peer.next()) as [[string, unknown][]];
      for (const [id, data] of payload) {
        assert.equal(id, "sente-lite/msg");
        const [inner, body] = (data as { event: [string, { n: number }] }).event;
        assert.equal(inner, "t/n");
        ns.push(body.n);
      }
    }
    assert.deepEqual(ns, [1, 2, 3, 4, 5], "every message kept while away");
    await back.peer.close();
  } finally {
    for (const p of peers) p.ws.close();
    server.closeAll();
    await http.shutdown();
    await backplane.close();
  }
}

Deno.test({
  name: "durable maxParkedPerIp (Redis): one IP churning fresh sessions evicts only its own",
  ignore: IGNORE_REDIS,
  async fn() {
    await using redis = await startRedis();
    await attack(redisBackplane({ url: redis.url, prefix: PREFIX }), redis);
  },
});

Deno.test("durable maxParkedPerIp (local store): one IP churning fresh sessions evicts only its own", async () => {
  await attack(localBackplane(), null);
});
