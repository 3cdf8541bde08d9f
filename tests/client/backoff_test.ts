import assert from "node:assert/strict";
import { BACKOFF_DEFAULTS, backoffDelay, resolveBackoffOptions } from "../../lib/client/backoff.ts";

const noJitter = resolveBackoffOptions({ jitter: 0 });

Deno.test("backoffDelay() doubles from 1 s and caps at 30 s by default", () => {
  const delays = Array.from({ length: 8 }, (_, i) => backoffDelay(i, noJitter));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.deepEqual(BACKOFF_DEFAULTS, {
    initialDelayMs: 1000,
    maxDelayMs: 30000,
    factor: 2,
    jitter: 0.25,
  });
});

Deno.test("backoffDelay() keeps every attempt within ±25 % of its base", () => {
  const o = resolveBackoffOptions();
  for (let attempt = 0; attempt < 10; attempt++) {
    const base = Math.min(30000, 1000 * 2 ** attempt);
    assert.equal(backoffDelay(attempt, o, false, () => 0), Math.round(base * 0.75));
    assert.equal(backoffDelay(attempt, o, false, () => 0.5), base);
    assert.ok(backoffDelay(attempt, o, false, () => 0.999999) <= Math.round(base * 1.25));
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(attempt, o);
      assert.ok(d >= base * 0.75 - 1 && d <= base * 1.25 + 1, `attempt ${attempt}: ${d}`);
    }
  }
});

Deno.test("backoffDelay() spreads delays uniformly across the jitter window", () => {
  const o = resolveBackoffOptions();
  const n = 20000;
  const buckets = new Array(10).fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = backoffDelay(0, o);
    sum += d;
    buckets[Math.min(9, Math.floor((d - 750) / 50))]++;
  }
  assert.ok(Math.abs(sum / n - 1000) < 10, `mean ${sum / n}`);
  for (const b of buckets) assert.ok(b > n / 10 * 0.85 && b < n / 10 * 1.15, `${buckets}`);
});

Deno.test("backoffDelay() jitters at the cap too, so a herd never re-synchronises", () => {
  const o = resolveBackoffOptions();
  const seen = new Set<number>();
  for (let i = 0; i < 100; i++) seen.add(backoffDelay(20, o));
  assert.ok(seen.size > 50);
});

Deno.test("backoffDelay() waits at least half the cap after a rate-limited close", () => {
  const o = resolveBackoffOptions();
  for (let i = 0; i < 500; i++) {
    assert.ok(backoffDelay(0, o, true) >= o.maxDelayMs / 2);
  }
  assert.equal(backoffDelay(0, noJitter, true), 30000);
});

Deno.test("resolveBackoffOptions() rejects out-of-range values with RangeError", () => {
  assert.throws(() => resolveBackoffOptions({ initialDelayMs: -1 }), RangeError);
  assert.throws(() => resolveBackoffOptions({ maxDelayMs: 10, initialDelayMs: 100 }), RangeError);
  assert.throws(() => resolveBackoffOptions({ factor: 0.5 }), /reconnect.factor/);
  assert.throws(() => resolveBackoffOptions({ jitter: 1 }), RangeError);
  assert.throws(() => resolveBackoffOptions({ maxDelayMs: Infinity }), RangeError);
});
