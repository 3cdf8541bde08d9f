import assert from "node:assert/strict";
import { ExpiryQueue } from "../../lib/server/expiry_queue.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

function queue(clock: VirtualClock, delayMs = 100): { q: ExpiryQueue<string>; gone: string[] } {
  const gone: string[] = [];
  return { q: new ExpiryQueue<string>(clock, delayMs, (item) => gone.push(item)), gone };
}

Deno.test("ExpiryQueue expires each item delayMs after it was added, in order, on one timer", () => {
  const clock = new VirtualClock();
  const { q, gone } = queue(clock);
  q.add("a");
  clock.tick(30);
  q.add("b");
  q.add("c");
  assert.equal(clock.pending, 1);
  clock.tick(69);
  assert.deepEqual(gone, []);
  clock.tick(1);
  assert.deepEqual(gone, ["a"]);
  clock.tick(29);
  assert.deepEqual(gone, ["a"]);
  clock.tick(1);
  assert.deepEqual(gone, ["a", "b", "c"]);
  assert.equal(q.size, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("ExpiryQueue.cancel() keeps an item from expiring; with none left the timer is cleared", () => {
  const clock = new VirtualClock();
  const { q, gone } = queue(clock);
  const a = q.add("a");
  clock.tick(50);
  q.add("b");
  q.cancel(a);
  q.cancel(a); // idempotent
  assert.equal(q.size, 1);
  clock.tick(50);
  assert.deepEqual(gone, []);
  clock.tick(50);
  assert.deepEqual(gone, ["b"]);
  const c = q.add("c");
  q.cancel(c);
  assert.equal(clock.pending, 0);
  clock.tick(1000);
  assert.deepEqual(gone, ["b"]);
});

Deno.test("ExpiryQueue: an item added while others expire waits its full delay", () => {
  const clock = new VirtualClock();
  const gone: string[] = [];
  const q: ExpiryQueue<string> = new ExpiryQueue(clock, 100, (item) => {
    gone.push(item);
    if (item === "a") q.add("again");
  });
  q.add("a");
  clock.tick(10);
  q.add("b");
  clock.tick(90);
  assert.deepEqual(gone, ["a"]);
  clock.tick(10);
  assert.deepEqual(gone, ["a", "b"]);
  clock.tick(89);
  assert.deepEqual(gone, ["a", "b"]);
  clock.tick(1);
  assert.deepEqual(gone, ["a", "b", "again"]);
});

Deno.test("ExpiryQueue: cancelled entries are compacted away and hold no item", () => {
  const clock = new VirtualClock();
  const { q, gone } = queue(clock);
  const keep = q.add("keep");
  for (let i = 0; i < 10_000; i++) q.cancel(q.add(`x${i}`));
  assert.equal(q.size, 1);
  q.cancel(keep);
  assert.equal(clock.pending, 0);
  q.add("last");
  clock.tick(100);
  assert.deepEqual(gone, ["last"]);
});

Deno.test("ExpiryQueue.stop() cancels every item and the timer", () => {
  const clock = new VirtualClock();
  const { q, gone } = queue(clock);
  const a = q.add("a");
  q.add("b");
  q.stop();
  q.cancel(a);
  assert.equal(q.size, 0);
  assert.equal(clock.pending, 0);
  clock.tick(1000);
  assert.deepEqual(gone, []);
});
