/**
 * Connection rate: new WebSocket connections per second, each counted once its first frame
 * arrived (sente-lite: the handshake; raw: a `"hello"` frame the raw server sends on open) and
 * then closed by the client; `--concurrency` (32) connections in progress at a time, for
 * `--seconds` (3), sente-lite against the raw runtime (`Deno.serve` + `upgradeWebSocket`,
 * `Bun.serve`), on Deno and Bun, in the same run, rounds interleaved.
 *
 * The clients run in their own process (Bun by default); the server process's CPU time (from
 * /proc) is reported per connection.
 *
 * `--resume` sets what the sente-lite clients negotiate: `channel-seq` (the default, as the library
 * client does by default: a resume session per connection, parked when it closes, with channel
 * sequences), `session` (resume without channel sequences) or `off` (no resume: Sente and
 * original peers, `resume: false`). `--warmup` seconds (0) of the same churn run first, unmeasured,
 * on both sides: the measured window then leaves out the JIT compiling the server's code (on Bun
 * the sente-lite handshake path takes several seconds of churn to reach its optimizing tier).
 *
 * Socket.IO 4 on Node (`--socketio on`, the default; bench/_socketio_server.mjs with
 * `transports: ["websocket"]`, every other option default) runs once per round between the
 * runtimes, loaded by the same minimal clients speaking its framing: a connection counts once the
 * server's namespace connect `40{…}` arrived (the Engine.IO open `0{…}`, the client's `40`, then
 * that: what a Socket.IO client waits for before it can emit). Its ratios are to each runtime's
 * raw side; skipped, with the reason in the output and `config.socketio`, without Node or
 * socket.io.
 *
 * Prints a table and, on the last line, `{"bench":"connrate",…}`.
 *
 * Run: `deno run -A bench/connrate.ts [--runtimes deno,bun] [--seconds 3] [--concurrency 32]
 * [--rounds 1] [--client-runtime bun] [--resume channel-seq|session|off] [--warmup 0]
 * [--socketio on|off]`
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
    rounds: { type: "string", default: "1" },
    "client-runtime": { type: "string", default: "bun" },
    resume: { type: "string", default: "channel-seq" },
    warmup: { type: "string", default: "0" },
    socketio: { type: "string", default: "on" },
  },
  strict: true,
});
const config = {
  runtimes: values.runtimes.split(",") as Runtime[],
  seconds: Number(values.seconds),
  concurrency: Number(values.concurrency),
  rounds: Number(values.rounds),
  clientRuntime: values["client-runtime"] as Runtime,
  resume: values.resume as "off" | "session" | "channel-seq",
  warmupSeconds: Number(values.warmup),
};
if (!(config.warmupSeconds >= 0)) {
  throw new RangeError(`--warmup must be >= 0 seconds, got ${values.warmup}`);
}
if (!["off", "session", "channel-seq"].includes(config.resume)) {
  throw new RangeError(`--resume must be off, session or channel-seq, got ${config.resume}`);
}
if (!["on", "off"].includes(values.socketio)) {
  throw new RangeError(`--socketio must be on or off, got ${values.socketio}`);
}
const withSocketIo = values.socketio === "on" && !("skipped" in findSocketIo());

async function measure(runtime: Runtime, side: Side, roundNo: number): Promise<RateResult> {
  const { proc: server, ready } = await startServer(runtime, side);
  const churn = (seconds: number) =>
    startClients(config.clientRuntime, {
      task: "churn",
      url: ready.url,
      side,
      count: 0,
      concurrency: config.concurrency,
      seconds,
      resume: config.resume,
    });
  try {
    if (config.warmupSeconds > 0) {
      // The same churn, not measured: the server's code is compiled (JIT) before the count starts.
      const warm = churn(config.warmupSeconds);
      await warm.next("done", config.warmupSeconds * 1000 + 60_000);
      await warm.stop();
    }
    await new Promise((r) => setTimeout(r, 300));
    const cpu0 = (await serverStats(server)).cpuMs;
    const clients = churn(config.seconds);
    const got = await clients.next<{ done: number; errors: number; seconds: number }>(
      "done",
      config.seconds * 1000 + 60_000,
    );
    await clients.stop();
    const cpu1 = (await serverStats(server)).cpuMs;
    const r: RateResult = {
      runtime,
      side,
      round: roundNo,
      connectionsPerSec: Math.round(got.done / got.seconds),
      connections: got.done,
      errors: got.errors,
      serverCpuUsPerConn: round(1000 * (cpu1 - cpu0) / Math.max(got.done, 1), 1),
    };
    progress(`${runtime} ${side}: ${r.connectionsPerSec}/s (${r.errors} errors)`);
    return r;
  } finally {
    await server.stop();
  }
}

const all: RateResult[] = [];
for (let roundNo = 1; roundNo <= config.rounds; roundNo++) {
  // Socket.IO first in odd rounds and last in even ones, as the other sides alternate.
  if (withSocketIo && roundNo % 2 === 1) all.push(await measure("node", "sio", roundNo));
  for (const runtime of config.runtimes) {
    const sides: Side[] = roundNo % 2 === 1 ? ["raw", "sente"] : ["sente", "raw"];
    for (const side of sides) all.push(await measure(runtime, side, roundNo));
  }
  if (withSocketIo && roundNo % 2 === 0) all.push(await measure("node", "sio", roundNo));
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
const med = (runtime: Runtime, side: Side) => {
  const rs = all.filter((r) => r.runtime === runtime && r.side === side)
    .sort((a, b) => a.connectionsPerSec - b.connectionsPerSec);
  return rs[(rs.length - 1) >> 1];
};
for (const runtime of config.runtimes) {
  const raw = med(runtime, "raw");
  const sente = med(runtime, "sente");
  const ratio = round(sente.connectionsPerSec / raw.connectionsPerSec, 3);
  console.log(`${runtime}: sente-lite/raw connections/s ${ratio} (goal >= 0.85)`);
  // Socket.IO (Node) against the same raw runtime, so both libraries sit on one scale.
  const sio = med("node", "sio");
  const sioRatio = sio && round(sio.connectionsPerSec / raw.connectionsPerSec, 3);
  if (sio) console.log(`${runtime}: Socket.IO (node)/raw connections/s ${sioRatio}`);
  summary.push({ runtime, raw, sente, ratio, ...(sio ? { sio, sioRatio } : {}) });
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
