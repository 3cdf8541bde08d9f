/**
 * Session ids and resume secrets in memory (lib/server/session.ts): the 16 hex digits of a
 * session id and the 32 of its secret (docs/PROTOCOL.md §8) are kept as 32-bit words, 2 and 4 of
 * them, not as strings: on Bun each kept string costs an idle session ~0.15 KB of RSS beyond its
 * size, and small integers sit in the session object itself on both engines. They are written out
 * as hex only when a token is sent, and a presented secret is read into words and compared with
 * {@linkcode wordsEqual} (constant time).
 *
 * @module
 */

/** The char code of hex digit `d` (0–15). */
function hexCode(d: number): number {
  return d < 10 ? 48 + d : 87 + d;
}

/** The value of the lowercase hex digit with char code `c` (`-1` for any other character). */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * The 32-bit words (signed, as `| 0` makes them) that the lowercase hex digits of `hex` stand
 * for, 8 digits each; `null` unless `hex` is exactly `words * 8` such digits.
 */
export function readWords(hex: string, words: number): Int32Array | null {
  if (hex.length !== words * 8) return null;
  const out = new Int32Array(words);
  for (let w = 0; w < words; w++) {
    let v = 0;
    for (let i = w * 8; i < w * 8 + 8; i++) {
      const d = hexValue(hex.charCodeAt(i));
      if (d < 0) return null;
      v = (v << 4) | d;
    }
    out[w] = v;
  }
  return out;
}

/** Writes word `w` as 8 lowercase hex digits' char codes into `codes` at `at`. */
function writeWord(codes: number[], at: number, w: number): void {
  for (let i = 0; i < 8; i++) codes[at + i] = hexCode((w >>> (28 - 4 * i)) & 15);
}

/** The lowercase hex of `words` (8 digits each), as one flat string. */
export function wordsHex(...words: number[]): string {
  const codes = new Array<number>(words.length * 8);
  for (let i = 0; i < words.length; i++) writeWord(codes, i * 8, words[i]);
  return String.fromCharCode.apply(null, codes); // no spread: no array iterator per id
}

/**
 * Whether the four words `a0…a3` equal `b0…b3`, in time that does not depend on where they
 * differ: every word is compared (no early exit), so timing tells an attacker nothing about how
 * much of a guess was right.
 */
export function wordsEqual(
  a0: number,
  a1: number,
  a2: number,
  a3: number,
  b0: number,
  b1: number,
  b2: number,
  b3: number,
): boolean {
  return ((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2) | (a3 ^ b3)) === 0;
}

/**
 * The key of session id `id` (16 hex digits) in the books: its low word. A session id's low word
 * is unique among the sessions kept (the books draw again on a clash), so the map needs no string
 * key; `NaN` when `id` is not a session id (it matches none).
 */
export function sessionKey(id: string): number {
  const words = readWords(id, 2);
  return words === null ? NaN : words[1];
}
