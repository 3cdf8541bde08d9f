import assert from "node:assert/strict";
import { readWords, sessionKey, wordsEqual, wordsHex } from "../../lib/server/session_key.ts";
import { randomWord } from "../../lib/util/ids.ts";

/** `n` fresh random words. */
function randomWords(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = randomWord();
  return out;
}

Deno.test("readWords() and wordsHex() turn 8 lowercase hex digits per word into signed 32-bit words and back", () => {
  const hex = "0123456789abcdefffffffff80000000";
  const words = readWords(hex, 4)!;
  assert.deepEqual([...words], [0x01234567, 0x89abcdef | 0, -1, -0x80000000]);
  assert.equal(wordsHex(...words), hex);
  assert.equal(wordsHex(0, 1), "0000000000000001");
  for (let i = 0; i < 100; i++) {
    const w = randomWords(4);
    assert.deepEqual([...readWords(wordsHex(...w), 4)!], [...w]);
  }
});

Deno.test("readWords() refuses anything but exactly words × 8 lowercase hex digits", () => {
  for (const bad of ["", "0123456", "012345678", "0123456G", "ABCDEF01", "0123456 ", "０1234567"]) {
    assert.equal(readWords(bad, 1), null, JSON.stringify(bad));
  }
  assert.equal(readWords("0123456789abcdef", 1), null);
  assert.deepEqual([...readWords("0000000a", 1)!], [10]);
});

Deno.test("wordsEqual() is equality of four words, each word counted wherever they differ", () => {
  const w = [...randomWords(4)] as [number, number, number, number];
  assert.equal(wordsEqual(...w, ...w), true);
  for (let i = 0; i < 4; i++) {
    for (let bit = 0; bit < 32; bit++) {
      const other = [...w] as [number, number, number, number];
      other[i] ^= 1 << bit;
      assert.equal(wordsEqual(...w, ...other), false, `word ${i} bit ${bit}`);
    }
  }
});

Deno.test("randomWords() draws different words every call", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(wordsHex(...randomWords(4)));
  assert.equal(seen.size, 1000);
});

Deno.test("randomWord() hands out every pooled word once, across refills of the pool", () => {
  // 5000 pairs (40 KB) cross several refills of the 4 KiB pool; 64-bit pairs never repeat.
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) seen.add(wordsHex(randomWord(), randomWord()));
  assert.equal(seen.size, 5000);
  const word = randomWord();
  assert.ok(Number.isInteger(word) && word >= -0x80000000 && word <= 0x7fffffff);
});

Deno.test("sessionKey() is a session id's low word, NaN for what is not a session id", () => {
  assert.equal(sessionKey("00000001fffffffe"), -2);
  assert.equal(sessionKey("0123456789abcdef"), 0x89abcdef | 0);
  assert.ok(Number.isNaN(sessionKey("0123")));
  assert.ok(Number.isNaN(sessionKey("0123456789ABCDEF")));
});
