import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/util/clock.ts";
import { Batcher, estimateSize } from "../../lib/wire/batcher.ts";
import type { BatcherOptions, FlushReason } from "../../lib/wire/batcher.ts";

function setup(options: BatcherOptions<number> = {}) {
  const clock = new VirtualClock();
  const batches: [number[], FlushReason][] = [];
  const batcher = new Batcher<number>((items, reason) => batches.push([items, reason]), {
    clock,
    sizeOf: () => 10,
    ...options,
  });
  return { clock, batches, batcher };
}

Deno.test("Batcher flushes on count (default 10), in order", () => {
  const { batches, batcher, clock } = setup();
  for (let i = 0; i < 25; i++) batcher.add(i);
  assert.deepEqual(batches.map(([b, r]) => [b.length, r]), [[10, "count"], [10, "count"]]);
  assert.deepEqual(batches.flatMap(([b]) => b), Array.from({ length: 20 }, (_, i) => i));
  assert.equal(batcher.size, 5);
  clock.tick(1);
  assert.deepEqual(batches[2], [[20, 21, 22, 23, 24], "idle"]);
});

Deno.test("Batcher flushes on estimated bytes", () => {
  const { batches, batcher } = setup({ maxBytes: 35 });
  for (let i = 0; i < 4; i++) batcher.add(i);
  assert.deepEqual(batches, [[[0, 1, 2, 3], "bytes"]]);
});

Deno.test("Batcher flushes after idleMs without a new event", () => {
  const { batches, batcher, clock } = setup({ idleMs: 3, intervalMs: 10 });
  batcher.add(1);
  clock.tick(2);
  batcher.add(2);
  clock.tick(2);
  assert.equal(batches.length, 0, "the second add pushed the idle deadline");
  clock.tick(1);
  assert.deepEqual(batches, [[[1, 2], "idle"]]);
  assert.equal(clock.pending, 0);
});

Deno.test("Batcher flushes after intervalMs even while events keep coming", () => {
  const { batches, batcher, clock } = setup({ idleMs: 3, intervalMs: 10, maxCount: 100 });
  for (let t = 0; t < 12; t += 2) {
    batcher.add(t);
    clock.tick(2);
  }
  assert.deepEqual(batches, [[[0, 2, 4, 6, 8], "interval"]]);
});

Deno.test("Batcher.add() with urgent flushes the batch at once, the urgent event included", () => {
  const { batches, batcher, clock } = setup();
  batcher.add(1);
  batcher.add(2, { urgent: true });
  assert.deepEqual(batches, [[[1, 2], "urgent"]]);
  assert.equal(clock.pending, 0);
});

Deno.test("Batcher.stats() counts messages, frames, average batch size and reasons", () => {
  const { batcher, clock } = setup({ maxCount: 4 });
  for (let i = 0; i < 10; i++) batcher.add(i);
  clock.tick(1);
  batcher.add(99, { urgent: true });
  batcher.add(100);
  batcher.flush();
  batcher.close();
  assert.equal(batcher.add(1), false, "closed");
  assert.deepEqual(batcher.stats(), {
    messages: 12,
    frames: 5,
    averageBatchSize: 12 / 5,
    flushes: { count: 2, bytes: 0, interval: 0, idle: 1, urgent: 1, manual: 1, close: 0 },
  });
});

Deno.test("Batcher.close() flushes what waits with reason close", () => {
  const { batches, batcher, clock } = setup();
  batcher.add(1);
  batcher.close();
  assert.deepEqual(batches, [[[1], "close"]]);
  assert.equal(clock.pending, 0);
});

Deno.test("Batcher checks its options with RangeError", () => {
  assert.throws(() => new Batcher(() => {}, { maxCount: 0 }), RangeError);
  assert.throws(() => new Batcher(() => {}, { intervalMs: -1 }), RangeError);
  assert.throws(() => new Batcher(() => {}, { maxBytes: NaN }), RangeError);
});

Deno.test("estimateSize() is close to the JSON length of typical events", () => {
  for (
    const value of [
      ["app/chat", { text: "hello there", n: 12345, ok: true, tags: ["a", "b"] }],
      ["app/x", null],
      [["app/y", { deep: { er: [1, 2, 3] } }], "cb0001"],
    ]
  ) {
    const json = JSON.stringify(value).length;
    const est = estimateSize(value);
    assert.ok(est >= json * 0.7 && est <= json * 1.5, `${est} vs ${json}`);
  }
});
