/**
 * The demo server: `demo/echo`, `demo/broadcast`, open channels, the chat page at `/`, the client
 * bundle at `/client.js` and `/health`.
 *
 * @module
 */
import { createServer, type Server } from "../server/server.ts";
import type { ServerOptions } from "../server/options.ts";
import { bundleClient } from "./bundle.ts";
import { demoPage } from "./page.ts";

/** Makes the demo server (not listening yet). */
export function createDemoServer(options: ServerOptions = {}): Server {
  const started = Date.now();
  let bundle: Promise<string> | undefined;
  const path = options.path ?? "/chsk";
  const server: Server = createServer({
    ...options,
    dialects: { original: true, ...options.dialects }, // the original sente-lite clients
    fallback: async (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/") {
        return new Response(demoPage(path), {
          headers: { "content-type": "text/html; charset=utf-8" },
        });
      }
      if (pathname === "/client.js") {
        bundle ??= bundleClient();
        try {
          return new Response(await bundle, {
            headers: { "content-type": "text/javascript; charset=utf-8" },
          });
        } catch (e) {
          bundle = undefined;
          return new Response(`bundling the client failed: ${e}\n`, { status: 500 });
        }
      }
      if (pathname === "/health") {
        const s = server.stats();
        return Response.json({
          status: "ok",
          uptimeMs: Date.now() - started,
          connections: s.connections,
          uids: s.uids,
          channels: s.channels,
        });
      }
      return options.fallback?.(request) ?? new Response("Not found\n", { status: 404 });
    },
  });
  server.on("demo/echo", (msg) => {
    if (msg.reply) msg.reply(msg.data ?? null);
    else msg.send("demo/echo", msg.data);
  });
  server.on("demo/broadcast", (msg) => {
    server.broadcast("demo/broadcast", msg.data);
    return msg.reply ? { ok: true } : undefined;
  });
  return server;
}
