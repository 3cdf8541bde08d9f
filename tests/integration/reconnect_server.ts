/**
 * The server process of the reconnect tests: `deno run -A reconnect_server.ts [port]` serves a
 * sente-lite server (open channels, `test/echo`) and prints `{"ready":true,"port":N}` once
 * listening. On a restart after SIGKILL the port may still be held for a moment: it retries the
 * bind for up to 10 s. SIGTERM shuts down gracefully (every connection closed with 1001).
 */
import { createServer } from "../../server.ts";
import { serveRebinding } from "../_rebind.ts";

const port = Number(Deno.args[0] ?? 0);
const server = createServer({ onError: (e) => console.error("server error:", e) });
server.on("test/echo", (msg) => msg.data ?? null);

const handle = await serveRebinding(server, port);
console.log(JSON.stringify({ ready: true, port: handle.port }));

Deno.addSignalListener("SIGTERM", () => {
  handle.close().then(() => Deno.exit(0));
});
