/**
 * The Bun side of `native_fanout_test.ts`: a server speaking JSON and EDN (and Sente), with
 * `test/bcast-then-send` (a broadcast, then a push to the sender: per-connection order across
 * the native publish), `test/publish` (a channel publish) and `test/burst` (many broadcasts in
 * one synchronous loop; `test/timer` then tells how many still waited when a timer set right
 * after the loop ran). Prints `{"url"}` once listening.
 */
import { createServer } from "../../server.ts";
import { jsonPacker } from "../../lib/packers/json.ts";
import { ednPacker } from "../../lib/packers/edn.ts";

const server = createServer({
  packers: [jsonPacker, ednPacker()],
  onError: () => {},
  nativeTurnMs: 3, // a burst takes turns (test/burst)
});
server.on("test/bcast-then-send", (msg) => {
  const n = msg.data as number;
  const reached = server.broadcast("test/b", n);
  msg.send("test/after", n);
  return { reached };
});
server.on("test/publish", (msg) => ({ delivered: server.publish("room", msg.data) }));
let queuedAtTimer = -1;
server.on("test/burst", (msg) => {
  const n = msg.data as number;
  let reached = 0;
  for (let i = 1; i <= n; i++) reached = server.broadcast("test/k", i);
  const queued = server.stats().fanOutsQueued;
  setTimeout(() => queuedAtTimer = server.stats().fanOutsQueued, 0);
  return { reached, queued };
});
server.on("test/timer", () => ({ queuedAtTimer }));
const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
console.log(JSON.stringify({ url: handle.url, runtime: "Bun" in globalThis ? "bun" : "deno" }));
