/**
 * Batching through the real Hub and Client: 64-byte events in bursts of 1000, with and without
 * batching negotiated, in the same run. The server runs in this thread, the client in a Worker
 * (each side gets a core, as in production). Prints a table and a final JSON line.
 *
 * `deno run -A bench/batching.ts [--total 200000]`
 */
import { parseArgs } from "node:util";
import { createServer } from "../server.ts";
import { turn } from "./_turn.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    total: { type: "string", default: "200000" },
    burst: { type: "string", default: "1000" },
  },
});
const TOTAL = Number(values.total);
const BURST = Number(values.burst);

async function run(direction: "c2s" | "s2c", batching: boolean) {
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => done = r);
  const server = createServer({
    rateLimit: false,
    delivery: false,
    onError: () => {},
  });
  server.on("bench/e", () => {
    if (++received === TOTAL) done();
  });
  const handle = await server.serve({ port: 0 });
  const worker = new Worker(new URL("./_batching_worker.ts", import.meta.url), { type: "module" });
  const ready = new Promise<void>((r) => {
    worker.onmessage = (e) => {
      if (e.data.ready) r();
      if (e.data.done) done();
    };
  });
  worker.postMessage({ url: handle.url, batching, direction, total: TOTAL, burst: BURST });
  await ready;
  const framesBefore = direction === "c2s" ? server.stats().messagesIn : server.stats().messagesOut;
  const start = performance.now();
  if (direction === "s2c") {
    for (let sent = 0; sent < TOTAL; sent += BURST) {
      for (let i = 0; i < BURST; i++) {
        server.send("sente/nil-uid", "bench/e", { t: "x".repeat(24), n: 1 });
      }
      await turn();
    }
  }
  await finished;
  const ms = performance.now() - start;
  const frames = (direction === "c2s" ? server.stats().messagesIn : server.stats().messagesOut) -
    framesBefore;
  worker.terminate();
  await handle.close();
  return { msgPerSec: Math.round(TOTAL / ms * 1000), frames, ms: Math.round(ms) };
}

const results: Record<string, unknown> = {};
for (const direction of ["c2s", "s2c"] as const) {
  const without = await run(direction, false);
  const withBatching = await run(direction, true);
  const ratio = Math.round(withBatching.msgPerSec / without.msgPerSec * 100) / 100;
  results[direction] = { without, with: withBatching, ratio };
  console.log(
    `${direction}: without ${without.msgPerSec} msg/s (${without.frames} frames); ` +
      `with ${withBatching.msgPerSec} msg/s (${withBatching.frames} frames); ${ratio}× (goal ≥ 2×)`,
  );
}
console.log(
  JSON.stringify({ bench: "batching-hub-client", total: TOTAL, burst: BURST, ...results }),
);
