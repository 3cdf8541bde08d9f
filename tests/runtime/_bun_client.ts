/**
 * The Bun side of `cross_runtime_test.ts`: `bun _bun_client.ts <ws-url>` connects with the
 * sente-lite client, exercises request/reply, pushes, a channel and a server→client request
 * (the server's `test/kick` handler triggers them), prints one JSON line and exits 0. Any failure
 * or a stall longer than 10 s exits non-zero with the reason on stderr.
 */
import process from "node:process";
import { connect } from "../../client.ts";

const TIMEOUT_MS = 10_000;
const url = process.argv[2];
if (!url) {
  console.error("usage: bun tests/runtime/_bun_client.ts <ws-url>");
  process.exit(2);
}
const watchdog = setTimeout(() => {
  console.error(`_bun_client: no result within ${TIMEOUT_MS} ms`);
  process.exit(3);
}, TIMEOUT_MS);

try {
  const client = connect(url, { requestTimeoutMs: 5000, onError: (e) => console.error(e) });
  const handshake = await client.ready;
  const echo = await client.request("demo/echo", { text: "héllo from bun", n: [1, 2, 3] });
  const event = (id: string) => new Promise((resolve) => client.on(id, (data) => resolve(data)));
  const push = event("test/push");
  const broadcast = event("demo/broadcast");
  let gotChannel!: (message: unknown) => void;
  const channel = new Promise((resolve) => gotChannel = resolve);
  await client.subscribe("xr", (data, ctx) => gotChannel({ data, ...ctx }));
  client.onRequest("test/ask", (data) => ({ answer: data, runtime: "bun" }));
  const kick = await client.request("test/kick", { from: "bun" });
  client.send("demo/broadcast", { from: "bun" });
  const result = {
    runtime: "bun",
    version: (globalThis as { Bun?: { version: string } }).Bun?.version ?? null,
    uid: handshake.uid,
    connId: handshake.server?.connId ?? null,
    echo,
    kick,
    push: await push,
    broadcast: await broadcast,
    channel: await channel,
  };
  console.log(JSON.stringify(result));
  client.close();
  clearTimeout(watchdog);
} catch (e) {
  console.error("_bun_client failed:", e);
  process.exit(1);
}
