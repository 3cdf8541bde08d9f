/**
 * `maxChannelBytes` of the Redis store under attack on real sockets (docs/security.md): on a node
 * of a cluster every channel publish is numbered in the channel's stream in Redis (channel
 * sequences), kept `ttlMs` within `maxMessages` (10,000) only. A client allowed to publish sent
 * large messages to one channel: Redis kept every one (measured: 200 publishes of 1 MB, 211 MB of
 * Redis; the bound was 10,000 × 1 MiB per channel). Now a stream keeps at most `maxChannelBytes`
 * of payload, its oldest trimmed first; a replay tells them as an `overflow` gap. (A stream is
 * kept only while a channel-seq session holds it: a reader subscribes first;
 * tests/integration/channel_stream_holders_test.ts.)
 */
import assert from "node:assert/strict";
import { redisBackplane } from "../../lib/backplane/redis.ts";
import { createServer } from "../../lib/server/server.ts";
import { RawPeer, resumingPeer } from "../_peer.ts";
import { IGNORE_REDIS, startRedis } from "../_redis.ts";
import { linkUp } from "../_server.ts";

const PUBLISHES = 20;
const SIZE = 64 * 1024;
const MAX_BYTES = 256 * 1024;

Deno.test({
  name: "maxChannelBytes: large publishes to one channel keep a bounded stream in Redis",
  ignore: IGNORE_REDIS,
  async fn() {
    await using redis = await startRedis();
    const backplane = redisBackplane({ url: redis.url, prefix: "cb", maxChannelBytes: MAX_BYTES });
    const server = createServer({ onError: () => {}, backplane, rateLimit: false });
    const handle = await server.serve({ port: 0 });
    const u = new URL(handle.url);
    u.searchParams.set("client-id", "publisher");
    u.searchParams.set("packer", "json");
    const peer = new RawPeer(u.href);
    await linkUp(backplane);
    const reader = await resumingPeer(handle.url, { "client-id": "reader", cseq: "" });
    try {
      reader.peer.send(JSON.stringify([["sente-lite/subscribe", { "channel-id": "room" }], "s"]));
      assert.match(await reader.peer.next(), /"cseq":\d+/);
      await peer.opened;
      await peer.next(); // the handshake
      const pad = "x".repeat(SIZE);
      for (let i = 0; i < PUBLISHES; i++) {
        peer.send(
          JSON.stringify([["sente-lite/publish", { "channel-id": "room", data: pad }], "p"]),
        );
        assert.match(await peer.next(), /"success":true/);
      }
      const kept = Number(/:(\d+)/.exec(await redis.command("XLEN", "cb:{c:room}:l"))![1]);
      const bytes = Math.floor(MAX_BYTES / SIZE);
      assert.ok(kept >= bytes - 1 && kept <= bytes, `kept ${kept} of ${PUBLISHES} in the stream`);
      const meta = await redis.command("HGET", "cb:{c:room}:m", "n");
      assert.match(meta, new RegExp(`\\r\\n${PUBLISHES}\\r\\n`), "every publish numbered");
    } finally {
      reader.peer.ws.close();
      peer.ws.close();
      await handle.close();
      await backplane.close();
    }
  },
});
