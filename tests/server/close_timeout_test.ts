import assert from "node:assert/strict";
import { startServer, until } from "../_server.ts";
import { slowPeer } from "./_slow_peer.ts";

Deno.test("a close the peer never answers (slow consumer, 1013) frees the connection after closeTimeoutMs", async () => {
  const closes: [number, string][] = [];
  await using t = await startServer({
    backpressure: { maxBufferedBytes: 256 * 1024 },
    closeTimeoutMs: 200,
    onClose: (_c, code, reason) => void closes.push([code, reason]),
  });
  const conn = await slowPeer(t.url); // completes the upgrade, then never reads again
  try {
    await until(() => t.server.connections().length === 1, "the slow peer's connection");
    const id = t.server.connections()[0].id;
    const big = "x".repeat(64 * 1024);
    let sent = 0;
    // Bounded: at most 2000 × 64 KiB; stops as soon as the gate closes it as a slow consumer.
    while (sent < 2000 && t.server.sendTo(id, "bp/big", big)) {
      sent++;
      if (sent % 16 === 0) await new Promise((r) => setTimeout(r, 0)); // let the runtime write
    }
    assert.equal(t.server.stats().slowConsumerCloses, 1);
    // The close frame sits behind megabytes the peer never reads: only the timeout ends it.
    await until(() => t.server.stats().connections === 0, "the connection to leave", 20_000);
    assert.deepEqual(closes.map(([code]) => code), [1013]);
    assert.match(closes[0][1], /close timeout/);
    assert.equal(t.server.stats().errors["close-timeout"], 1);
    assert.deepEqual(t.server.connections(), []);
    assert.equal(t.server.stats().uids, 0);
  } finally {
    conn.close(); // the runtime's late close event must be harmless
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closes.length, 1, "onClose ran once");
});
