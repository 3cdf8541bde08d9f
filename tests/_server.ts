/** Starts a server on 127.0.0.1:0 for a test; `await using` closes it. */
import { createServer, type Server } from "../lib/server/server.ts";
import type { ServerOptions } from "../lib/server/options.ts";
import type { ServeHandle } from "../lib/adapters/types.ts";

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
