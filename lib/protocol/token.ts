// This module is browser compatible.
/**
 * Reading an access token from an upgrade request: the `Authorization: Bearer` header (Deno,
 * Bun, Node clients), the `token` query parameter, or the `Sec-WebSocket-Protocol` header —
 * the one place a browser can put a secret on a WebSocket upgrade without it landing in URLs and
 * logs.
 *
 * The client offers the protocols `["sente-lite", "sente-lite.token.<base64url(token)>"]`; the
 * server answers with `sente-lite`, as browsers require an echoed protocol.
 *
 * @module
 */

/** The subprotocol sente-lite servers select. */
export const SUBPROTOCOL = "sente-lite";
/** The prefix of the subprotocol entry that carries a token. */
export const TOKEN_PROTOCOL_PREFIX = "sente-lite.token.";

function fromBase64Url(s: string): string | null {
  try {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(
      atob(b64 + "=".repeat((4 - b64.length % 4) % 4)),
      (c) => c.charCodeAt(0),
    );
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Encodes a token for the `Sec-WebSocket-Protocol` header (base64url without padding). */
export function tokenProtocol(token: string): string {
  const bytes = new TextEncoder().encode(token);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return TOKEN_PROTOCOL_PREFIX +
    btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The value after `prefix` of the first offered subprotocol that has it and passes `valid`, or
 * `null`: how the secrets that ride in subprotocol entries are read.
 */
export function readProtocolEntry(
  protocols: readonly string[],
  prefix: string,
  valid: (value: string) => boolean,
): string | null {
  for (let i = 0; i < protocols.length; i++) { // indexed: no iterator per upgrade
    const p = protocols[i];
    if (p.startsWith(prefix)) {
      const value = p.slice(prefix.length);
      if (valid(value)) return value;
    }
  }
  return null;
}

/** The subprotocols a request offered. */
export function offeredProtocols(request: Request): string[] {
  const raw = request.headers.get("sec-websocket-protocol");
  return raw ? raw.split(",").map((p) => p.trim()).filter(Boolean) : [];
}

/**
 * The token of an upgrade request, looked up in the header, then the subprotocols, then the
 * `token` query parameter; `null` when there is none.
 *
 * @example
 * ```ts
 * import { createServer, readToken } from "@sente-lite/sente-lite/server";
 *
 * const sessions = new Map([["secret-token", "alice"]]);
 * const server = createServer({
 *   authenticate: (request) => sessions.get(readToken(request) ?? "") ?? null, // header, subprotocol or query
 * });
 * console.log(server.connections().length);
 * ```
 */
export function readToken(request: Request): string | null {
  const auth = request.headers.get("authorization");
  const bearer = auth?.match(/^Bearer\s+(.+)$/i);
  if (bearer) return bearer[1].trim();
  for (const p of offeredProtocols(request)) {
    if (p.startsWith(TOKEN_PROTOCOL_PREFIX)) {
      const token = fromBase64Url(p.slice(TOKEN_PROTOCOL_PREFIX.length));
      if (token !== null) return token;
    }
  }
  return new URL(request.url).searchParams.get("token");
}
