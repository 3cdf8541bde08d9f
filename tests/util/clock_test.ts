import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/util/clock.ts";

Deno.test("VirtualClock.tick() fires due timers in time order, including ones added meanwhile", () => {
  const clock = new VirtualClock(1000);
  const seen: string[] = [];
  clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
  clock.setTimeout(() => {
    seen.push(`a@${clock.now()}`);
    clock.setTimeout(() => seen.push(`c@${clock.now()}`), 5);
  }, 10);
  const cancelled = clock.setTimeout(() => seen.push("never"), 15);
  clock.clearTimeout(cancelled);
  clock.tick(14);
  assert.deepEqual(seen, ["a@1010"]);
  clock.tick(100);
  assert.deepEqual(seen, ["a@1010", "c@1015", "b@1020"]);
  assert.equal(clock.now(), 1114);
  assert.equal(clock.pending, 0);
  assert.equal(clock.next(), false);
});

Deno.test("VirtualClock counts the timers scheduled and the clearTimeout calls", () => {
  const clock = new VirtualClock();
  const a = clock.setTimeout(() => {}, 10);
  clock.setTimeout(() => {}, 20);
  clock.clearTimeout(a);
  clock.clearTimeout(undefined); // an unknown handle counts as a call too
  clock.tick(20);
  assert.equal(clock.scheduled, 2);
  assert.equal(clock.cleared, 2);
  assert.equal(clock.pending, 0);
});
