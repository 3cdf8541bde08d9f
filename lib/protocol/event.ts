// This module is browser compatible.
/**
 * Events and event ids. An event is `[id, data]`; an id is a namespaced string `"ns/name"`, the
 * JSON form of a Clojure keyword `:ns/name`.
 *
 * @module
 */

/** An event: its id and its data. */
export type Event<T = unknown> = [id: string, data: T];

/** Longest accepted event id, in UTF-16 code units. */
export const MAX_EVENT_ID_LENGTH = 256;

const EVENT_ID = /^[^\s/:][^\s/]*\/[^\s/]+$/;

/**
 * `true` when `id` is a namespaced event id `ns/name` (no whitespace, one slash, no leading colon).
 *
 * @example
 * ```ts
 * import { isEventId } from "@sente-lite/sente-lite";
 *
 * console.log(isEventId("chat/say"), isEventId(42)); // true false
 * ```
 */
export function isEventId(id: unknown): id is string {
  return typeof id === "string" && id.length <= MAX_EVENT_ID_LENGTH && EVENT_ID.test(id);
}

/**
 * Throws a `TypeError` naming the argument when `id` is not a valid event id.
 *
 * @example
 * ```ts
 * import { assertEventId } from "@sente-lite/sente-lite";
 *
 * assertEventId("chat/say"); // ok
 * // assertEventId(""); // throws TypeError
 * ```
 */
export function assertEventId(id: unknown, argument?: string): asserts id is string {
  argument ??= "id";
  if (!isEventId(id)) {
    throw new TypeError(
      `${argument} must be a namespaced event id "ns/name", got ${JSON.stringify(id)}`,
    );
  }
}

/**
 * `true` for ids in the reserved `chsk/` namespace.
 *
 * @example
 * ```ts
 * import { isReservedId } from "@sente-lite/sente-lite";
 *
 * console.log(isReservedId("chsk/ws-ping"), isReservedId("chat/say")); // true false
 * ```
 */
export function isReservedId(id: string): boolean {
  return id.startsWith("chsk/");
}

/**
 * `true` for sente-lite's own extension events (`sente-lite/*`).
 *
 * @example
 * ```ts
 * import { isExtensionId } from "@sente-lite/sente-lite";
 *
 * console.log(isExtensionId("sente-lite/subscribe")); // true
 * ```
 */
export function isExtensionId(id: string): boolean {
  return id.startsWith("sente-lite/");
}
