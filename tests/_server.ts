/** Starts a server on 127.0.0.1:0 for a test; `await using` closes it. */
import { createServer, type Server } from "../lib/server/server.ts";
import type { ServerOptions } from "../lib/server/options.ts";
import type { ServeHandle } from "../lib/adapters/types.ts";
import type { Backplane } from "../lib/backplane/backplane.ts";

export interface TestServer extends AsyncDisposable {
  server: Server;
  handle: ServeHandle;
  url: string;
  http: string;
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const server = createServer({ onError: () => {}, ...options });
  const handle = await server.serve({ port: 0 });
  return {
    server,
    handle,
    url: handle.url,
    http: `http://127.0.0.1:${handle.port}`,
    [Symbol.asyncDispose]: () => handle.close(),
  };
}

/** Resolves when `pred()` is true, checking after every macrotask; rejects after `timeoutMs`. */
export async function until(pred: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Serves `server` on 127.0.0.1:0 as if each request came from the address in its `test-ip` query
 * parameter (per-IP limits seen from several addresses on one machine). `base`: the `ws://` URL of
 * `/chsk`; shut `http` down when done.
 */
export function serveAsTestIp(
  server: Server,
): { http: Deno.HttpServer<Deno.NetAddr>; base: string } {
  const http = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (request) => {
      const hostname = new URL(request.url).searchParams.get("test-ip") ?? undefined;
      return server.handler(request, { remoteAddr: { hostname } });
    },
  );
  return { http, base: `ws://127.0.0.1:${http.addr.port}/chsk` };
}

/**
 * Resolves once `backplane`'s link is up: a server offers durable resume only then, so a test that
 * expects a resume token in its first handshake waits for this first.
 */
export function linkUp(backplane: Backplane): Promise<void> {
  return new Promise<void>((resolve) => {
    if (backplane.link.state === "up") resolve();
    backplane.link.watch((c) => c.to === "up" && resolve());
  });
}
