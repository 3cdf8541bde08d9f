// This module is browser compatible.
/**
 * Random identifiers: client ids, connection ids, callback ids, and the 32-bit words of session
 * ids and resume secrets (lib/server/session_key.ts).
 *
 * @module
 */

/** The char codes of `0123456789abcdef`. */
const HEX_CODES = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

/** Random bytes drawn per fill of the pool. */
const POOL_SIZE = 4096;
/**
 * Random bytes from `crypto.getRandomValues`, each handed out once: one call per 4 KiB instead of
 * one per id (on Deno the call alone was ~1.5 µs, three of them per handshake). The same pooling
 * as lib/telemetry/ids.ts.
 */
const pool = new Uint8Array(POOL_SIZE);
let poolPos = POOL_SIZE;

/** The pool's index of `n` (≤ `POOL_SIZE`) fresh bytes, refilling it when fewer are left. */
function take(n: number): number {
  if (poolPos + n > POOL_SIZE) {
    crypto.getRandomValues(pool);
    poolPos = 0;
  }
  const at = poolPos;
  poolPos += n;
  return at;
}

/** One fresh random 32-bit word (signed, as `| 0` makes it) from `crypto.getRandomValues`. */
export function randomWord(): number {
  const at = take(4);
  return (pool[at] << 24) | (pool[at + 1] << 16) | (pool[at + 2] << 8) | pool[at + 3];
}

/** A random lowercase hex string of `length` characters from `crypto.getRandomValues`. */
export function randomHex(length: number): string {
  const n = (length + 1) >> 1;
  if (n > POOL_SIZE) {
    return randomHex(length - 2 * (POOL_SIZE >> 1)) + randomHex(2 * (POOL_SIZE >> 1));
  }
  let at = take(n);
  // One flat string from char codes: `out += …` would build a rope (a tree of one string per
  // pair of digits), and ids and secrets are kept for as long as their connection or session.
  const codes = new Array<number>(length);
  let i = 0;
  for (; i + 1 < length; i += 2) {
    const b = pool[at++];
    codes[i] = HEX_CODES[b >> 4];
    codes[i + 1] = HEX_CODES[b & 15];
  }
  if (i < length) codes[i] = HEX_CODES[pool[at] >> 4];
  return String.fromCharCode.apply(null, codes);
}

/** A callback id as Sente makes them: 6 hex characters (the head of a random UUID). */
export function callbackId(): string {
  return randomHex(6);
}
