/**
 * Origin checks against cross-site WebSocket hijacking (CSWSH; Sente's CVE-2019-1000022).
 *
 * Browsers always send `Origin` on WebSocket upgrades and a page cannot forge it, so checking it
 * stops another site's page from opening a socket with the user's cookies. Non-browser clients may
 * send any Origin or none; they are not what this guards against, so a missing Origin passes.
 *
 * @module
 */

/** Which origins may connect: `"*"`, a list of exact origins, or a predicate. */
export type AllowedOrigins =
  | "*"
  | readonly string[]
  | ((origin: string, request: Request) => boolean);

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** `true` when `hostname` is a loopback name or address. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname) || hostname.startsWith("127.") || hostname.endsWith(".localhost");
}

/**
 * Whether the upgrade's Origin is allowed. Without a configured policy: any origin when the
 * server is reached on a loopback host (development), else only the server's own origin.
 */
export function originAllowed(request: Request, allowed: AllowedOrigins | undefined): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  if (allowed === "*") return true;
  if (typeof allowed === "function") return allowed(origin, request);
  if (Array.isArray(allowed)) return allowed.includes(origin);
  const host = request.headers.get("host") ?? new URL(request.url).host;
  const hostname = host.replace(/:\d+$/, "");
  if (isLoopbackHost(hostname)) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
