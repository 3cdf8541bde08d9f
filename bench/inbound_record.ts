/**
 * The cost of waiting for each handled record (docs/scaling.md, "at least once across a crash"):
 * on a node of a cluster, after a numbered client event ran, its connection's next events wait
 * until the record is written to Redis (one event-loop hop when events arrive back to back). One
 * client (or `clients` clients at once) sends `count` numbered `send()`s in bursts of `burst` to
 * a server on a Redis backplane; timed until the handler saw them all. Baseline in the same run: the same server with the wait
 * off (its store's `written` removed), rounds alternated. Server, client and redis-server share
 * the machine.
 *
 *   deno run -A bench/inbound_record.ts [count=20000] [burst=100] [rounds=4] [clients=1]
 *
 * Prints one JSON object: sends/s of each (median of the rounds) and the ratio.
 */
import { connect } from "../client.ts";
import { redisBackplane } from "../redis.ts";
import { createServer } from "../server.ts";
import { startRedis } from "../tests/_redis.ts";

const COUNT = Number(Deno.args[0] ?? 20_000);
const BURST = Number(Deno.args[1] ?? 100);
const ROUNDS = Number(Deno.args[2] ?? 4);
const CLIENTS = Number(Deno.args[3] ?? 1);
const EACH = Math.ceil(COUNT / CLIENTS);

await using redis = await startRedis();

async function node(wait: boolean) {
  const backplane = redisBackplane({ url: redis.url, prefix: wait ? "w" : "n" });
  if (!wait) (backplane.store as { written?: unknown }).written = undefined;
  const server = createServer({ backplane, rateLimit: false, authenticate: () => "u" });
  let seen = 0;
  let done: (() => void) | null = null;
  server.on("b/n", () => {
    if (++seen === EACH * CLIENTS) done?.();
  });
  await new Promise<void>((r) => {
    if (backplane.link.state === "up") r();
    backplane.link.watch((c) => c.to === "up" && r());
  });
  const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
  const clients = Array.from({ length: CLIENTS }, () => connect(handle.url, { onError: () => {} }));
  await Promise.all(clients.map((c) => c.ready));
  return {
    async round(): Promise<number> {
      seen = 0;
      const all = new Promise<void>((r) => done = r);
      const t0 = performance.now();
      for (let n = 1; n <= EACH; n++) {
        for (const client of clients) client.send("b/n", n);
        if (n % BURST === 0) await new Promise((r) => setTimeout(r, 0));
      }
      await all;
      return EACH * CLIENTS / ((performance.now() - t0) / 1000);
    },
    async close() {
      for (const client of clients) client.close();
      await handle.close();
      await backplane.close();
    },
  };
}

const waiting = await node(true);
const plain = await node(false);
const rates: Record<"wait" | "nowait", number[]> = { wait: [], nowait: [] };
await waiting.round(); // warm up
await plain.round();
for (let i = 0; i < ROUNDS; i++) {
  rates.wait.push(await waiting.round());
  rates.nowait.push(await plain.round());
}
await waiting.close();
await plain.close();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const wait = Math.round(median(rates.wait));
const nowait = Math.round(median(rates.nowait));
console.log(JSON.stringify({
  runtime: `deno ${Deno.version.deno}`,
  count: COUNT,
  burst: BURST,
  rounds: ROUNDS,
  clients: CLIENTS,
  sends_per_s_wait: wait,
  sends_per_s_nowait: nowait,
  ratio: +(wait / nowait).toFixed(2),
  all: rates,
}));
