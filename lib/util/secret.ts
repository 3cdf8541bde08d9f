// This module is browser compatible.
/**
 * Secrets: unguessable random values and their comparison in constant time.
 *
 * @module
 */
import { randomHex } from "./ids.ts";

/** Bits of randomness in a {@linkcode randomSecret}. */
export const SECRET_BITS = 128;

/** A fresh secret: {@linkcode SECRET_BITS} bits from `crypto.getRandomValues`, as lowercase hex. */
export function randomSecret(): string {
  return randomHex(SECRET_BITS / 4);
}

/**
 * Whether two strings are equal, in time that depends only on their lengths: every code unit is
 * compared, so how long a check takes does not tell an attacker how much of a guess was right.
 * Strings of different lengths are unequal at once (a secret's length is not secret).
 */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
