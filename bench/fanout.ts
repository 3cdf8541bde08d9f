/**
 * Fan-out: one server pushes `--messages` (1000) frames of `--bytes` (64) B to each of
 * `--clients` (1000) connections, as a broadcast and as a channel publish, on Deno and on Bun,
 * sente-lite against the raw runtime in the same run (interleaved rounds).
 *
 * - raw Deno: a plain loop over the sockets (`socket.send` each), the channel being a Set.
 * - raw Bun: `server.publish(topic)` with native topics (`ws.subscribe`).
 * - sente-lite: `server.broadcast("bench/m", payload)` / `server.publish("bench", payload)`,
 *   every client subscribed to `bench` (limits lifted: see `lifted` in the output).
 * - Socket.IO 4 on Node (`--socketio on`, the default; runtime `node`, side `sio`), once per round
 *   between the runtimes': `io.emit("m", payload)` / `io.to("bench").emit("m", payload)`, every
 *   client in room `bench` (joined in the connection handler), `transports: ["websocket"]` and
 *   every other option at its default (perMessageDeflate off) in bench/_socketio_server.mjs. Its
 *   clients are the same minimal protocol clients as the other sides' (Engine.IO 4 / Socket.IO 5
 *   framing, bench/_bench_clients.ts), not socket.io-client, so the client process costs about the
 *   same on every side and the servers are compared; the probe is an `echo` emit with an ack.
 *   Skipped, with the reason in the output and in `config.socketio`, when Node or socket.io is
 *   missing (bench/_socketio_env.ts). Its ratios are to each runtime's raw side.
 *
 * Processes: the server alone in one (its CPU time is read from /proc), the receiving clients in
 * another (`--client-runtime`, Bun by default), and this process runs a probe connection that
 * keeps one request→reply in flight (raw: an echo on `/probe`; sente-lite: a `bench/echo`
 * request) during each burst, so its latency shows how long the server's event loop froze. It
 * waits `--probe-gap-ms` (1) after each reply before its next request, so it loads every side alike
 * (back to back, `0`, it made as many round trips as the server had turns for: up to 20k in a
 * burst on a raw side, a core's worth taken from the clients, and 2× swings of deliveries/s).
 *
 * Per burst: deliveries/s (frames received ÷ time from the server starting the burst to the last
 * frame received), first and last delivery after the start, server CPU ms, probe p50/p99/max.
 * Server CPU is the process's user + system time (getrusage: µs, all threads) from before the burst
 * to after its last delivery. The probe's requests are part of it, as many as the server's loop has
 * turns for (and a sente-lite request costs more than a raw echo), so each burst is followed by
 * `--cpu-bursts` (2) more of the same load without the probe: "fan-out CPU" is their mean, the CPU
 * of the fan-out alone, and the summary's "fan-out CPU ×" compares their sums over the rounds.
 * The client process's CPU over each burst is read too ("client CPU", the same bursts): every side's
 * clients do the same work per frame (count it, read the clock; no side's frames are parsed), so a
 * difference there is what the frames' size and number cost the receiving side.
 * Prints a table and, on the last line, one JSON object `{"bench":"fanout",…}`.
 *
 * `--resume` sets what the sente-lite clients negotiate: `channel-seq` (the default, as the library
 * client does by default: channel publishes and broadcasts numbered per stream, one frame for
 * all), `session` (every push numbered and kept per session, acknowledged every 16: our client
 * before channel sequences) or `off` (no resume: Sente and original peers, `resume: false`).
 *
 * Run: `deno run -A bench/fanout.ts [--runtimes deno,bun] [--clients 1000] [--messages 1000]
 * [--bytes 64] [--rounds 1] [--kinds broadcast,publish] [--client-runtime bun]
 * [--resume off|session|channel-seq] [--cpu-bursts 2] [--socketio on|off] [--probe-gap-ms 1]
 * [--native-turn-ms N]`
 *
 * `--native-turn-ms N` sets sente-lite's `nativeTurnMs` (Bun: past N ms of publishes in one
 * event-loop turn the rest wait for the next turns), and the raw Bun side takes turns the same way
 * (bench/_bench_server.ts), so both answer the probe during a burst and pay for it alike.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  median,
  printTable,
  Probe,
  progress,
  quantile,
  round,
  type Runtime,
  serverStats,
  type Side,
  startClients,
  startServer,
} from "./_proc.ts";
import { LIFTED } from "./_bench_server.ts";
import { findSocketIo, socketIoConfig } from "./_socketio_env.ts";

type Kind = "broadcast" | "publish";

/** One burst's figures. */
interface BurstResult {
  runtime: Runtime;
  side: Side;
  kind: Kind;
  round: number;
  deliveries: number;
  deliveriesPerSec: number;
  firstMs: number;
  lastMs: number;
  loopMs: number;
  serverCpuMs: number;
  /** Server CPU ms per burst of the bursts without the probe (`--cpu-bursts`), `NaN` if none. */
  fanOutCpuMs: number;
  /** Deliveries/s over the bursts without the probe. */
  quietDeliveriesPerSec: number;
  /** CPU ms of the client process over the burst (with the probe). */
  clientCpuMs: number;
  /** Client process CPU ms per burst of the bursts without the probe, `NaN` if none. */
  fanOutClientCpuMs: number;
  probeReplies: number;
  probeP50Ms: number;
  probeP99Ms: number;
  probeMaxMs: number;
  /** When the slowest probe request was sent, ms after the burst started (`NaN`: no probe). */
  probeMaxAtMs: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runtimes: { type: "string", default: "deno,bun" },
    clients: { type: "string", default: "1000" },
    messages: { type: "string", default: "1000" },
    bytes: { type: "string", default: "64" },
    rounds: { type: "string", default: "1" },
    kinds: { type: "string", default: "broadcast,publish" },
    "client-runtime": { type: "string", default: "bun" },
    resume: { type: "string", default: "channel-seq" },
    "cpu-bursts": { type: "string", default: "2" },
    socketio: { type: "string", default: "on" },
    "probe-gap-ms": { type: "string", default: "1" },
    "native-turn-ms": { type: "string", default: "" },
  },
  strict: true,
});
const num = (name: string, raw: string, min: number): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} must be >= ${min}`);
  return n;
};
const config = {
  clients: num("clients", values.clients, 1),
  messages: num("messages", values.messages, 1),
  bytes: num("bytes", values.bytes, 1),
  rounds: num("rounds", values.rounds, 1),
  cpuBursts: num("cpu-bursts", values["cpu-bursts"], 0),
  probeGapMs: num("probe-gap-ms", values["probe-gap-ms"], 0),
  runtimes: values.runtimes.split(",") as Runtime[],
  kinds: values.kinds.split(",") as Kind[],
  clientRuntime: values["client-runtime"] as Runtime,
  resume: values.resume as "off" | "session" | "channel-seq",
  /** sente-lite's `nativeTurnMs` (Bun), and the raw Bun side takes turns alike; null: off. */
  nativeTurnMs: values["native-turn-ms"] === ""
    ? null
    : num("native-turn-ms", values["native-turn-ms"], 1),
};
// The measured servers read it from their environment (bench/_bench_server.ts).
if (config.nativeTurnMs !== null) Deno.env.set("BENCH_NATIVE_TURN_MS", String(config.nativeTurnMs));
if (!["off", "session", "channel-seq"].includes(config.resume)) {
  throw new RangeError(`--resume must be off, session or channel-seq, got ${config.resume}`);
}
if (!["on", "off"].includes(values.socketio)) {
  throw new RangeError(`--socketio must be on or off, got ${values.socketio}`);
}
const withSocketIo = values.socketio === "on" && !("skipped" in findSocketIo());

async function runSide(runtime: Runtime, side: Side, roundNo: number): Promise<BurstResult[]> {
  const { proc: server, ready } = await startServer(runtime, side);
  const clients = startClients(config.clientRuntime, {
    task: "hold",
    url: ready.url,
    side,
    count: config.clients,
    concurrency: 50,
    channel: true,
    minBytes: config.bytes,
    resume: config.resume,
  });
  const results: BurstResult[] = [];
  let probe: Probe | null = null;
  try {
    const up = await clients.next<{ ready: number; errors: number; ms: number }>("ready", 180_000);
    if (up.ready !== config.clients) throw new Error(`only ${up.ready} clients connected`);
    progress(`${runtime} ${side}: ${up.ready} clients ready in ${up.ms} ms`);
    probe = await Probe.open(ready.url, side, config.probeGapMs);
    const expect = config.clients * config.messages;
    /** One burst: its times (absolute ms), what the clients got, the server's CPU ms. */
    const burst = async (kind: Kind, withProbe?: Probe) => {
      await new Promise((r) => setTimeout(r, 300));
      const cpu0 = (await serverStats(server)).cpuMs;
      if (withProbe) {
        withProbe.start();
        await new Promise((r) => setTimeout(r, 50));
      }
      await server.send({ op: "burst", kind, count: config.messages, bytes: config.bytes });
      await clients.send({ op: "wait", expect, idleMs: 10_000 });
      const { t0, loopEnd } = await server.next<{ t0: number; loopEnd: number }>("t0", 300_000);
      const got = await clients.next<
        { received: number; first: number; last: number; cpuMs: number }
      >("received", 300_000);
      const samples = withProbe?.stop() ?? [];
      const cpu = (await serverStats(server)).cpuMs - cpu0;
      if (got.received !== expect) progress(`WARNING: ${got.received} of ${expect} delivered`);
      return { t0, loopEnd, got, cpu, samples };
    };
    for (const kind of config.kinds) {
      const { t0, loopEnd, got, cpu, samples } = await burst(kind, probe);
      // The probe's requests cost the server CPU too (a sente-lite request more than a raw
      // echo), as many as the loop has turns for: the fan-out's own CPU is read without it.
      // (Socket.IO's burst blocks its loop, so the probe costs it nothing: no bursts without it)
      const quietBursts = side === "sio" ? 0 : config.cpuBursts;
      let quietCpu = 0, quietClientCpu = 0, quietDelivered = 0, quietMs = 0;
      for (let i = 0; i < quietBursts; i++) {
        const q = await burst(kind);
        quietCpu += q.cpu;
        quietClientCpu += q.got.cpuMs;
        quietDelivered += q.got.received;
        quietMs += q.got.last - q.t0;
      }
      const inBurst = samples.filter(([sent, ms]) => sent < got.last && sent + ms > t0);
      const during = inBurst.map(([, ms]) => ms).sort((a, b) => a - b);
      // Where in the burst the slowest request was: a stall at its start, middle or end.
      const slowest = inBurst.reduce<[number, number] | null>(
        (m, x) => (m === null || x[1] > m[1] ? x : m),
        null,
      );
      const r: BurstResult = {
        runtime,
        side,
        kind,
        round: roundNo,
        deliveries: got.received,
        deliveriesPerSec: Math.round(got.received / ((got.last - t0) / 1000)),
        firstMs: round(got.first - t0, 1),
        lastMs: round(got.last - t0, 1),
        loopMs: round(loopEnd - t0, 1),
        serverCpuMs: round(cpu, 1),
        fanOutCpuMs: quietBursts > 0 ? round(quietCpu / quietBursts, 1) : NaN,
        quietDeliveriesPerSec: Math.round(quietDelivered / (quietMs / 1000)),
        clientCpuMs: round(got.cpuMs, 1),
        fanOutClientCpuMs: quietBursts > 0 ? round(quietClientCpu / quietBursts, 1) : NaN,
        probeReplies: during.length,
        probeP50Ms: round(quantile(during, 0.5), 2),
        probeP99Ms: round(quantile(during, 0.99), 2),
        probeMaxMs: round(during.at(-1) ?? NaN, 2),
        probeMaxAtMs: slowest === null ? NaN : round(slowest[0] - t0, 1),
      };
      progress(
        `${runtime} ${side} ${kind}: ${r.deliveriesPerSec}/s, first ${r.firstMs} ms, last ${r.lastMs} ms, cpu ${r.serverCpuMs} ms (fan-out alone ${r.fanOutCpuMs} ms), client cpu ${r.clientCpuMs} ms (${r.fanOutClientCpuMs} ms), probe max ${r.probeMaxMs} ms (sent ${r.probeMaxAtMs} ms into the burst)`,
      );
      results.push(r);
    }
  } finally {
    probe?.close();
    await clients.send({ op: "exit" }).catch(() => {});
    await clients.stop();
    await server.stop();
  }
  return results;
}

const all: BurstResult[] = [];
for (let round = 1; round <= config.rounds; round++) {
  // Socket.IO first in odd rounds and last in even ones, as the other sides alternate.
  if (withSocketIo && round % 2 === 1) all.push(...await runSide("node", "sio", round));
  for (const runtime of config.runtimes) {
    // Alternate which side goes first, so a drift in machine load hits both.
    const sides: Side[] = round % 2 === 1 ? ["raw", "sente"] : ["sente", "raw"];
    for (const side of sides) all.push(...await runSide(runtime, side, round));
  }
  if (withSocketIo && round % 2 === 0) all.push(...await runSide("node", "sio", round));
}

/** The median round (by deliveries/s) of each runtime × side × kind. */
function medianRound(runtime: Runtime, side: Side, kind: Kind): BurstResult | undefined {
  const rs = all.filter((r) => r.runtime === runtime && r.side === side && r.kind === kind)
    .sort((a, b) => a.deliveriesPerSec - b.deliveriesPerSec);
  return rs[(rs.length - 1) >> 1];
}

/** `f(sente, raw)` of each round of `runtime` × `kind` (rounds where both sides ran). */
function perRound(
  runtime: Runtime,
  kind: Kind,
  f: (sente: BurstResult, raw: BurstResult) => number,
): number[] {
  const ratios = [];
  for (let roundNo = 1; roundNo <= config.rounds; roundNo++) {
    const of = (side: Side) =>
      all.find((r) =>
        r.runtime === runtime && r.side === side && r.kind === kind && r.round === roundNo
      );
    const sente = of("sente"), raw = of("raw");
    if (sente && raw) ratios.push(round(f(sente, raw), 3));
  }
  return ratios;
}

const rows = [[
  "runtime",
  "side",
  "kind",
  "round",
  "deliveries/s",
  "without probe",
  "first ms",
  "last ms",
  "loop ms",
  "server CPU ms",
  "fan-out CPU ms",
  "client CPU ms",
  "fan-out client CPU ms",
  "probe n",
  "probe p50",
  "probe p99",
  "probe max",
]];
for (const r of all) {
  rows.push([
    r.runtime,
    r.side,
    r.kind,
    String(r.round),
    String(r.deliveriesPerSec),
    String(r.quietDeliveriesPerSec),
    r.firstMs.toFixed(1),
    r.lastMs.toFixed(1),
    r.loopMs.toFixed(1),
    r.serverCpuMs.toFixed(1),
    r.fanOutCpuMs.toFixed(1),
    r.clientCpuMs.toFixed(1),
    r.fanOutClientCpuMs.toFixed(1),
    String(r.probeReplies),
    r.probeP50Ms.toFixed(2),
    r.probeP99Ms.toFixed(2),
    r.probeMaxMs.toFixed(2),
  ]);
}
printTable(rows);
const summary = [];
for (const runtime of config.runtimes) {
  for (const kind of config.kinds) {
    const raw = medianRound(runtime, "raw", kind);
    const sente = medianRound(runtime, "sente", kind);
    if (!raw || !sente) continue;
    // The sides of a round run back to back, so the machine's load falls on both alike: the
    // summary is the median of per-round ratios, not a ratio of medians from different rounds
    // (one slow round for both sides paired a fast raw with a slow sente-lite: 0.69 against
    // per-round ratios 0.85, 0.69, 0.95).
    const ratios = perRound(runtime, kind, (s, r) => s.deliveriesPerSec / r.deliveriesPerSec);
    const ratio = round(median(ratios), 3);
    const cpuRatios = perRound(runtime, kind, (s, r) => s.serverCpuMs / Math.max(r.serverCpuMs, 1));
    const cpuRatio = round(median(cpuRatios), 2);
    // Over every round's bursts without the probe (not the median round's alone).
    const quiet = (side: Side) =>
      all.filter((r) => r.runtime === runtime && r.side === side && r.kind === kind)
        .reduce((sum, r) => sum + r.fanOutCpuMs, 0);
    const fanOutCpuRatio = config.cpuBursts > 0
      ? round(quiet("sente") / Math.max(quiet("raw"), 1), 2)
      : null;
    const quietClient = (side: Side) =>
      all.filter((r) => r.runtime === runtime && r.side === side && r.kind === kind)
        .reduce((sum, r) => sum + r.fanOutClientCpuMs, 0);
    // Deliveries/s over every round's bursts without the probe.
    const quietRate = (side: Side) => {
      const rs = all.filter((r) => r.runtime === runtime && r.side === side && r.kind === kind);
      return rs.reduce((sum, r) => sum + r.quietDeliveriesPerSec, 0) / rs.length;
    };
    const quietRatio = config.cpuBursts > 0
      ? round(quietRate("sente") / quietRate("raw"), 3)
      : null;
    const clientCpuRatio = config.cpuBursts > 0
      ? round(quietClient("sente") / Math.max(quietClient("raw"), 1), 2)
      : null;
    console.log(
      `${runtime} ${kind}: sente-lite/raw deliveries/s ${ratio} (median of per-round ratios ${
        ratios.join(", ")
      }; goal >= ${runtime === "bun" ? 0.8 : 1.0}) (${
        quietRatio ?? "n/a"
      } without the probe), CPU ×${cpuRatio} with the probe, fan-out CPU ×${
        fanOutCpuRatio ?? "n/a (--cpu-bursts 0)"
      } without, client CPU ×${clientCpuRatio ?? "n/a"} without`,
    );
    // Socket.IO (Node) against the same raw runtime, so both libraries sit on one scale.
    const sio = medianRound("node", "sio", kind);
    const vsSio = sio
      ? {
        sio,
        sioRatio: round(sio.deliveriesPerSec / raw.deliveriesPerSec, 3),
        sioCpuRatio: round(sio.serverCpuMs / Math.max(raw.serverCpuMs, 10), 2),
      }
      : {};
    if (vsSio.sio) {
      console.log(
        `${runtime} ${kind}: Socket.IO (node)/raw deliveries/s ${vsSio.sioRatio}, CPU ×${vsSio.sioCpuRatio}`,
      );
    }
    summary.push({
      runtime,
      kind,
      raw,
      sente,
      ratio,
      ratios,
      cpuRatio,
      cpuRatios,
      fanOutCpuRatio,
      quietRatio,
      clientCpuRatio,
      ...vsSio,
    });
  }
}
console.log(`sente-lite limits lifted: ${LIFTED}`);
const socketio = values.socketio === "on" ? socketIoConfig() : { skipped: "--socketio off" };
if (socketio.skipped) console.log(`Socket.IO side skipped: ${socketio.skipped}`);
console.log(JSON.stringify({
  bench: "fanout",
  summary,
  config: {
    ...config,
    socketio,
    deno: Deno.version.deno,
    lifted: LIFTED,
    clientProcess: `${config.clientRuntime} subprocess`,
    cpu:
      "server process user+system CPU (getrusage, all threads) from before the burst to after its last delivery; fan-out CPU: the mean of --cpu-bursts more bursts without the probe",
  },
}));
