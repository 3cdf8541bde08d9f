/**
 * Connection rate: new WebSocket connections per second, each counted once its first frame
 * arrived (sente-lite: the handshake; raw: a `"hello"` frame the raw server sends on open) and
 * then closed by the client; `--concurrency` (32) connections in progress at a time, for
 * `--seconds` (3) per side, sente-lite against the raw runtime (`Deno.serve` +
 * `upgradeWebSocket`, `Bun.serve`), on Deno and Bun, in the same run, rounds interleaved.
 *
 * The clients run in their own process (Bun by default); the server process's CPU time (from
 * /proc) is reported per connection.
 *
 * Each round starts the raw and the sente-lite server of a runtime together and measures them in
 * `--slices` (6) turns of `seconds / slices` each, the sides alternating (raw, sente-lite,
 * sente-lite, raw, …): the machine's load, which moved a side's rate by up to 1.5x between windows
 * a few seconds apart, then falls on both sides alike. A side's result is its connections over
 * its slices' time, its server CPU over its slices' connections. The summary is the median over
 * the rounds of the per-round ratios (`--rounds`, 5 by default; the lowest and highest are
 * printed with it), not a ratio of medians taken from different rounds; server CPU per
 * connection the same way (raw/sente-lite: below 1 when sente-lite costs more).
 *
 * `--resume` sets what the sente-lite clients negotiate: `channel-seq` (the default, as the library
 * client does by default: a resume session per connection, parked when it closes, with channel
 * sequences), `session` (resume without channel sequences) or `off` (no resume: Sente and
 * original peers, `resume: false`). Every side first serves the same churn unmeasured, for
 * `--warmup` seconds (3) and on until it served `--warmup-connections` (30000; at most 30 s more):
 * the measured window then leaves out the JIT compiling the server's code. On Bun the sente-lite
 * handshake path takes about 3 s of churn on a quiet machine to reach its optimizing tier (server
 * CPU per connection after 0, 1, 3 and 8 s of warmup: 69, 59, 43 and 41 µs), longer on a loaded
 * one (the JIT counts executions, not seconds); the raw sides run almost no JavaScript and cost
 * the same either way.
 *
 * Socket.IO 4 on Node (`--socketio on`, the default; bench/_socketio_server.mjs with
 * `transports: ["websocket"]`, every other option default) runs once per round between the
 * runtimes, loaded by the same minimal clients speaking its framing: a connection counts once the
 * server's namespace connect `40{…}` arrived (the Engine.IO open `0{…}`, the client's `40`, then
 * that: what a Socket.IO client waits for before it can emit). Its ratios are to each runtime's
 * raw side; skipped, with the reason in the output and `config.socketio`, without Node or
 * socket.io.
 *
 * The raw Deno side is `Deno.serve` as a plain program writes it, and pays what Deno spends per
 * upgrade on a `DOMException` that sente-lite's adapter skips (lib/adapters/deno_upgrade_abort.ts,
 * about 22 µs per connection). `BENCH_RAW_SKIP_ABORT=1` makes the raw side skip it too: a raw
 * server tuned alike, for what sente-lite's own work costs.
 *
 * Prints a table and, on the last line, `{"bench":"connrate",…}`.
 *
 * Run: `deno run -A bench/connrate.ts [--runtimes deno,bun] [--seconds 3] [--concurrency 32]
 * [--rounds 5] [--slices 6] [--client-runtime bun] [--resume channel-seq|session|off]
 * [--warmup 3] [--warmup-connections 30000] [--socketio on|off]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  median,
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
interface RateResult {
  runtime: Runtime;
  side: Side;
  round: number;
  connectionsPerSec: number;
  connections: number;
  errors: number;
  serverCpuUsPerConn: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runtimes: { type: "string", default: "deno,bun" },
    seconds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
    rounds: { type: "string", default: "5" },
    slices: { type: "string", default: "6" },
    "client-runtime": { type: "string", default: "bun" },
    resume: { type: "string", default: "channel-seq" },
    warmup: { type: "string", default: "3" },
    "warmup-connections": { type: "string", default: "30000" },
    socketio: { type: "string", default: "on" },
  },
  strict: true,
});
const config = {
  runtimes: values.runtimes.split(",") as Runtime[],
  seconds: Number(values.seconds),
  concurrency: Number(values.concurrency),
  rounds: Number(values.rounds),
  slices: Number(values.slices),
  clientRuntime: values["client-runtime"] as Runtime,
  resume: values.resume as "off" | "session" | "channel-seq",
  warmupSeconds: Number(values.warmup),
  warmupConnections: Number(values["warmup-connections"]),
};
if (!(config.warmupSeconds >= 0)) {
  throw new RangeError(`--warmup must be >= 0 seconds, got ${values.warmup}`);
}
if (!(config.warmupConnections >= 0)) {
  throw new RangeError(`--warmup-connections must be >= 0, got ${values["warmup-connections"]}`);
}
if (!(Number.isInteger(config.slices) && config.slices >= 1)) {
  throw new RangeError(`--slices must be an integer >= 1, got ${values.slices}`);
}
if (!["off", "session", "channel-seq"].includes(config.resume)) {
  throw new RangeError(`--resume must be off, session or channel-seq, got ${config.resume}`);
}
if (!["on", "off"].includes(values.socketio)) {
  throw new RangeError(`--socketio must be on or off, got ${values.socketio}`);
}
const withSocketIo = values.socketio === "on" && !("skipped" in findSocketIo());

/** The churn of one side's server; resolves with its count once done. */
async function churn(
  url: string,
  side: Side,
  seconds: number,
): Promise<{ done: number; errors: number; seconds: number }> {
  const clients = startClients(config.clientRuntime, {
    task: "churn",
    url,
    side,
    count: 0,
    concurrency: config.concurrency,
    seconds,
    resume: config.resume,
  });
  try {
    return await clients.next("done", seconds * 1000 + 60_000);
  } finally {
    await clients.stop();
  }
}

