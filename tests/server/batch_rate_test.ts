/**
 * `rateLimit.messages` against client batches, on real sockets (docs/security.md): a peer that
 * negotiated batching (`wire=batching`, offered by default) sends `sente-lite/batch` frames of up
 * to 1000 envelopes. The rate limit counted frames, so one frame routed 1000 events for one token
 * (measured: a bucket of 50 routed 1000 events from one frame; at the default 2000 frames/s that
 * was 2,000,000 events a second, each a handler call or a publish). Now a batch counts as its
 * entries: one over the bucket is refused whole (`rate-limited`), none of it routed.
 */
import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/util/clock.ts";
import { rawPeer } from "../_peer.ts";
import { startServer, until } from "../_server.ts";

const BURST = 50;

function batch(n: number, tag: string): string {
  const entries = Array.from({ length: n }, (_, i) => `[["test/hit","${tag}${i}"],null]`);
  return `[["sente-lite/batch",[${entries.join(",")}]],null]`;
}

Deno.test("rateLimit.messages: a batch frame counts as its entries, not as one frame", async () => {
  const clock = new VirtualClock(); // no refill: only the burst
  await using t = await startServer({
    clock,
    heartbeat: false,
    rateLimit: { messages: { perSecond: 1, burst: BURST } },
  });
  const hits: string[] = [];
  t.server.on("test/hit", (msg) => void hits.push(msg.data as string));
  const { peer } = await rawPeer(`${t.url}?wire=batching`);
  try {
    peer.send(batch(10, "a")); // within the budget: all of it routed
    await until(() => hits.length === 10, "the first batch");
    peer.send(batch(1000, "b")); // 1000 events for one frame
    await until(() => t.server.stats().errors["rate-limited"] === 1, "the refusal");
    clock.tick(10); // the answer leaves with the connection's batch of pushes
    assert.match(await peer.next(), /"rate-limited"/);
    assert.equal(hits.filter((h) => h.startsWith("b")).length, 0, "none of the refused batch");
    // What is left of the burst still serves a batch that fits.
    peer.send(batch(BURST - 11, "c"));
    await until(() => hits.length === 10 + BURST - 11, "the batch that fits");
  } finally {
    await peer.close();
  }
});
