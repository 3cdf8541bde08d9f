/**
 * Idle memory per connection: the server process's RSS (after a full GC: `--expose-gc` on Deno,
 * `Bun.gc(true)` on Bun) before and after `N` handshaken idle connections, sente-lite against the
 * raw runtime (`Deno.serve` + `upgradeWebSocket` keeping the sockets in a Set; `Bun.serve` with
 * each socket subscribed to one topic), in the same run, rounds interleaved.
 *
 * The clients run in their own process (Bun by default), so each process stays under its own
 * open-file limit: N = 19,000 fits a hard limit of 20,000 per process.
 *
 * Prints a table and, on the last line, `{"bench":"memory",…}` with KB per connection.
 *
 * Run: `deno run -A bench/memory.ts [--deno-counts 10000] [--bun-counts 10000,19000]
 * [--rounds 1] [--client-runtime bun]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  printTable,
  progress,
  round,
  type Runtime,
  serverStats,
  type Side,
  startClients,
  startServer,
} from "./_proc.ts";
import { LIFTED } from "./_bench_server.ts";

/** One measurement. */
interface MemoryResult {
  runtime: Runtime;
  side: Side;
  connections: number;
  round: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  kbPerConnection: number;
  connectMs: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "deno-counts": { type: "string", default: "10000" },
    "bun-counts": { type: "string", default: "10000,19000" },
    rounds: { type: "string", default: "1" },
    "client-runtime": { type: "string", default: "bun" },
  },
  strict: true,
});
const counts = (raw: string) => raw ? raw.split(",").map(Number) : [];
const plan: [Runtime, number][] = [
  ...counts(values["deno-counts"]).map((n): [Runtime, number] => ["deno", n]),
  ...counts(values["bun-counts"]).map((n): [Runtime, number] => ["bun", n]),
];
const rounds = Number(values.rounds);
const clientRuntime = values["client-runtime"] as Runtime;
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(
  runtime: Runtime,
  side: Side,
  n: number,
  roundNo: number,
): Promise<MemoryResult> {
  const { proc: server, ready } = await startServer(runtime, side);
  const clients = startClients(clientRuntime, {
    task: "hold",
    url: ready.url,
    side,
    count: n,
    concurrency: 100,
  });
  try {
    await settle(500);
    const before = await serverStats(server, true);
    const up = await clients.next<{ ready: number; errors: number; ms: number }>("ready", 300_000);
    if (up.ready !== n) throw new Error(`only ${up.ready} of ${n} connected (${up.errors} errors)`);
    await settle(1000);
    const after = await serverStats(server, true);
    if (after.connections !== n) progress(`WARNING: server counts ${after.connections}`);
    const r: MemoryResult = {
      runtime,
      side,
      connections: n,
      round: roundNo,
      rssBeforeMb: round(before.rss / 2 ** 20, 1),
      rssAfterMb: round(after.rss / 2 ** 20, 1),
      kbPerConnection: round((after.rss - before.rss) / n / 1024, 2),
      connectMs: up.ms,
    };
    progress(`${runtime} ${side} ${n}: ${r.kbPerConnection} KB/conn`);
    return r;
  } finally {
    await clients.send({ op: "exit" }).catch(() => {});
    await clients.stop();
    await server.stop();
  }
}

const all: MemoryResult[] = [];
const failures: string[] = [];
for (let roundNo = 1; roundNo <= rounds; roundNo++) {
  for (const [runtime, n] of plan) {
    const sides: Side[] = roundNo % 2 === 1 ? ["raw", "sente"] : ["sente", "raw"];
    for (const side of sides) {
      try {
        all.push(await measure(runtime, side, n, roundNo));
      } catch (e) {
        const why = `${runtime} ${side} ${n}: ${(e as Error).message.slice(0, 300)}`;
        progress(`FAILED ${why}`);
        failures.push(why);
      }
    }
  }
}

const rows = [["runtime", "side", "conns", "round", "RSS before MB", "RSS after MB", "KB/conn"]];
for (const r of all) {
  rows.push([
    r.runtime,
    r.side,
    String(r.connections),
    String(r.round),
    r.rssBeforeMb.toFixed(1),
    r.rssAfterMb.toFixed(1),
    r.kbPerConnection.toFixed(2),
  ]);
}
printTable(rows);
const summary = [];
for (const [runtime, n] of plan) {
  const med = (side: Side) => {
    const rs = all.filter((r) => r.runtime === runtime && r.side === side && r.connections === n)
      .sort((a, b) => a.kbPerConnection - b.kbPerConnection);
    return rs[(rs.length - 1) >> 1];
  };
  const raw = med("raw");
  const sente = med("sente");
  if (!raw || !sente) continue;
  const extraKb = round(sente.kbPerConnection - raw.kbPerConnection, 2);
  console.log(`${runtime} ${n}: sente-lite − raw = ${extraKb} KB per connection (goal <= 1)`);
  summary.push({ runtime, connections: n, raw, sente, extraKb });
}
console.log(`sente-lite limits lifted: ${LIFTED}`);
console.log(JSON.stringify({
  bench: "memory",
  summary,
  failures,
  config: {
    plan,
    rounds,
    deno: Deno.version.deno,
    clientProcess: `${clientRuntime} subprocess`,
    lifted: LIFTED,
    rss: "server process RSS after a full GC, before and after the connections",
  },
}));
