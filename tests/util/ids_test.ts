import assert from "node:assert/strict";
import { callbackId, randomHex } from "../../lib/util/ids.ts";

Deno.test("randomHex: lowercase hex of the asked length, even and odd", () => {
  for (const length of [0, 1, 6, 12, 15, 16, 32, 48]) {
    const s = randomHex(length);
    assert.equal(s.length, length);
    assert.match(s, /^[0-9a-f]*$/);
  }
});

Deno.test("randomHex: every digit occurs in both nibble positions (no bias to one half)", () => {
  const high = new Set<string>();
  const low = new Set<string>();
  for (let i = 0; i < 2000 && (high.size < 16 || low.size < 16); i++) {
    const s = randomHex(2);
    high.add(s[0]);
    low.add(s[1]);
  }
  assert.equal(high.size, 16);
  assert.equal(low.size, 16);
});

Deno.test("randomHex: fresh values (128 bits do not repeat)", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(randomHex(32));
  assert.equal(seen.size, 1000);
});

Deno.test("randomHex: across refills of its random pool and longer than the pool", () => {
  const seen = new Set<string>();
  // 5000 × 16 bytes: the 4 KiB pool is refilled many times, never handing a byte out twice.
  for (let i = 0; i < 5000; i++) seen.add(randomHex(32));
  assert.equal(seen.size, 5000);
  for (const length of [8191, 8192, 8193, 20_001]) {
    const s = randomHex(length);
    assert.equal(s.length, length);
    assert.match(s, /^[0-9a-f]*$/);
  }
});

Deno.test("callbackId: 6 hex digits", () => {
  assert.match(callbackId(), /^[0-9a-f]{6}$/);
});
