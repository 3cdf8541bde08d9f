/**
 * The Bun side of `native_fanout_test.ts`: a server speaking JSON and EDN (and Sente), with
 * `test/bcast-then-send` (a broadcast, then a push to the sender: per-connection order across
 * the native publish) and `test/publish` (a channel publish). Prints `{"url"}` once listening.
 */
import { createServer } from "../../server.ts";
import { jsonPacker } from "../../lib/packers/json.ts";
import { ednPacker } from "../../lib/packers/edn.ts";

const server = createServer({ packers: [jsonPacker, ednPacker()], onError: () => {} });
server.on("test/bcast-then-send", (msg) => {
  const n = msg.data as number;
  const reached = server.broadcast("test/b", n);
  msg.send("test/after", n);
  return { reached };
});
server.on("test/publish", (msg) => ({ delivered: server.publish("room", msg.data) }));
const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
console.log(JSON.stringify({ url: handle.url, runtime: "Bun" in globalThis ? "bun" : "deno" }));
