// This module is browser compatible.
/**
 * Random identifiers: client ids, connection ids and callback ids.
 *
 * @module
 */

const HEX = "0123456789abcdef";

/** A random lowercase hex string of `length` characters from `crypto.getRandomValues`. */
export function randomHex(length: number): string {
  const bytes = new Uint8Array(Math.ceil(length / 2));
  crypto.getRandomValues(bytes);
  let out = "";
  for (const b of bytes) out += HEX[b >> 4] + HEX[b & 15];
  return out.slice(0, length);
}

/** A callback id as Sente makes them: 6 hex characters (the head of a random UUID). */
export function callbackId(): string {
  return randomHex(6);
}
