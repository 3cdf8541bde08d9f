/**
 * IP addresses and CIDR blocks as 16 bytes (IPv4 as IPv4-mapped IPv6, `::ffff:a.b.c.d`), strictly
 * parsed: what a proxy header names is checked before any limit is keyed by it.
 *
 * @example
 * ```ts
 * import { formatIp, parseCidr, parseIp } from "./ip_address.ts";
 * const block = parseCidr("10.0.0.0/8")!;
 * console.assert(block.contains(parseIp("10.1.2.3")!));
 * console.assert(formatIp(parseIp("2001:DB8:0:0::1")!) === "2001:db8::1");
 * ```
 *
 * @module
 */

/** Longest textual address read (`ffff:…:255.255.255.255` is 45); a zone adds its name. */
const MAX_LENGTH = 64;

/** The four bytes of a dotted IPv4 address into `out` at `at`; no leading zeros (octal?). */
function readIpv4(text: string, out: Uint8Array, at: number): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p[0] === "0")) return false;
    let n = 0;
    for (let j = 0; j < p.length; j++) {
      const c = p.charCodeAt(j) - 48;
      if (c < 0 || c > 9) return false;
      n = n * 10 + c;
    }
    if (n > 255) return false;
    out[at + i] = n;
  }
  return true;
}

/** IPv6 groups (`1-4` hex digits each) into `out` from byte `at`; `false` on a bad group. */
function readGroups(groups: string[], out: Uint8Array, at: number): boolean {
  for (const g of groups) {
    if (g.length === 0 || g.length > 4) return false;
    let n = 0;
    for (let j = 0; j < g.length; j++) {
      const c = g.charCodeAt(j);
      const d = c >= 48 && c <= 57
        ? c - 48
        : c >= 97 && c <= 102
        ? c - 87
        : c >= 65 && c <= 70
        ? c - 55
        : -1;
      if (d < 0) return false;
      n = n * 16 + d;
    }
    out[at++] = n >> 8;
    out[at++] = n & 0xff;
  }
  return true;
}

function readIpv6(text: string, out: Uint8Array): boolean {
  const zone = text.indexOf("%");
  if (zone === 0 || zone === text.length - 1) return false;
  const addr = zone > 0 ? text.slice(0, zone) : text;
  const gap = addr.indexOf("::");
  if (gap >= 0 && addr.indexOf("::", gap + 1) >= 0) return false;
  const head = gap < 0 ? addr.split(":") : gap === 0 ? [] : addr.slice(0, gap).split(":");
  const tail = gap < 0 ? [] : gap + 2 === addr.length ? [] : addr.slice(gap + 2).split(":");
  const parts = gap < 0 ? head : tail;
  // A dotted IPv4 address may end it (`::ffff:192.0.2.1`): two groups' worth.
  const last = parts.length > 0 ? parts[parts.length - 1] : "";
  let v4 = false;
  if (last.includes(".")) {
    if (!readIpv4(last, out, 12)) return false;
    parts.pop();
    v4 = true;
  }
  const groups = head.length + tail.length + (v4 ? 2 : 0);
  if (gap < 0 ? groups !== 8 : groups > 7) return false;
  if (!readGroups(head, out, 0)) return false;
  return readGroups(tail, out, 16 - (v4 ? 4 : 0) - tail.length * 2);
}

/**
 * The 16 bytes of an IPv4 or IPv6 address (IPv4 as `::ffff:a.b.c.d`; an IPv6 zone is ignored), or
 * `null` when `text` is not exactly one address: no brackets, port, spaces or leading zeros in IPv4.
 */
export function parseIp(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > MAX_LENGTH) return null;
  const out = new Uint8Array(16);
  if (!text.includes(":")) {
    out[10] = out[11] = 0xff;
    return readIpv4(text, out, 12) ? out : null;
  }
  return readIpv6(text, out) ? out : null;
}

/** Whether `bytes` is an IPv4-mapped address (`::ffff:a.b.c.d`). */
function isMapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * The canonical text of an address from {@linkcode parseIp}: dotted IPv4 for IPv4 and
 * IPv4-mapped addresses, else RFC 5952 IPv6 (lower case, the longest run of zero groups as `::`),
 * so every spelling of one address is counted as one by the per-IP limits.
 */
export function formatIp(bytes: Uint8Array): string {
  if (isMapped(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestAt = -1;
  let bestLen = 1; // a single zero group is not shortened (RFC 5952 4.2.2)
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (from: number, to: number): string =>
    groups.slice(from, to).map((g) => g.toString(16)).join(":");
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

/** A block of addresses (`10.0.0.0/8`, `fd00::/8`, or one address). */
export interface IpBlock {
  /** Whether the address (16 bytes, from {@linkcode parseIp}) is in the block. */
  contains(bytes: Uint8Array): boolean;
}

/**
 * A CIDR block (`192.0.2.0/24`, `2001:db8::/32`) or a single address, or `null` when `text` is
 * neither. IPv4 blocks match IPv4-mapped IPv6 peers too.
 */
export function parseCidr(text: string): IpBlock | null {
  const slash = text.indexOf("/");
  const base = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (base === null) return null;
  const v4 = !text.slice(0, slash < 0 ? text.length : slash).includes(":");
  let bits = 128;
  if (slash >= 0) {
    const suffix = text.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(suffix)) return null;
    const n = Number(suffix);
    if (n > (v4 ? 32 : 128)) return null;
    bits = v4 ? 96 + n : n;
  }
  return {
    contains(bytes: Uint8Array): boolean {
      const whole = bits >> 3;
      for (let i = 0; i < whole; i++) if (bytes[i] !== base[i]) return false;
      const rest = bits & 7;
      if (rest === 0) return true;
      const mask = (0xff << (8 - rest)) & 0xff;
      return (bytes[whole] & mask) === (base[whole] & mask);
    },
  };
}
