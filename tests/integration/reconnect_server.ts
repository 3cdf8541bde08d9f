/**
 * The server process of the reconnect tests: `deno run -A reconnect_server.ts [port]` serves a
 * sente-lite server (open channels, `test/echo`) and prints `{"ready":true,"port":N}` once
 * listening. On a restart after SIGKILL the port may still be held for a moment: it retries the
 * bind for up to 10 s. SIGTERM shuts down gracefully (every connection closed with 1001).
 */
import { createServer } from "../../server.ts";

const port = Number(Deno.args[0] ?? 0);
const server = createServer({ onError: (e) => console.error("server error:", e) });
server.on("test/echo", (msg) => msg.data ?? null);

let handle;
for (let i = 0;; i++) {
  try {
    handle = await server.serve({ port });
    break;
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse) || i >= 200) throw e;
    await new Promise((r) => setTimeout(r, 50));
  }
}
console.log(JSON.stringify({ ready: true, port: handle.port }));
const h = handle;
Deno.addSignalListener("SIGTERM", () => {
  h.close().then(() => Deno.exit(0));
});
