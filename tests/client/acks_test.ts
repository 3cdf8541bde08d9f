import assert from "node:assert/strict";
import { InboundAcks } from "../../lib/client/acks.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

const OPTS = { ackEvery: 3, ackDelayMs: 100 };

function make(): { acks: InboundAcks; clock: VirtualClock; sent: unknown[] } {
  const clock = new VirtualClock();
  const sent: unknown[] = [];
  return { acks: new InboundAcks(clock, (v) => sent.push(v)), clock, sent };
}

const ack = (seq: number) => [["sente-lite/ack", { seq }], null];

Deno.test("received() accepts a seq once, in increasing order; reset() moves the floor", () => {
  const { acks } = make();
  assert.equal(acks.received(1), true);
  assert.equal(acks.received(1), false);
  assert.equal(acks.received(3), true);
  assert.equal(acks.received(2), false);
  assert.equal(acks.seq, 3);
  acks.reset(10);
  assert.equal(acks.received(10), false);
  assert.equal(acks.received(11), true);
});

Deno.test("an ack goes out after ackEvery pushes, or ackDelayMs after the first", () => {
  const { acks, clock, sent } = make();
  for (const seq of [1, 2, 3]) {
    acks.received(seq);
    acks.schedule(OPTS);
  }
  assert.deepEqual(sent, [ack(3)]);
  acks.received(4);
  acks.schedule(OPTS);
  clock.tick(99);
  assert.equal(sent.length, 1);
  clock.tick(1);
  assert.deepEqual(sent, [ack(3), ack(4)]);
  clock.tick(1000);
  assert.equal(sent.length, 2, "no second ack for the same seq");
});

Deno.test("flush() acks what is pending once; stop() cancels the timer; reset() counts as acked", () => {
  const { acks, clock, sent } = make();
  acks.flush();
  assert.deepEqual(sent, []);
  acks.received(1);
  acks.schedule(OPTS);
  acks.stop();
  clock.tick(1000);
  assert.deepEqual(sent, []);
  acks.flush();
  acks.flush();
  assert.deepEqual(sent, [ack(1)]);
  acks.reset(50);
  acks.flush();
  assert.deepEqual(sent, [ack(1)]);
});
