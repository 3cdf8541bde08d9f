/**
 * Idle memory per connection: the server process's RSS and JS heap (after a full GC:
 * `--expose-gc` and V8's memory-reducing `gc({flavor: "last-resort"})` on Deno, so the young
 * generation is back at its minimum size; `Bun.gc(true)` on Bun) before any client is started
 * and after `N`
 * handshaken idle connections (counted by the server), sente-lite against the raw runtime (`Deno.serve` + `upgradeWebSocket` keeping the sockets in a Set; `Bun.serve` with
 * each socket subscribed to one topic), in the same run, rounds interleaved.
 *
 * The clients run in their own processes (Bun by default; at most `--per-process` sockets each),
 * so each process stays under its own open-file limit; every process's soft limit is raised to
 * the hard one (20,000 here), which N = 19,000 fits on the server side.
 *
 * Socket.IO 4 on Node (`--socketio-counts`, 10000 by default, empty to skip) is measured the same
 * way in each round before the runtimes (after them in even rounds): `node --expose-gc`
 * bench/_socketio_server.mjs (`transports: ["websocket"]`, every other option default), RSS and
 * V8 heap after `gc()`, the baseline after the same warm-up; its connections are the same
 * minimal clients speaking Engine.IO 4 / Socket.IO 5 framing, each counted once connected to the
 * main namespace (and answering Engine.IO pings, as idle Socket.IO clients do). The summary
 * compares it to the raw side of each runtime measured at the same count; skipped, with the reason
 * in the output and `config.socketio`, without Node or socket.io.
 *
 * Prints a table and, on the last line, `{"bench":"memory",…}` with KB per connection.
 *
 * Run: `deno run -A bench/memory.ts [--deno-counts 10000] [--bun-counts 10000,19000]
 * [--socketio-counts 10000] [--rounds 1] [--client-runtime bun] [--per-process 10000]
 * [--resume channel-seq|session|off]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  printTable,
  type Proc,
  progress,
  round,
  type Runtime,
  serverStats,
  type Side,
  startClients,
  startServer,
} from "./_proc.ts";
import { LIFTED } from "./_bench_server.ts";
import { findSocketIo, socketIoConfig } from "./_socketio_env.ts";

/** One measurement. */
interface MemoryResult {
  runtime: Runtime;
  side: Side;
  connections: number;
  round: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  kbPerConnection: number;
  heapBeforeMb: number;
  heapAfterMb: number;
  heapKbPerConnection: number;
  clientProcesses: number;
  connectMs: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "deno-counts": { type: "string", default: "10000" },
    "bun-counts": { type: "string", default: "10000,19000" },
    "socketio-counts": { type: "string", default: "10000" },
    rounds: { type: "string", default: "1" },
    "client-runtime": { type: "string", default: "bun" },
    "per-process": { type: "string", default: "10000" },
    // What the sente-lite clients negotiate (bench/_bench_clients.ts): the library client's
    // default is "channel-seq" (a resume session per connection); "off" as Sente peers.
    resume: { type: "string", default: "channel-seq" },
  },
  strict: true,
});
const counts = (raw: string) => raw ? raw.split(",").map(Number) : [];
const plan: [Runtime, number][] = [
  ...counts(values["deno-counts"]).map((n): [Runtime, number] => ["deno", n]),
  ...counts(values["bun-counts"]).map((n): [Runtime, number] => ["bun", n]),
];
/** Socket.IO's counts (on Node), when it can run. */
const sioCounts = "skipped" in findSocketIo() ? [] : counts(values["socketio-counts"]);
const rounds = Number(values.rounds);
const clientRuntime = values["client-runtime"] as Runtime;
const perProcess = Number(values["per-process"]);
const resume = values.resume as "off" | "session" | "channel-seq";
if (!["off", "session", "channel-seq"].includes(resume)) {
  throw new RangeError(`--resume must be off, session or channel-seq, got ${resume}`);
}
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connections opened and closed before the baseline. */
const WARMUP = 500;

