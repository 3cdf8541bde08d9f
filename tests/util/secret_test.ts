/** Unit tests of lib/util/secret.ts: random secrets and the constant-time compare. */
import assert from "node:assert/strict";
import { randomSecret, SECRET_BITS, timingSafeEqual } from "../../lib/util/secret.ts";

Deno.test("randomSecret() is 128 bits of lowercase hex, different every call", () => {
  assert.ok(SECRET_BITS >= 128);
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const s = randomSecret();
    assert.match(s, /^[0-9a-f]{32}$/);
    seen.add(s);
  }
  assert.equal(seen.size, 1000);
});

Deno.test("timingSafeEqual() is equality of strings, length first", () => {
  const s = randomSecret();
  assert.equal(timingSafeEqual(s, s.slice()), true);
  assert.equal(timingSafeEqual("", ""), true);
  assert.equal(timingSafeEqual("abc", "abd"), false);
  assert.equal(timingSafeEqual("abc", "abcd"), false);
  assert.equal(timingSafeEqual("abcd", "abc"), false);
  assert.equal(timingSafeEqual("abc", ""), false);
  // A difference in any position counts, the first as much as the last.
  for (let i = 0; i < s.length; i++) {
    const flipped = s.slice(0, i) + (s[i] === "0" ? "1" : "0") + s.slice(i + 1);
    assert.equal(timingSafeEqual(s, flipped), false, `position ${i}`);
  }
  // Code units beyond Latin-1 are compared whole.
  assert.equal(timingSafeEqual("\u0100", "\u0000"), false);
  assert.equal(timingSafeEqual("é", "é"), true);
});
