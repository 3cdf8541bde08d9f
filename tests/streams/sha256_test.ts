import assert from "node:assert/strict";
import { digestsEqual, Sha256 } from "../../lib/streams/sha256.ts";
import { bytes } from "./_pair.ts";

Deno.test("Sha256 equals Web Crypto for every length around block edges, fed in odd pieces", async () => {
  const lengths = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65537];
  for (const n of lengths) {
    const data = bytes(n, n + 1);
    const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    const whole = new Sha256().update(data).digest();
    assert.deepEqual(whole, expected, `length ${n}`);
    const pieces = new Sha256();
    for (let i = 0, k = 1; i < n; i += k, k = (k * 7) % 97 + 1) {
      pieces.update(data.subarray(i, i + k));
    }
    assert.deepEqual(pieces.digest(), expected, `length ${n} in pieces`);
  }
});

Deno.test("Sha256 refuses update() after digest() and digestsEqual compares", () => {
  const h = new Sha256();
  const d = h.digest();
  assert.throws(() => h.update(new Uint8Array(1)), TypeError);
  assert.equal(digestsEqual(d, new Uint8Array(d)), true);
  const other = new Uint8Array(d);
  other[31] ^= 1;
  assert.equal(digestsEqual(d, other), false);
  assert.equal(digestsEqual(d, d.subarray(1)), false);
});
