/** Helpers for test server processes that are killed and restarted on the same port. */
import type { ServeHandle, Server } from "../server.ts";

/**
 * Serves on `port`, retrying the bind for up to 10 s: after a SIGKILL the old process's socket
 * may hold the port for a moment.
 */
export async function serveRebinding(server: Server, port: number): Promise<ServeHandle> {
  for (let i = 0;; i++) {
    try {
      return await server.serve({ port });
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse) || i >= 200) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
