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

/** The char code of hex digit `d` (0–15). */
function hexCode(d: number): number {
  return d < 10 ? 48 + d : 87 + d;
}

/**
 * The connection id a key stands for. Written digit by digit (one string, no runtime call):
 * `Number#toString(16)` on a 48-bit number took microseconds, and fan-outs with `except` read
 * the id of every recipient.
 */
export function connIdOf(key: ConnKey): string {
  if (typeof key !== "number") return key;
  const hi = Math.floor(key / 0x1000000); // the upper 24 bits
  const lo = key - hi * 0x1000000; // the lower 24 bits
  return String.fromCharCode(
    hexCode(hi >>> 20),
    hexCode((hi >>> 16) & 15),
    hexCode((hi >>> 12) & 15),
    hexCode((hi >>> 8) & 15),
    hexCode((hi >>> 4) & 15),
    hexCode(hi & 15),
    hexCode(lo >>> 20),
    hexCode((lo >>> 16) & 15),
    hexCode((lo >>> 12) & 15),
    hexCode((lo >>> 8) & 15),
    hexCode((lo >>> 4) & 15),
    hexCode(lo & 15),
  );
}
