/**
 * The Bun side of `cross_runtime_test.ts`: `bun _bun_server.ts` serves the demo server on
 * 127.0.0.1 with a free port, plus two test handlers, and prints
 * `{"port", "url", "runtime", "version"}` as one JSON line once listening. It runs until killed.
 */
import { createDemoServer } from "../../lib/demo/demo.ts";

const server = createDemoServer();
// Asks the calling connection `test/ask` (a server→client request) and replies with its answer.
server.on("test/ask-me", async (msg) => ({
  client: await server.request(msg.connId, "test/ask", msg.data, { timeoutMs: 5000 }),
}));
// Publishes to a channel from the server (`from: null`), replying with the subscriber count.
server.on("test/publish", (msg) => {
  const { channel, data } = msg.data as { channel: string; data: unknown };
  return { delivered: server.publish(channel, data) };
});
const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
console.log(JSON.stringify({
  port: handle.port,
  url: handle.url,
  runtime: "Bun" in globalThis ? "bun" : "deno",
  version: (globalThis as { Bun?: { version: string } }).Bun?.version ?? null,
}));