/** Polls the server until it counts `n` connections (bounded: 60 s). */
async function untilServerCounts(server: Proc, n: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await serverStats(server)).connections === n) return;
    await settle(100);
  }
  throw new Error(`the server never counted ${n} connections`);
}

async function measure(
  runtime: Runtime,
  side: Side,
  n: number,
  roundNo: number,
): Promise<MemoryResult> {
  const { proc: server, ready } = await startServer(runtime, side);
  const clients: Proc[] = [];
  try {
    // The baseline is taken with no client connected, after GC, once the server has served and
    // dropped a few hundred connections: code compiled on the first handshakes, and buffers the
    // runtime keeps once it has served any, are not counted per connection.
    const warm = startClients(clientRuntime, {
      task: "hold",
      url: ready.url,
      side,
      resume,
      count: WARMUP,
      concurrency: 50,
    });
    await warm.next("ready", 60_000);
    await warm.send({ op: "exit" }).catch(() => {});
    await warm.stop();
    await untilServerCounts(server, 0);
    await settle(500);
    const before = await serverStats(server, true);
    if (before.nofile < n + 100) throw new Error(`server open-file limit ${before.nofile} < ${n}`);
    const t0 = performance.now();
    // Each client process holds at most `perProcess` sockets (its own open-file limit).
    for (let left = n; left > 0; left -= perProcess) {
      const count = Math.min(left, perProcess);
      const proc = startClients(clientRuntime, {
        task: "hold",
        url: ready.url,
        side,
        resume,
        count,
        concurrency: 100,
      });
      clients.push(proc);
      const up = await proc.next<{ ready: number; errors: number }>("ready", 300_000);
      if (up.ready !== count) {
        throw new Error(`only ${up.ready} of ${count} connected (${up.errors} errors)`);
      }
    }
    const connectMs = Math.round(performance.now() - t0);
    await untilServerCounts(server, n);
    await settle(1000);
    const after = await serverStats(server, true);
    if (after.connections !== n) progress(`WARNING: server counts ${after.connections}`);
    const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
    const kb = (bytes: number) => round(bytes / n / 1024, 2);
    const r: MemoryResult = {
      runtime,
      side,
      connections: n,
      round: roundNo,
      rssBeforeMb: mb(before.rss),
      rssAfterMb: mb(after.rss),
      kbPerConnection: kb(after.rss - before.rss),
      heapBeforeMb: mb(before.heapUsed),
      heapAfterMb: mb(after.heapUsed),
      heapKbPerConnection: kb(after.heapUsed - before.heapUsed),
      clientProcesses: clients.length,
      connectMs,
    };
    progress(
      `${runtime} ${side} ${n}: ${r.kbPerConnection} KB/conn RSS, ${r.heapKbPerConnection} heap`,
    );
    return r;
  } finally {
    for (const c of clients) {
      await c.send({ op: "exit" }).catch(() => {});
      await c.stop();
    }
    await server.stop();
  }
}

const all: MemoryResult[] = [];
const failures: string[] = [];
async function attempt(runtime: Runtime, side: Side, n: number, roundNo: number): Promise<void> {
  try {
    all.push(await measure(runtime, side, n, roundNo));
  } catch (e) {
    const why = `${runtime} ${side} ${n}: ${(e as Error).message.slice(0, 300)}`;
    progress(`FAILED ${why}`);
    failures.push(why);
  }
}
for (let roundNo = 1; roundNo <= rounds; roundNo++) {
  // Socket.IO first in odd rounds and last in even ones, as the other sides alternate.
  if (roundNo % 2 === 1) { for (const n of sioCounts) await attempt("node", "sio", n, roundNo); }
  for (const [runtime, n] of plan) {
    const sides: Side[] = roundNo % 2 === 1 ? ["raw", "sente"] : ["sente", "raw"];
    for (const side of sides) await attempt(runtime, side, n, roundNo);
  }
  if (roundNo % 2 === 0) { for (const n of sioCounts) await attempt("node", "sio", n, roundNo); }
}