/** One side's server, its tally over the slices measured so far. */
interface Measured {
  side: Side;
  server: Proc;
  url: string;
  done: number;
  errors: number;
  seconds: number;
  cpuMs: number;
}

/**
 * The unmeasured churn before a server's count: `--warmup` seconds, then on in 1 s turns until
 * it served `--warmup-connections` (at most 30 s more). A count, not only a time: the JIT tiers
 * up by executions, and a loaded machine serves fewer connections in the same seconds.
 */
async function warmUp(m: Measured): Promise<void> {
  let served = 0;
  if (config.warmupSeconds > 0) served = (await churn(m.url, m.side, config.warmupSeconds)).done;
  const until = Date.now() + 30_000;
  while (served < config.warmupConnections && Date.now() < until) {
    served += (await churn(m.url, m.side, 1)).done;
  }
}

/**
 * One round of `sides` on `runtime`: every server started, warmed up, then measured in
 * `config.slices` slices of `seconds / slices` each, the sides taking turns (ABBA…), so load on
 * the machine that comes and goes falls on both sides alike.
 */
async function measure(runtime: Runtime, sides: Side[], roundNo: number): Promise<RateResult[]> {
  const servers: Measured[] = [];
  try {
    for (const side of sides) {
      const { proc: server, ready } = await startServer(runtime, side);
      servers.push({ side, server, url: ready.url, done: 0, errors: 0, seconds: 0, cpuMs: 0 });
    }
    // The same churn, not measured: the servers' code is compiled (JIT) before the count starts.
    for (const m of servers) await warmUp(m);
    const sliceSeconds = config.seconds / config.slices;
    for (let slice = 0; slice < config.slices; slice++) {
      const order = slice % 2 === 0 ? servers : servers.toReversed();
      for (const m of order) {
        await new Promise((r) => setTimeout(r, 100));
        const cpu0 = (await serverStats(m.server)).cpuMs;
        const got = await churn(m.url, m.side, sliceSeconds);
        const cpu1 = (await serverStats(m.server)).cpuMs;
        m.done += got.done;
        m.errors += got.errors;
        m.seconds += got.seconds;
        m.cpuMs += cpu1 - cpu0;
      }
    }
  } finally {
    for (const m of servers) await m.server.stop();
  }
  return servers.map((m) => {
    const r: RateResult = {
      runtime,
      side: m.side,
      round: roundNo,
      connectionsPerSec: Math.round(m.done / m.seconds),
      connections: m.done,
      errors: m.errors,
      serverCpuUsPerConn: round(1000 * m.cpuMs / Math.max(m.done, 1), 1),
    };
    progress(`${runtime} ${m.side}: ${r.connectionsPerSec}/s (${r.errors} errors)`);
    return r;
  });
}

