// This module is browser compatible.
/**
 * UTF-8 helpers for size limits that must count bytes, not UTF-16 code units.
 *
 * @module
 */

/** Any character outside ASCII (a regular expression runs as native code: fast on long text). */
const NON_ASCII = /[\u0080-\uffff]/;

/** The number of bytes `s` takes in UTF-8, without allocating. */
export function utf8ByteLength(s: string): number {
  if (!NON_ASCII.test(s)) return s.length; // the common case: one byte per character
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      // A surrogate pair is 4 bytes for 2 code units.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** Byte length of a frame: UTF-8 length of text, or the length of bytes. */
export function frameByteLength(frame: string | Uint8Array): number {
  return typeof frame === "string" ? utf8ByteLength(frame) : frame.byteLength;
}
