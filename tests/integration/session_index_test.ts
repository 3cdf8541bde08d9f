/**
 * The uid's session index in Redis under anonymous churn, on real sockets (docs/security.md):
 * every resume session is listed in its uid's hash `{u:<uid>}:s`, which each new session
 * refreshes for `ttlMs`. A session that expired (parked past `ttlMs`, or its node died) left its
 * entry behind, pruned only when something was sent to that uid. Every anonymous client shares
 * the uid `sente/nil-uid`, to which nothing is sent: while anonymous clients kept coming, the hash
 * only grew (measured: 20 sessions parked and expired, 22 entries for 2 live sessions; one key,
 * one slot, without bound). Now each session that parks prunes the entries of expired ones a few at
 * a time (a cursor over the hash), so the index stays near the live sessions.
 */
import assert from "node:assert/strict";
import { redisBackplane } from "../../lib/backplane/redis.ts";
import { createServer } from "../../lib/server/server.ts";
import { type RawPeer, resumingPeer } from "../_peer.ts";
import { IGNORE_REDIS, type RedisProcess, startRedis } from "../_redis.ts";
import { linkUp, until } from "../_server.ts";

const PREFIX = "si";
const TTL_MS = 300;
const CHURN = 20;
const HEAD = `${PREFIX}:{u:${encodeURIComponent("sente/nil-uid")}}`;

async function count(redis: RedisProcess, ...command: string[]): Promise<number> {
  const reply = await redis.command(...command);
  return Number(/^[*:](\d+)/.exec(reply)![1]);
}

Deno.test({
  name: "session index: expired anonymous sessions do not pile up in the uid's hash",
  ignore: IGNORE_REDIS,
  async fn() {
    await using redis = await startRedis();
    const backplane = redisBackplane({ url: redis.url, prefix: PREFIX, ttlMs: TTL_MS });
    const server = createServer({ onError: () => {}, backplane, rateLimit: false });
    const handle = await server.serve({ port: 0 });
    const peers: RawPeer[] = [];
    try {
      await linkUp(backplane);
      // One client stays connected: its node refreshes the index while it is attached.
      const stays = await resumingPeer(handle.url, { "client-id": "stays" });
      peers.push(stays.peer);
      for (let i = 0; i < CHURN; i++) {
        const { peer } = await resumingPeer(handle.url, { "client-id": `churn-${i}` });
        await peer.close();
      }
      await until(() => server.stats().connections === 1, "the server-side closes");
      // Parked, then expired: only the one that stays is left.
      const deadline = Date.now() + 5000;
      while (await count(redis, "KEYS", `${HEAD}:s:*`) > 1) {
        if (Date.now() > deadline) throw new Error("the parked sessions did not expire");
        await new Promise((r) => setTimeout(r, 20));
      }
      // The next client comes and leaves: its park prunes the index.
      const { peer } = await resumingPeer(handle.url, { "client-id": "next" });
      await peer.close();
      await until(() => server.stats().connections === 1, "the next one's close");
      const deadline2 = Date.now() + 3000;
      let entries = await count(redis, "HLEN", `${HEAD}:s`);
      while (entries > 2 && Date.now() < deadline2) {
        await new Promise((r) => setTimeout(r, 20));
        entries = await count(redis, "HLEN", `${HEAD}:s`);
      }
      assert.ok(entries <= 2, `${entries} index entries for 2 live sessions`);
    } finally {
      for (const p of peers) p.ws.close();
      await handle.close();
      await backplane.close();
    }
  },
});
