/**
 * The client's address behind a reverse proxy: `ServerOptions.clientIp` and its ready-made
 * {@linkcode forwardedClientIp}. Every per-IP limit (`maxConnectionsPerIp`, `rateLimit.*PerIp`,
 * `delivery.maxParkedPerIp`, `streams.maxStreamsPerIp`) is keyed by what it answers; behind a
 * proxy the TCP peer is the proxy, for every client.
 *
 * A forwarding header is trusted only when the peer itself is a trusted proxy: a client that
 * talks to the server directly cannot pick its own address by sending one.
 *
 * @example
 * ```ts
 * import { forwardedClientIp } from "./client_ip.ts";
 * const clientIp = forwardedClientIp({ trustedProxies: ["10.0.0.0/8"] });
 * const request = new Request("http://x/chsk", { headers: { "x-forwarded-for": "203.0.113.7" } });
 * console.assert(clientIp(request, "10.1.2.3") === "203.0.113.7"); // from the proxy
 * console.assert(clientIp(request, "198.51.100.9") === "198.51.100.9"); // direct: the peer
 * ```
 *
 * @module
 */
import { formatIp, type IpBlock, parseCidr, parseIp } from "./ip_address.ts";

/**
 * The address an upgrade is counted under by the per-IP limits, from the request and the TCP
 * peer's address (`null`: the runtime did not tell); `null` means unknown (no per-IP limit).
 */
export type ClientIp = (request: Request, peer: string | null) => string | null;

/** The header a proxy names the client in. */
export type ForwardedHeader = "x-forwarded-for" | "x-real-ip" | "forwarded";

/** Options of {@linkcode forwardedClientIp}. */
export interface ForwardedClientIpOptions {
  /**
   * The proxies whose header is believed: exact addresses (`"127.0.0.1"`, `"::1"`) or CIDR blocks
   * (`"10.0.0.0/8"`, `"fd00::/8"`). At least one; no default, as trusting the header from anyone
   * lets every client choose its own address.
   */
  trustedProxies: readonly string[];
  /**
   * The header the proxies set: `x-forwarded-for` (a list, each proxy appends its peer),
   * `x-real-ip` (one address, set by the proxy) or RFC 7239 `forwarded` (its `for=` parameters).
   * @default {"x-forwarded-for"}
   */
  header?: ForwardedHeader;
}

/** Proxies in one chain looked at, at most: past it the header is not believed. */
const MAX_HOPS = 32;

/**
 * One header entry's address: spaces, RFC 7239 quotes, `[v6]:port` and `v4:port` taken off;
 * `null` when it is no address (`unknown`, an obfuscated `_name`, garbage).
 */
function entryAddress(entry: string, forwarded: boolean): Uint8Array | null {
  let text = entry.trim();
  if (forwarded) {
    let value: string | null = null;
    for (const pair of text.split(";")) {
      const eq = pair.indexOf("=");
      if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === "for") {
        value = pair.slice(eq + 1).trim();
      }
    }
    if (value === null) return null;
    text = value.length >= 2 && value.startsWith('"') && value.endsWith('"')
      ? value.slice(1, -1)
      : value;
  }
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    const port = text.slice(close + 1);
    if (close < 0 || (port !== "" && !/^:\d{1,5}$/.test(port))) return null;
    return parseIp(text.slice(1, close));
  }
  const colon = text.indexOf(":");
  if (colon >= 0 && text.includes(".") && colon === text.lastIndexOf(":")) {
    if (!/^\d{1,5}$/.test(text.slice(colon + 1))) return null;
    text = text.slice(0, colon); // IPv4 with a port
  }
  return parseIp(text);
}

/**
 * A {@linkcode ClientIp} for a server behind reverse proxies. When the peer is one of
 * `trustedProxies`, the client is the right-most address of the header that is not a trusted
 * proxy (the left-most when all are); otherwise, or when the header is missing or that entry is
 * no valid address, the peer. Addresses come back canonical (`formatIp`).
 *
 * @throws {RangeError} when `trustedProxies` is empty.
 * @throws {TypeError} on an entry that is no address or CIDR block, or an unknown `header`.
 */
export function forwardedClientIp(options: ForwardedClientIpOptions): ClientIp {
  const header = options.header ?? "x-forwarded-for";
  if (header !== "x-forwarded-for" && header !== "x-real-ip" && header !== "forwarded") {
    throw new TypeError(`forwardedClientIp: unknown header ${JSON.stringify(header)}`);
  }
  if (options.trustedProxies.length === 0) {
    throw new RangeError("forwardedClientIp: trustedProxies must name at least one proxy");
  }
  const blocks: IpBlock[] = options.trustedProxies.map((text) => {
    const block = parseCidr(String(text).trim());
    if (block === null) {
      throw new TypeError(
        `forwardedClientIp: trustedProxies entry ${
          JSON.stringify(text)
        } is no address or CIDR block`,
      );
    }
    return block;
  });
  const trusted = (bytes: Uint8Array): boolean => blocks.some((b) => b.contains(bytes));
  const forwarded = header === "forwarded";
  return (request, peer) => {
    if (peer === null) return null;
    const peerBytes = parseIp(peer);
    if (peerBytes === null || !trusted(peerBytes)) return peer;
    const value = request.headers.get(header);
    if (value === null) return peer;
    if (header === "x-real-ip") {
      const addr = entryAddress(value, false);
      return addr === null ? peer : formatIp(addr);
    }
    // Right to left: each proxy appended the peer it saw, so the entries a client wrote itself
    // are left of the first one no trusted proxy wrote.
    let end = value.length;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const comma = end > 0 ? value.lastIndexOf(",", end - 1) : -1;
      const addr = entryAddress(value.slice(comma + 1, end), forwarded);
      if (addr === null) return peer;
      if (!trusted(addr)) return formatIp(addr);
      if (comma < 0) return formatIp(addr); // every entry a trusted proxy: the furthest
      end = comma;
    }
    return peer;
  };
}

/**
 * The address the limits count an upgrade under: `clientIp`'s answer in canonical form, or the
 * peer's when it throws (reported to `onError`) or answers something that is no address.
 */
export function resolveClientIp(
  clientIp: ClientIp,
  request: Request,
  peer: string | null,
  onError: (error: unknown, context: { where: string }) => void,
): string | null {
  let ip;
  try {
    ip = clientIp(request, peer);
  } catch (e) {
    onError(e, { where: "clientIp" });
    return peer;
  }
  if (ip === null) return null;
  if (ip === peer) return peer;
  const bytes = typeof ip === "string" ? parseIp(ip) : null;
  return bytes === null ? peer : formatIp(bytes);
}
