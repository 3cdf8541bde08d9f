/**
 * Browser→server telemetry ingest: clients send `sente-lite/telemetry` batches through
 * sente-lite to the server plug-in, which stamps them and writes per-session JSONL files.
 * Baseline in the same run: a raw `Deno.serve` WebSocket that receives the same batches and
 * appends the same lines to a file (no protocol, no stamping, no rate limit).
 *
 * `deno run -A bench/telemetry_ingest.ts [--seconds 3] [--clients 4] [--batch 100]`
 * Prints a table and one JSON line: {"bench":"telemetry-ingest", raw, senteLite, ratio}.
 */
import { parseArgs } from "node:util";
import { connect } from "../client.ts";
import { wireTransforms } from "../client_wire.ts";
import { createServer } from "../server.ts";
import { telemetryPlugin } from "../lib/telemetry/server_plugin.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "3" },
    clients: { type: "string", default: "4" },
    batch: { type: "string", default: "100" },
  },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const BATCH = Number(values.batch);

const signal = (i: number) => ({
  time: new Date().toISOString(),
  kind: "error",
  level: "error",
  id: "page/crash",
  ns: "app.ui",
  msg: "the page broke",
  data: { route: "/checkout", i },
  error: { name: "Error", message: "boom", stack: "Error: boom\n    at f (app.js:1:1)" },
});
const batch = { signals: Array.from({ length: BATCH }, (_, i) => signal(i)) };

interface Result {
  signalsPerSec: number;
  batches: number;
  seconds: number;
}

async function runSenteLite(dir: string, compress: boolean): Promise<Result> {
  const server = createServer({ rateLimit: false, onError: () => {} });
  const plugin = telemetryPlugin({ dir, ratePerSec: 1e9, burst: 1e9, maxBatch: BATCH });
  plugin.install(server);
  const handle = await server.serve({ port: 0 });
  const clients = Array.from(
    { length: CLIENTS },
    () => connect(handle.url, { onError: () => {}, wire: compress ? wireTransforms() : false }),
  );
  await Promise.all(clients.map((c) => c.ready));
  let batches = 0;
  const end = performance.now() + SECONDS * 1000;
  const start = performance.now();
  // Each client keeps 4 batches in flight; a batch is acknowledged by the plug-in's reply.
  await Promise.all(clients.map(async (c) => {
    const lane = async () => {
      while (performance.now() < end) {
        await c.request("sente-lite/telemetry", batch, { timeoutMs: 30_000 });
        batches++;
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
  }));
  const seconds = (performance.now() - start) / 1000;
  plugin.flush();
  plugin.close();
  for (const c of clients) c.close();
  await handle.close();
  return { signalsPerSec: Math.round((batches * BATCH) / seconds), batches, seconds };
}

async function runRaw(dir: string): Promise<Result> {
  const file = await Deno.open(`${dir}/raw.jsonl`, { create: true, append: true });
  const encoder = new TextEncoder();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => {
      const { id, signals } = JSON.parse(e.data as string);
      let out = "";
      for (const s of signals) out += JSON.stringify(s) + "\n";
      file.writeSync(encoder.encode(out));
      socket.send(JSON.stringify({ id, ok: true }));
    };
    return response;
  });
  const url = `ws://127.0.0.1:${server.addr.port}/`;
  let batches = 0;
  const end = performance.now() + SECONDS * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const ws = new WebSocket(url);
    await new Promise((r) => ws.onopen = r);
    const waiting = new Map<number, () => void>();
    ws.onmessage = (e) => {
      const { id } = JSON.parse(e.data);
      waiting.get(id)?.();
      waiting.delete(id);
    };
    let next = 0;
    const lane = async () => {
      while (performance.now() < end) {
        const id = next++;
        await new Promise<void>((r) => {
          waiting.set(id, r);
          ws.send(JSON.stringify({ id, ...batch }));
        });
        batches++;
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    ws.close();
    await new Promise((r) => ws.onclose = r);
  }));
  const seconds = (performance.now() - start) / 1000;
  file.close();
  await server.shutdown();
  return { signalsPerSec: Math.round((batches * BATCH) / seconds), batches, seconds };
}

const dir = await Deno.makeTempDir({ prefix: "sente-lite-ingest-" });
try {
  const raw = await runRaw(dir);
  // Plain frames, as the baseline sends; and with the default wire compression of our client.
  const senteLite = await runSenteLite(dir, false);
  const senteLiteCompressed = await runSenteLite(dir, true);
  const ratio = Math.round((senteLite.signalsPerSec / raw.signalsPerSec) * 1000) / 1000;
  console.table({ raw, senteLite, senteLiteCompressed });
  console.log(`sente-lite ingest / raw socket + file: ${ratio}`);
  console.log(JSON.stringify({
    bench: "telemetry-ingest",
    config: { seconds: SECONDS, clients: CLIENTS, batch: BATCH },
    raw,
    senteLite,
    senteLiteCompressed,
    ratio,
  }));
} finally {
  await Deno.remove(dir, { recursive: true });
}
