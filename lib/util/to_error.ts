// This module is browser compatible.
/**
 * Turns anything thrown into an `Error`, for handlers that report what a callback threw.
 *
 * @module
 */

/** `e` if it is an `Error`, else an `Error` whose message is `String(e)`. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
