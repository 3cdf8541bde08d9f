// This module is browser compatible.
/**
 * Random identifiers: client ids, connection ids and callback ids.
 *
 * @module
 */

/** The char codes of `0123456789abcdef`. */
const HEX_CODES = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

/** A random lowercase hex string of `length` characters from `crypto.getRandomValues`. */
export function randomHex(length: number): string {
  const bytes = new Uint8Array(Math.ceil(length / 2));
  crypto.getRandomValues(bytes);
  // One flat string from char codes: `out += …` would build a rope (a tree of one string per
  // pair of digits), and ids and secrets are kept for as long as their connection or session.
  const codes = new Array<number>(length);
  for (let i = 0; i < length; i++) {
    const b = bytes[i >> 1];
    codes[i] = HEX_CODES[(i & 1) === 0 ? b >> 4 : b & 15];
  }
  return String.fromCharCode(...codes);
}

/** A callback id as Sente makes them: 6 hex characters (the head of a random UUID). */
export function callbackId(): string {
  return randomHex(6);
}
