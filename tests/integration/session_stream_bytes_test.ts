/**
 * `maxSessionBytes` of the durable store under attack on real sockets (docs/security.md): a parked
 * durable session keeps its subscribed channels, and every publish to them is numbered into its
 * stream in the store, kept `ttlMs` within `maxMessages` (10,000) only. A client parks a session on
 * a channel, then publishes large messages to it from another connection: the store kept every
 * one (measured: 20 of 20 publishes of 64 KiB; the bound was 10,000 × 1 MiB per parked session,
 * times `maxParkedPerIp` sessions per address). Now a session's stream keeps at most
 * `maxSessionBytes` of payload, its oldest trimmed first; the resume tells them as an `overflow`
 * gap with their count and delivers the newest.
 *
 * Runs on a real redis-server (fails under CI=true when it is missing) and on the in-process
 * `localBackplane` store.
 */
import assert from "node:assert/strict";
import type { Backplane } from "../../lib/backplane/backplane.ts";
import { localBackplane, LocalBus } from "../../lib/backplane/local.ts";
import { redisBackplane } from "../../lib/backplane/redis.ts";
import { createServer } from "../../lib/server/server.ts";
import { type RawPeer, resumingPeer } from "../_peer.ts";
import { IGNORE_REDIS, type RedisProcess, startRedis } from "../_redis.ts";
import { linkUp, until } from "../_server.ts";

const PUBLISHES = 20;
const SIZE = 64 * 1024;
const MAX_BYTES = 256 * 1024;
const PREFIX = "sb";

async function attack(backplane: Backplane, redis: RedisProcess | null): Promise<void> {
  const server = createServer({ onError: () => {}, backplane, rateLimit: false });
  const handle = await server.serve({ port: 0 });
  await linkUp(backplane);
  const peers: RawPeer[] = [];

  async function open(clientId: string, token?: string) {
    const opened = await resumingPeer(handle.url, { "client-id": clientId }, token);
    peers.push(opened.peer);
    return opened;
  }

  try {
    const parked = await open("parked");
    parked.peer.send(`[["sente-lite/subscribe",{"channel-id":"room"}],"s"]`);
    assert.match(await parked.peer.next(), /"success":true/);
    await parked.peer.close();
    await until(() => server.stats().connections === 0, "the server-side close");

    const publisher = await open("publisher");
    const pad = "x".repeat(SIZE);
    for (let i = 1; i <= PUBLISHES; i++) {
      publisher.peer.send(
        JSON.stringify([["sente-lite/publish", { "channel-id": "room", data: { i, pad } }], "p"]),
      );
      assert.match(await publisher.peer.next(), /"success":true/);
    }
    const fit = Math.floor(MAX_BYTES / SIZE);
    if (redis) {
      const keys = await redis.command("KEYS", `${PREFIX}:{u:*}:q:*`);
      const key = /\r\n([^\r\n*$]+:q:[^\r\n]+)\r\n/.exec(keys)![1];
      const kept = Number(/:(\d+)/.exec(await redis.command("XLEN", key))![1]);
      assert.ok(kept >= fit - 1 && kept <= fit, `kept ${kept} of ${PUBLISHES} in ${key}`);
    }

    const back = await open("parked", parked.resume.token!);
    assert.equal(back.resume.resumed, false, "resumed with a gap");
    const gap = back.resume.gap;
    assert.equal(gap?.reason, "overflow", `gap ${JSON.stringify(gap)}`);
    const kept = PUBLISHES - gap!.dropped!;
    assert.ok(kept >= fit - 1 && kept <= fit, `replayed ${kept} of ${PUBLISHES}`);
    const got: number[] = [];
    while (got.length < kept) {
      const [payload] = JSON.parse(await back.peer.next()) as [[string, unknown][]];
      for (const [id, data] of payload) {
        if (id !== "sente-lite/msg") continue;
        const [, body] = (data as { event: [string, { data: { i: number } }] }).event;
        got.push(body.data.i);
      }
    }
    const newest = Array.from({ length: kept }, (_, k) => PUBLISHES - kept + 1 + k);
    assert.deepEqual(got, newest, "the newest kept, in order");
  } finally {
    for (const p of peers) p.ws.close();
    await handle.close();
    await backplane.close();
  }
}

Deno.test({
  name:
    "maxSessionBytes (Redis): large publishes to a parked session's channel keep a bounded stream",
  ignore: IGNORE_REDIS,
  async fn() {
    await using redis = await startRedis();
    await attack(
      redisBackplane({ url: redis.url, prefix: PREFIX, maxSessionBytes: MAX_BYTES }),
      redis,
    );
  },
});

Deno.test("maxSessionBytes (local store): large publishes to a parked session's channel keep a bounded stream", async () => {
  await attack(localBackplane({ bus: new LocalBus({ maxSessionBytes: MAX_BYTES }) }), null);
});
