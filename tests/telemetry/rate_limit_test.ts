import assert from "node:assert/strict";
import { parseRateLimit, RateLimiter, TokenBucket } from "../../lib/telemetry/rate_limit.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

Deno.test("RateLimiter.allow() lets n per window through, in virtual time", () => {
  const clock = new VirtualClock();
  const rl = new RateLimiter([3, 1000], { clock });
  assert.deepEqual([1, 2, 3, 4].map(() => rl.allow()), [true, true, true, false]);
  clock.tick(999);
  assert.deepEqual(rl.allow(), false);
  clock.tick(1);
  assert.deepEqual(rl.allow(), true);
});

Deno.test("RateLimiter.allow() enforces every window and keeps state per key", () => {
  const clock = new VirtualClock();
  const rl = new RateLimiter({ "2/s": [2, 1000], "3/min": [3, 60_000] }, { clock });
  let allowed = 0;
  for (let s = 0; s < 10; s++) {
    for (let i = 0; i < 5; i++) if (rl.allow("a")) allowed++;
    clock.tick(1000);
  }
  assert.deepEqual(allowed, 3);
  assert.deepEqual(rl.allow("b"), true);
  clock.tick(60_000);
  assert.deepEqual(rl.allow("a"), true);
});

Deno.test("RateLimiter forgets the oldest key beyond maxKeys", () => {
  const rl = new RateLimiter([1, 1000], { clock: new VirtualClock(), maxKeys: 2 });
  rl.allow("a");
  rl.allow("b");
  rl.allow("c");
  assert.deepEqual(rl.size, 2);
  assert.deepEqual(rl.allow("a"), true);
});

Deno.test("parseRateLimit() rejects bad specs with TypeError/RangeError", () => {
  assert.throws(() => parseRateLimit([-1, 10]), RangeError);
  assert.throws(() => parseRateLimit([1, 0]), RangeError);
  assert.throws(() => parseRateLimit("1/s" as never), TypeError);
  assert.deepEqual(parseRateLimit([[1, 10], [2, 20]]).length, 2);
});

Deno.test("TokenBucket.take() allows a burst then refills at ratePerSec", () => {
  const clock = new VirtualClock();
  const tb = new TokenBucket({ ratePerSec: 10, burst: 5, clock });
  assert.deepEqual(tb.take("c", 5), true);
  assert.deepEqual(tb.take("c"), false);
  clock.tick(100);
  assert.deepEqual(tb.take("c"), true);
  assert.deepEqual(tb.take("c"), false);
  clock.tick(10_000);
  assert.deepEqual(tb.available("c"), 5);
  assert.throws(() => new TokenBucket({ burst: 0 }), RangeError);
});
