import assert from "node:assert/strict";
import {
  BACKPRESSURE_DEFAULTS,
  type GateTarget,
  OutboundGate,
  resolveBackpressure,
} from "../../lib/server/backpressure.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { startServer, until } from "../_server.ts";
import { readTextFrames, slowPeer } from "./_slow_peer.ts";

const K = 64 * 1024;

function fakeTarget() {
  const t = {
    buffered: 0,
    written: [] as string[],
    closed: 0,
    droppedCount: 0,
    target: null as unknown as GateTarget,
  };
  t.target = {
    get bufferedAmount() {
      return t.buffered;
    },
    write: (frame) => t.written.push(frame as string) > 0,
    gapFrame: (n) => `gap:${n}`,
    closeSlow: () => void t.closed++,
    dropped: (n) => void (t.droppedCount += n),
  };
  return t;
}

Deno.test("OutboundGate skips the bufferedAmount look for small frames, up to 64 KiB", () => {
  const t = fakeTarget();
  let looks = 0;
  const target = {
    ...t.target,
    get bufferedAmount() {
      looks++;
      return 0;
    },
  };
  const gate = new OutboundGate(BACKPRESSURE_DEFAULTS, target, new VirtualClock());
  for (let i = 0; i < 1000; i++) gate.send("x", 100); // 100 KB in all
  assert.equal(looks, 1);
});

Deno.test("OutboundGate 'close' policy refuses and closes once the socket is full", () => {
  const t = fakeTarget();
  const gate = new OutboundGate(
    { ...BACKPRESSURE_DEFAULTS, maxBufferedBytes: 100 },
    t.target,
    new VirtualClock(),
  );
  // Frames of K bytes: the gate looks at bufferedAmount once per K bytes sent.
  assert.equal(gate.send("a", K), true);
  t.buffered = 101;
  assert.equal(gate.send("b", K), false);
  assert.equal(t.closed, 1);
  assert.deepEqual(t.written, ["a"]);
});

Deno.test("OutboundGate 'drop-oldest' holds, drops the oldest over the bound, then sends a gap and the rest in order", () => {
  const clock = new VirtualClock();
  const t = fakeTarget();
  const gate = new OutboundGate(
    {
      ...BACKPRESSURE_DEFAULTS,
      policy: "drop-oldest",
      maxBufferedBytes: 100,
      maxQueuedBytes: 3 * K,
    },
    t.target,
    clock,
  );
  t.buffered = 200;
  for (const f of ["1", "2", "3", "4", "5"]) assert.equal(gate.send(f, K), true);
  assert.equal(gate.queuedBytes, 3 * K);
  assert.equal(t.droppedCount, 2);
  clock.tick(50); // still full: nothing moves
  assert.deepEqual(t.written, []);
  t.buffered = 40; // drained below half the bound
  clock.tick(10);
  assert.deepEqual(t.written, ["gap:2", "3", "4", "5"]);
  assert.equal(gate.queuedBytes, 0);
  assert.equal(gate.send("6", K), true);
  assert.deepEqual(t.written.at(-1), "6");
});

Deno.test("OutboundGate 'drop-oldest' holds again after it drained, counting the new gap alone", () => {
  const clock = new VirtualClock();
  const t = fakeTarget();
  const gate = new OutboundGate(
    { ...BACKPRESSURE_DEFAULTS, policy: "drop-oldest", maxBufferedBytes: 100, maxQueuedBytes: K },
    t.target,
    clock,
  );
  for (const round of [1, 2]) {
    t.buffered = 200;
    for (const f of ["a", "b", "c"]) assert.equal(gate.send(`${round}${f}`, K), true);
    assert.equal(gate.queuedBytes, K);
    t.buffered = 0;
    clock.tick(10);
    assert.deepEqual(t.written.splice(0), ["gap:2", `${round}c`]);
    assert.equal(gate.queuedBytes, 0);
  }
  assert.equal(t.droppedCount, 4);
  gate.close();
  assert.equal(clock.pending, 0);
});

Deno.test("resolveBackpressure() rejects bad values with RangeError", () => {
  assert.throws(() => resolveBackpressure({ maxBufferedBytes: 0 }), RangeError);
  assert.throws(() => resolveBackpressure({ policy: "nope" as "close" }), RangeError);
});

Deno.test("a client that never reads is closed with 1013 and the server's buffer stays bounded", async () => {
  await using t = await startServer({ backpressure: { maxBufferedBytes: 256 * 1024 } });
  const conn = await slowPeer(t.url);
  await until(() => t.server.connections().length === 1, "the slow peer's connection");
  const id = t.server.connections()[0].id;
  const big = "x".repeat(64 * 1024);
  let sent = 0;
  // Bounded: at most 2000 × 64 KiB; stops as soon as the server refuses.
  while (sent < 2000 && t.server.sendTo(id, "bp/big", big)) {
    sent++;
    if (sent % 16 === 0) await new Promise((r) => setTimeout(r, 0)); // let the runtime write
  }
  const stats = t.server.stats();
  assert.equal(stats.slowConsumerCloses, 1);
  assert.ok(sent < 2000, `refused after ${sent} frames`);
  assert.ok(stats.bufferedBytes <= 256 * 1024 + 70 * 1024, `buffered ${stats.bufferedBytes}`);
  conn.close();
  await until(() => t.server.connections().length === 0, "cleanup");
});

Deno.test("'drop-oldest' drops the oldest frames for a slow reader and tells it about the gap", async () => {
  await using t = await startServer({
    backpressure: {
      policy: "drop-oldest",
      maxBufferedBytes: 64 * 1024,
      maxQueuedBytes: 256 * 1024,
    },
  });
  const conn = await slowPeer(t.url);
  await until(() => t.server.connections().length === 1, "the slow peer's connection");
  const id = t.server.connections()[0].id;
  const pad = "y".repeat(10 * 1024);
  const total = 2000;
  for (let i = 0; i < total; i++) {
    assert.equal(t.server.sendTo(id, "bp/n", { i, pad }), true);
    if (i % 32 === 0) await new Promise((r) => setTimeout(r, 0));
  }
  const mid = t.server.stats();
  assert.ok(mid.queuedBytes <= 256 * 1024 + 11 * 1024, `queued ${mid.queuedBytes}`);
  assert.ok(mid.droppedFrames > 0, "some frames were dropped");
  // Now read everything: numbers ascend, one gap event accounts for every dropped frame.
  let last = -1;
  let received = 0;
  let gapped = 0;
  for await (const text of readTextFrames(conn)) {
    const [[[eventId, data]]] = JSON.parse(text) as [[[string, Record<string, number>]]];
    if (eventId === "chsk/handshake") continue;
    if (eventId === "sente-lite/gap") {
      gapped += data.dropped;
      continue;
    }
    assert.ok(data.i > last, `order: ${data.i} after ${last}`);
    last = data.i;
    received++;
    if (received + gapped === total) break;
  }
  assert.equal(received + gapped, total);
  assert.equal(gapped, t.server.stats().droppedFrames);
  conn.close();
  await until(() => t.server.connections().length === 0, "cleanup");
});