const rows = [[
  "runtime",
  "side",
  "conns",
  "round",
  "RSS before MB",
  "RSS after MB",
  "KB/conn",
  "heap before MB",
  "heap after MB",
  "heap KB/conn",
]];
for (const r of all) {
  rows.push([
    r.runtime,
    r.side,
    String(r.connections),
    String(r.round),
    r.rssBeforeMb.toFixed(1),
    r.rssAfterMb.toFixed(1),
    r.kbPerConnection.toFixed(2),
    r.heapBeforeMb.toFixed(1),
    r.heapAfterMb.toFixed(1),
    r.heapKbPerConnection.toFixed(2),
  ]);
}
printTable(rows);
const summary = [];
for (const [runtime, n] of plan) {
  const med = (runtime: Runtime, side: Side) => {
    const rs = all.filter((r) => r.runtime === runtime && r.side === side && r.connections === n)
      .sort((a, b) => a.kbPerConnection - b.kbPerConnection);
    return rs[(rs.length - 1) >> 1];
  };
  const raw = med(runtime, "raw");
  const sente = med(runtime, "sente");
  if (!raw || !sente) continue;
  const extraKb = round(sente.kbPerConnection - raw.kbPerConnection, 2);
  const extraHeapKb = round(sente.heapKbPerConnection - raw.heapKbPerConnection, 2);
  // Each round's own difference (its two sides measured back to back): the spread of these is
  // the noise a single round has, which the medians above hide.
  const extraKbRounds: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const at = (side: Side) =>
      all.find((m) =>
        m.runtime === runtime && m.side === side && m.connections === n && m.round === r
      );
    const [rawR, senteR] = [at("raw"), at("sente")];
    if (rawR && senteR) extraKbRounds.push(round(senteR.kbPerConnection - rawR.kbPerConnection, 2));
  }
  console.log(
    `${runtime} ${n}: sente-lite − raw = ${extraKb} KB RSS, ${extraHeapKb} KB heap per connection (goal <= 1)${
      rounds > 1 ? `; per round ${extraKbRounds.join(", ")} KB RSS` : ""
    }`,
  );
  // Socket.IO (Node) at the same count, against the same raw runtime.
  const sio = med("node", "sio");
  const vsSio = sio
    ? {
      sio,
      sioExtraKb: round(sio.kbPerConnection - raw.kbPerConnection, 2),
      sioExtraHeapKb: round(sio.heapKbPerConnection - raw.heapKbPerConnection, 2),
    }
    : {};
  if (vsSio.sio) {
    console.log(
      `${runtime} ${n}: Socket.IO (node) − raw = ${vsSio.sioExtraKb} KB RSS, ${vsSio.sioExtraHeapKb} KB heap per connection`,
    );
  }
  summary.push({
    runtime,
    connections: n,
    raw,
    sente,
    extraKb,
    extraHeapKb,
    extraKbRounds,
    ...vsSio,
  });
}
console.log(`sente-lite limits lifted: ${LIFTED}`);
const socketio = sioCounts.length ? socketIoConfig() : {
  skipped: "skipped" in findSocketIo() ? socketIoConfig().skipped : "--socketio-counts empty",
};
if (socketio.skipped) console.log(`Socket.IO side skipped: ${socketio.skipped}`);
console.log(JSON.stringify({
  bench: "memory",
  summary,
  failures,
  config: {
    plan,
    socketioCounts: sioCounts,
    socketio,
    rounds,
    deno: Deno.version.deno,
    clientProcess: `${clientRuntime} subprocess`,
    lifted: LIFTED,
    perProcess,
    resume,
    rss:
      "server process RSS and JS heap after a full GC (memory-reducing on V8): before any client started, and after all N connections are counted by the server",
  },
}));
