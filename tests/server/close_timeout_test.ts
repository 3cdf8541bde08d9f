import assert from "node:assert/strict";
import { startServer, until } from "../_server.ts";
import { slowPeer, upgradeStatus } from "./_slow_peer.ts";

/** Sends to the slow peer's connection until the gate closes it as a slow consumer. */
async function overflow(
  t: { server: { sendTo(id: string, ev: string, d: string): boolean } },
  id: string,
) {
  const big = "x".repeat(64 * 1024);
  // Bounded: at most 2000 × 64 KiB; stops as soon as the gate closes it.
  for (let sent = 0; sent < 2000 && t.server.sendTo(id, "bp/big", big);) {
    if (++sent % 16 === 0) await new Promise((r) => setTimeout(r, 0)); // let the runtime write
  }
}

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
    await overflow(t, id);
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

Deno.test("Deno: a dropped socket the runtime still holds keeps its slot until the runtime lets go", async () => {
  await using t = await startServer({
    backpressure: { maxBufferedBytes: 256 * 1024 },
    closeTimeoutMs: 200,
    maxConnections: 1,
  });
  const conn = await slowPeer(t.url);
  try {
    await until(() => t.server.connections().length === 1, "the slow peer's connection");
    await overflow(t, t.server.connections()[0].id);
    await until(() => t.server.stats().connections === 0, "the connection to leave", 20_000);
    // Deno cannot terminate it: its descriptor is still in use, so the cap still counts it.
    assert.equal(await upgradeStatus(t.url), 503);
  } finally {
    conn.close();
  }
  // The peer went: the runtime's close event frees the slot.
  let status = 503;
  for (let i = 0; i < 200 && status === 503; i++) {
    status = await upgradeStatus(t.url);
    if (status === 503) await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(status, 101);
});
