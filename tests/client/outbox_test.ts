import assert from "node:assert/strict";
import { enqueue, type Queued, requeue } from "../../lib/client/outbox.ts";
import { ClosedError } from "../../lib/protocol/errors.ts";
import { QueueFullError } from "../../lib/client/types.ts";

const entry = (frame: string, extra: Partial<Queued> = {}): Queued => ({
  frame,
  cancelled: false,
  ...extra,
});

Deno.test("enqueue() queues while connecting or reconnecting, up to max", () => {
  const queue: Queued[] = [];
  assert.equal(enqueue(queue, entry("a"), "connecting", 2), "queued");
  assert.equal(enqueue(queue, entry("b"), "reconnecting", 2), "queued");
  assert.throws(() => enqueue(queue, entry("c"), "connecting", 2), QueueFullError);
  assert.deepEqual(queue.map((e) => e.frame), ["a", "b"]);
});

Deno.test("enqueue() throws ClosedError when closed, closing, failed or with queueing off", () => {
  const queue: Queued[] = [];
  for (const state of ["closed", "closing", "failed"] as const) {
    assert.throws(() => enqueue(queue, entry("a"), state, 10), ClosedError);
  }
  assert.throws(
    () => enqueue(queue, entry("a"), "connecting", 0),
    (e: Error) => e instanceof ClosedError && /queueing is off/.test(e.message),
  );
  assert.equal(queue.length, 0);
});

Deno.test("requeue() puts retried and unacknowledged entries first, in the order they were written", () => {
  const queue = [entry("q")];
  const again = [entry("r3", { order: 3 }), entry("r0", { order: 0 })];
  const outbox = [entry("s1", { seq: 1, order: 1 }), entry("s2", { seq: 2, order: 2 })];
  assert.deepEqual(requeue(again, outbox, queue).map((e) => e.frame), [
    "r0",
    "s1",
    "s2",
    "r3",
    "q",
  ]);
  assert.equal(requeue([], [], queue), queue);
});
