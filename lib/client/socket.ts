// This module is browser compatible.
/**
 * The client's WebSocket: the upgrade request of one connection attempt (URL with the client's
 * query, subprotocols carrying its secrets) and the view of an open socket that wire transforms
 * and streams write to.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import { resumeProtocol } from "../protocol/resume_token.ts";
import { streamsProtocol } from "../protocol/stream_session.ts";
import { SUBPROTOCOL, tokenProtocol } from "../protocol/token.ts";
import type { ChannelCursors } from "./channel_cursors.ts";
import type { ResolvedClientOptions, UrlProvider } from "./options.ts";

/**
 * The WebSocket URL of `raw`: in a page a path (`"/chsk"`) is resolved against the page, and
 * `http(s):` becomes `ws(s):`.
 */
export function wsUrl(raw: string | URL): URL {
  const url = new URL(raw, (globalThis as { location?: { href: string } }).location?.href);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  return url;
}

/**
 * Checks the `url` argument of `connect()` (a provider's URLs are checked on each attempt).
 * @throws {TypeError} when it is not a ws(s) URL, a path in a page, or a function.
 */
export function checkUrl(url: UrlProvider): void {
  if (typeof url === "string" || url instanceof URL) {
    let u: URL;
    try {
      u = wsUrl(url);
    } catch (e) {
      throw new TypeError(
        `url must be an absolute ws(s) URL (or, in a page, a path), got ${
          JSON.stringify(String(url))
        }`,
        {
          cause: e,
        },
      );
    }
    if (!["ws:", "wss:", "http:", "https:"].includes(u.protocol)) {
      throw new TypeError(`url must use ws: or wss:, got ${JSON.stringify(u.href)}`);
    }
  } else if (typeof url !== "function") {
    throw new TypeError(`url must be a string, URL or function, got ${typeof url}`);
  }
}

/**
 * The URL of one attempt: `raw` with `params`, the client id and what the client offers (its
 * packer, wire transforms, and with resume the last server seq and channel cursors).
 * The `"sente"` dialect sends exactly Sente's query.
 */
export function upgradeUrl(
  raw: string | URL,
  o: ResolvedClientOptions,
  clientId: string,
  csrfToken: string | undefined,
  inSeq: number,
  cursors: ChannelCursors,
): URL {
  const url = wsUrl(raw);
  for (const [k, v] of Object.entries(o.params)) url.searchParams.set(k, v);
  url.searchParams.set("client-id", clientId);
  if (o.dialect === "sente") {
    // Exactly Sente's query (sente-wire.md §3.5): a `packer` would make our servers pick
    // the sente-lite dialect, and a Sente server ignores the rest.
    if (typeof csrfToken === "string") url.searchParams.set("csrf-token", csrfToken);
  } else {
    // sente-lite-only parameters go here.
    url.searchParams.set("packer", o.packer.name);
    const offer = o.wire?.offer(o.packer.name) ?? null;
    if (offer !== null) url.searchParams.set("wire", offer);
    // The stream session name is a secret: it travels as a subprotocol (upgradeProtocols).
    if (o.resume) {
      url.searchParams.set("resume", String(inSeq));
      url.searchParams.set("cseq", cursors.param());
    }
  }
  return url;
}

/**
 * The subprotocols of one attempt. Browsers cannot set headers on an upgrade: secrets (the access
 * token, the resume token, the stream session name) travel as subprotocols (not in the URL, which
 * lands in logs); the server selects "sente-lite" and echoes none of them.
 */
export function upgradeProtocols(
  token: string | null | undefined,
  resumeToken: string | null,
  streamSession: string | null = null,
): string[] {
  const protocols = [SUBPROTOCOL];
  if (token) protocols.push(tokenProtocol(token));
  if (resumeToken !== null) protocols.push(resumeProtocol(resumeToken));
  if (streamSession !== null) protocols.push(streamsProtocol(streamSession));
  return protocols;
}

/** What wire transforms and streams write to: `ws` itself, seen through a narrow interface. */
export function socketSink(ws: WebSocket): {
  send(frame: Frame): void;
  readonly bufferedAmount: number;
} {
  return {
    send: (frame) => ws.send(frame as string),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
  };
}