const all: RateResult[] = [];
for (let roundNo = 1; roundNo <= config.rounds; roundNo++) {
  // Socket.IO first in odd rounds and last in even ones, as the other sides alternate.
  if (withSocketIo && roundNo % 2 === 1) all.push(...await measure("node", ["sio"], roundNo));
  for (const runtime of config.runtimes) {
    const sides: Side[] = roundNo % 2 === 1 ? ["raw", "sente"] : ["sente", "raw"];
    all.push(...await measure(runtime, sides, roundNo));
  }
  if (withSocketIo && roundNo % 2 === 0) all.push(...await measure("node", ["sio"], roundNo));
}

const rows = [[
  "runtime",
  "side",
  "round",
  "conn/s",
  "connections",
  "errors",
  "server CPU µs/conn",
]];
for (const r of all) {
  rows.push([
    r.runtime,
    r.side,
    String(r.round),
    String(r.connectionsPerSec),
    String(r.connections),
    String(r.errors),
    r.serverCpuUsPerConn.toFixed(1),
  ]);
}
printTable(rows);
const summary = [];
/** The result of the median rate of a side (the lower middle one for an even count). */
const med = (runtime: Runtime, side: Side) => {
  const rs = all.filter((r) => r.runtime === runtime && r.side === side)
    .sort((a, b) => a.connectionsPerSec - b.connectionsPerSec);
  return rs[(rs.length - 1) >> 1];
};
/** `f(sente, raw)` of each round of `runtime`: the two sides measured back to back. */
const perRound = (runtime: Runtime, f: (sente: RateResult, raw: RateResult) => number) => {
  const ratios = [];
  for (let roundNo = 1; roundNo <= config.rounds; roundNo++) {
    const of = (side: Side) =>
      all.find((r) => r.runtime === runtime && r.side === side && r.round === roundNo)!;
    ratios.push(round(f(of("sente"), of("raw")), 3));
  }
  return ratios;
};
const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];
for (const runtime of config.runtimes) {
  const raw = med(runtime, "raw");
  const sente = med(runtime, "sente");
  const ratios = perRound(runtime, (s, r) => s.connectionsPerSec / r.connectionsPerSec);
  const ratio = round(median(ratios), 3);
  const cpuRatios = perRound(runtime, (s, r) => r.serverCpuUsPerConn / s.serverCpuUsPerConn);
  const cpuRatio = round(median(cpuRatios), 3);
  console.log(
    `${runtime}: sente-lite/raw connections/s ${ratio} (median of ${ratios.length} rounds; ` +
      `range ${
        range(ratios).join("–")
      }; goal >= 0.85); server CPU/conn raw/sente-lite ${cpuRatio} ` +
      `(range ${range(cpuRatios).join("–")})`,
  );
  // Socket.IO (Node) against the same raw runtime, so both libraries sit on one scale.
  const sio = med("node", "sio");
  const sioRatio = sio && round(sio.connectionsPerSec / raw.connectionsPerSec, 3);
  if (sio) console.log(`${runtime}: Socket.IO (node)/raw connections/s ${sioRatio}`);
  summary.push({
    runtime,
    raw,
    sente,
    ratio,
    ratios,
    cpuRatio,
    cpuRatios,
    ...(sio ? { sio, sioRatio } : {}),
  });
}
console.log(`sente-lite limits lifted: ${LIFTED}`);
const socketio = values.socketio === "on" ? socketIoConfig() : { skipped: "--socketio off" };
if (socketio.skipped) console.log(`Socket.IO side skipped: ${socketio.skipped}`);
console.log(JSON.stringify({
  bench: "connrate",
  summary,
  config: {
    ...config,
    socketio,
    deno: Deno.version.deno,
    clientProcess: `${config.clientRuntime} subprocess`,
    lifted: LIFTED,
  },
}));
