import assert from "node:assert/strict";
import { TokenBucket } from "../../lib/server/rate_limit.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

Deno.test("TokenBucket allows the burst, then the sustained rate, in virtual time", () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket({ perSecond: 10, burst: 5 }, clock);
  for (let i = 0; i < 5; i++) assert.ok(bucket.take(), `burst ${i}`);
  assert.equal(bucket.take(), false);
  clock.tick(100); // one token
  assert.ok(bucket.take());
  assert.equal(bucket.take(), false);
  clock.tick(10_000); // refills to the burst, not beyond
  let n = 0;
  while (bucket.take()) n++;
  assert.equal(n, 5);
});

Deno.test("TokenBucket lets one item larger than the burst through only when full", () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket({ perSecond: 100, burst: 100 }, clock);
  assert.ok(bucket.take(1000));
  assert.equal(bucket.take(1000), false);
  clock.tick(1000);
  assert.ok(bucket.take(1000));
});

Deno.test("TokenBucket rejects nonsensical rates with RangeError", () => {
  const clock = new VirtualClock();
  assert.throws(() => new TokenBucket({ perSecond: 0, burst: 1 }, clock), RangeError);
  assert.throws(() => new TokenBucket({ perSecond: 1, burst: 0 }, clock), RangeError);
});

Deno.test("TokenBucket.charge() takes work already done into debt; take() refuses until repaid", () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket({ perSecond: 100, burst: 100 }, clock);
  assert.ok(bucket.charge(60));
  assert.equal(bucket.charge(60), false, "in debt");
  assert.equal(bucket.tokens, -20);
  assert.equal(bucket.take(1), false);
  clock.tick(200); // +20: debt repaid, nothing left
  assert.equal(bucket.take(1), false);
  clock.tick(10);
  assert.ok(bucket.take(1));
});
