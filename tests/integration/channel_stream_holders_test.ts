/**
 * Channel stream holders of the Redis store under attack on real sockets (docs/security.md): on a
 * node of a cluster every channel publish was numbered in the channel's stream in Redis,
 * subscribed or not, so a client allowed to publish anywhere made two keys per fresh channel name,
 * kept `ttlMs` / `2 × ttlMs` (measured: 2000 publishes to fresh names, 4003 keys, 9.2 MB of
 * Redis; `rateLimit.messages` lets one connection make 2000 a second). Now a publish is numbered
 * only into a stream a session with channel sequences holds (subscribed on any node, or parked
 * keeping the channel); holders leave with their subscription, so subscribe/unsubscribe churn on
 * fresh names leaves no keys either, while a channel-seq reader on another node still gets every
 * publish numbered, and its parked session replays what it missed.
 */
import assert from "node:assert/strict";
import { redisBackplane } from "../../lib/backplane/redis.ts";
import { createServer, type Server } from "../../lib/server/server.ts";
import { RawPeer, resumingPeer } from "../_peer.ts";
import { IGNORE_REDIS, type RedisProcess, startRedis } from "../_redis.ts";
import { linkUp, until } from "../_server.ts";

const PREFIX = "hs";
const FRESH = 200;

/** The keys under `pattern` (a small reply: one read). */
async function keys(redis: RedisProcess, pattern: string): Promise<number> {
  return Number(/^\*(\d+)/.exec(await redis.command("KEYS", pattern))![1]);
}

