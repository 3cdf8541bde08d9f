/**
 * The server side of the raw-frame tests under another runtime: `bun _bun_raw_server.ts` (or
 * `deno run -A`) serves a Hub on 127.0.0.1 with a free port and prints one JSON line per event:
 * `{"port", "url", "runtime"}` once listening, then `{"closed", "code", "reason"}` (the client id)
 * whenever a connection was cleaned up. `test/echo` echoes; `test/stats` answers `stats()`'s
 * `connections`. It runs until killed.
 */
import { createServer } from "../../lib/server/server.ts";

const server = createServer({
  onError: () => {},
  onClose: (conn, code, reason) => {
    console.log(JSON.stringify({ closed: conn.clientId, code, reason }));
  },
});
server.on("test/echo", (msg) => msg.data);
server.on("test/stats", () => ({ connections: server.stats().connections }));
const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
console.log(JSON.stringify({
  port: handle.port,
  url: handle.url,
  runtime: "Bun" in globalThis ? "bun" : "deno",
}));
