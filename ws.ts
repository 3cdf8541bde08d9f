/**
 * A `WebSocket` constructor for Deno (and Node) script clients, built on the
 * [`ws`](https://www.npmjs.com/package/ws) npm package: pass it as `connect`'s `WebSocket`
 * option.
 *
 * Why: Deno's own `WebSocket` client does not set `TCP_NODELAY`, so every client→server frame
 * of about 1 KB or more waits for the server's delayed ACK (Nagle's algorithm): 44 ms per frame
 * on Linux. `ws` sets `TCP_NODELAY`, and the same frames take well under a
 * millisecond (figures in docs/performance.md). Browsers and Bun are not affected; this module
 * is for server-side scripts only and is not part of the browser-safe client entrypoint.
 *
 * `ws` must be installed (`npm install ws`, or `deno add npm:ws`); it is imported as `ws`.
 *
 * @example Connect a Deno script client through `ws`
 * ```ts ignore
 * import { connect } from "@sente-lite/sente-lite/client";
 * import { NodeWebSocket } from "@sente-lite/sente-lite/ws";
 *
 * const client = connect("ws://127.0.0.1:3000/chsk", { WebSocket: NodeWebSocket });
 * await client.ready;
 * // A 4 KB request no longer waits ~44 ms for the server's delayed ACK.
 * console.log(await client.request("demo/echo", "x".repeat(4096)));
 * client.close();
 * ```
 *
 * @module
 */
import WS from "ws";
import type { WebSocketConstructor } from "./lib/client/options.ts";

export type { WebSocketConstructor };

/** The `ws` constructor's shape as used here (the package ships no types). */
type WsConstructor = new (
  url: string,
  protocols: string | string[] | undefined,
  options: {
    perMessageDeflate: boolean;
    finishRequest: (request: { setHeader(name: string, value: string): void; end(): void }) => void;
  },
) => WebSocket;

const Base = WS as unknown as WsConstructor;

/**
 * The `WebSocket` class of the `ws` package, with the browser's constructor signature
 * (`new NodeWebSocket(url, protocols?)`): `binaryType = "arraybuffer"`, subprotocols (the access
 * token travels in one), `bufferedAmount`, `close(code, reason)` and the `on*` handlers behave as
 * the client expects. `permessage-deflate` is not offered, as Deno's and Bun's clients don't:
 * sente-lite compresses on its own (docs/wire.md).
 */
export const NodeWebSocket: WebSocketConstructor = class NodeWebSocket extends Base {
  /** Opens `url` offering `protocols`, without `permessage-deflate`. */
  constructor(url: string, protocols?: string | string[]) {
    const list = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols];
    super(url, protocols, {
      perMessageDeflate: false,
      finishRequest(request) {
        // `ws` joins subprotocols with "," and Deno.upgradeWebSocket only splits on ", ", so
        // a token offer ("sente-lite,sente-lite.token.…") would get HTTP 400 from a Deno server.
        if (list.length > 1) request.setHeader("Sec-WebSocket-Protocol", list.join(", "));
        request.end();
      },
    });
  }
};