/** Polls Redis until `pred` holds for the count of `pattern`'s keys. */
async function untilKeys(
  redis: RedisProcess,
  pattern: string,
  pred: (n: number) => boolean,
  what: string,
): Promise<number> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const n = await keys(redis, pattern);
    if (pred(n)) return n;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${n} keys`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function publisher(url: string): Promise<RawPeer> {
  const u = new URL(url);
  u.searchParams.set("client-id", crypto.randomUUID());
  u.searchParams.set("packer", "json");
  u.searchParams.set("wire", "batching");
  const peer = new RawPeer(u.href);
  await peer.opened;
  await peer.next(); // the handshake
  return peer;
}

function publish(peer: RawPeer, channel: string, data: unknown, cb: string): void {
  peer.send(JSON.stringify([["sente-lite/publish", { "channel-id": channel, data }], cb]));
}

async function node(
  redisUrl: string,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const backplane = redisBackplane({ url: redisUrl, prefix: PREFIX });
  const server = createServer({ onError: () => {}, backplane, rateLimit: false });
  const handle = await server.serve({ port: 0 });
  await linkUp(backplane);
  return {
    server,
    url: handle.url,
    close: async () => {
      await handle.close();
      await backplane.close();
    },
  };
}

Deno.test({
  name: "channel stream holders: publishes to fresh channel names make no Redis keys",
  ignore: IGNORE_REDIS,
  async fn() {
    await using redis = await startRedis();
    const a = await node(redis.url);
    const peer = await publisher(a.url);
    try {
      for (let i = 0; i < FRESH; i++) publish(peer, `fresh-${i}`, i, `p${i}`);
      for (let i = 0; i < FRESH; i++) assert.match(await peer.next(), /"success":true/);
      assert.equal(await keys(redis, `${PREFIX}:{c:*`), 0, "keys made by publishes nobody holds");
    } finally {
      peer.ws.close();
      await a.close();
    }
  },
});

Deno.test({
  name: "channel stream holders: a reader on another node gets every publish numbered, parked too",
  ignore: IGNORE_REDIS,
  async fn() {
    await using redis = await startRedis();
    const a = await node(redis.url);
    const b = await node(redis.url);
    const peer = await publisher(a.url);
    const peers: RawPeer[] = [peer];
    try {
      const reader = await resumingPeer(b.url, { "client-id": "reader", cseq: "" });
      peers.push(reader.peer);
      reader.peer.send(JSON.stringify([["sente-lite/subscribe", { "channel-id": "room" }], "s"]));
      const [{ cseq: start }] = await reader.peer.nextJson() as [{ cseq: number }];
      publish(peer, "room", "live", "p1");
      assert.match(await peer.next(), /"success":true/);
      const [[[id, live]]] = await reader.peer.nextJson() as [[string, { cseq: number }]][];
      assert.equal(id, "sente-lite/msg");
      assert.ok(live.cseq > start, `numbered: ${live.cseq} after ${start}`);

      // Parked keeping the channel: it still holds the stream, so it replays what it missed.
      await reader.peer.close();
      await until(() => b.server.stats().connections === 0, "the reader's close");
      publish(peer, "room", "while away", "p2");
      assert.match(await peer.next(), /"success":true/);
      const back = await resumingPeer(
        b.url,
        { "client-id": "reader", cseq: "" },
        reader.resume.token!,
      );
      peers.push(back.peer);
      assert.equal(back.resume.resumed, true);
      back.peer.send(
        JSON.stringify([["sente-lite/subscribe", { "channel-id": "room", after: live.cseq }], "r"]),
      );
      const frames: string[] = [];
      while (!frames.some((f) => f.endsWith(`"r"]`))) frames.push(await back.peer.next());
      assert.ok(frames.some((f) => f.includes(`"while away"`)), `replayed: ${frames.join(" ")}`);

      // Subscribe and unsubscribe fresh names (one batch each: both reach the store at once):
      // no holder outlives its subscription, so they leave no keys.
      const churn = (i: number) => [
        [["sente-lite/subscribe", { "channel-id": `churn-${i}` }], `s${i}`],
        [["sente-lite/unsubscribe", { "channel-id": `churn-${i}` }], `u${i}`],
      ];
      const u = new URL(b.url);
      u.searchParams.set("wire", "batching");
      const churner = await resumingPeer(u.href, { "client-id": "churner", cseq: "" });
      peers.push(churner.peer);
      for (let i = 0; i < 50; i++) {
        churner.peer.send(JSON.stringify([["sente-lite/batch", churn(i)], null]));
      }
      let replies = 0;
      while (replies < 100) {
        replies += (await churner.peer.next()).split(`"success":true`).length - 1;
      }
      await untilKeys(redis, `${PREFIX}:{c:churn-*`, (n) => n === 0, "the churned holders to go");
      for (let i = 0; i < 50; i++) publish(peer, `churn-${i}`, i, `c${i}`);
      for (let i = 0; i < 50; i++) assert.match(await peer.next(), /"success":true/);
      assert.equal(await keys(redis, `${PREFIX}:{c:churn-*`), 0, "keys after the churn");
      // The reader holds "room" alone; leaving it lets go of the stream.
      back.peer.send(JSON.stringify([["sente-lite/unsubscribe", { "channel-id": "room" }], "x"]));
      await untilKeys(redis, `${PREFIX}:{c:room}:h`, (n) => n === 0, "the reader's holder to go");
    } finally {
      for (const p of peers) p.ws.close();
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "channel indexes: subscribe/unsubscribe churn of a resuming client leaves no Redis keys",
  ignore: IGNORE_REDIS,
  async fn() {
    // A resuming client without channel sequences (older clients) is indexed under each channel
    // it keeps (`{c:<channel>}:k`); leaving a channel only dropped it from the session's own set,
    // so the index of every fresh name lived on for `ttlMs` (measured: 50 churned names, 50 keys;
    // 2000 a second from one connection at the message rate).
    await using redis = await startRedis();
    const a = await node(redis.url);
    const u = new URL(a.url);
    u.searchParams.set("wire", "batching");
    const churner = await resumingPeer(u.href, { "client-id": "older" });
    try {
      for (let i = 0; i < 50; i++) {
        churner.peer.send(JSON.stringify([["sente-lite/batch", [
          [["sente-lite/subscribe", { "channel-id": `idx-${i}` }], `s${i}`],
          [["sente-lite/unsubscribe", { "channel-id": `idx-${i}` }], `u${i}`],
        ]], null]));
      }
      let replies = 0;
      while (replies < 100) {
        replies += (await churner.peer.next()).split(`"success":true`).length - 1;
      }
      await untilKeys(redis, `${PREFIX}:{c:idx-*`, (n) => n === 0, "the churned indexes to go");
    } finally {
      churner.peer.ws.close();
      await a.close();
    }
  },
});
