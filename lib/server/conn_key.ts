/**
 * Connection ids in memory: the 12 hex characters the Hub makes (48 random bits) are kept as
 * that number, not as a string (each kept string costs an idle connection on Bun ~0.15 KB of RSS),
 * and written out as the same 12 characters when read. Any other id (a cluster's
 * `node.hex`, ids made in tests) is kept as it is.
 *
 * @module
 */

/** How a connection id is kept: its number when it is 12 lowercase hex characters. */
export type ConnKey = number | string;

const CANONICAL = /^[0-9a-f]{12}$/;

/** The key of connection id `id` (the same for every spelling the Hub gives out). */
export function connKey(id: string): ConnKey {
  return id.length === 12 && CANONICAL.test(id) ? parseInt(id, 16) : id;
}

/** The connection id a key stands for. */
export function connIdOf(key: ConnKey): string {
  return typeof key === "number" ? key.toString(16).padStart(12, "0") : key;
}
