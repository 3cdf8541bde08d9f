// This module is browser compatible.
/**
 * A nesting-depth check for JSON text, run before `JSON.parse` by the JSON and Transit packers.
 *
 * `JSON.parse` itself has no depth limit: V8 parses a megabyte of `[` in hundreds of
 * milliseconds and returns a value half a million levels deep, which the EDN packer (and any
 * recursive code in a handler) cannot write back. Checking the text first keeps every packer at
 * the same read limit and rejects such a frame in time linear in its length.
 *
 * @module
 */

/** Deepest nesting of arrays and objects the JSON and Transit packers read. */
export const MAX_JSON_DEPTH = 512;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Throws when `text` nests arrays and objects deeper than `maxDepth`. Brackets inside strings do
 * not count; malformed text is left for `JSON.parse` to report.
 *
 * @throws {SyntaxError} Naming the offset of the first opening bracket past the limit.
 */
export function checkJsonDepth(text: string, maxDepth: number, format = "JSON"): void {
  const n = text.length;
  // Every level takes one bracket: text no longer than the limit cannot pass it (most frames).
  if (n <= maxDepth) return;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Jump to the closing quote: one that follows an even run of backslashes.
      for (;;) {
        const j = text.indexOf('"', i + 1);
        if (j === -1) return;
        let k = j - 1;
        while (text.charCodeAt(k) === BACKSLASH) k--;
        i = j;
        if ((j - 1 - k) % 2 === 0) break;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) {
        throw new SyntaxError(
          `Invalid ${format} at offset ${i}: arrays and objects nested deeper than ${maxDepth}`,
        );
      }
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
}
