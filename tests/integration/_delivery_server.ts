/**
 * The server process of the delivery tests: `deno run -A _delivery_server.ts [port]` serves a
 * sente-lite server whose uid comes from the `uid` query parameter. `t/burst {"from", "count"}`
 * pushes numbered `t/n` events to the sender's uid; `t/up` events are printed as JSON lines, so
 * the test sees what the handler ran. Prints `{"ready":true,"port":N}` once listening; retries the
 * bind after a SIGKILL (the port may still be held for a moment).
 */
import { createServer } from "../../server.ts";
import { serveRebinding } from "../_rebind.ts";

const port = Number(Deno.args[0] ?? 0);
const server = createServer({
  onError: (e) => console.error("server error:", e),
  authenticate: (request) => new URL(request.url).searchParams.get("uid"),
});
server.on("t/burst", (msg) => {
  const { from, count } = msg.data as { from: number; count: number };
  for (let n = from; n < from + count; n++) server.send(msg.uid, "t/n", { n });
  return true;
});
server.on("t/up", (msg) => console.log(JSON.stringify({ up: (msg.data as { n: number }).n })));

const handle = await serveRebinding(server, port);
console.log(JSON.stringify({ ready: true, port: handle.port }));
