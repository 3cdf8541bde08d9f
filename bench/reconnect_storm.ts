/**
 * Reconnection storm: N clients connected to a server process; the server is SIGKILLed and
 * restarted on the same port, and every client's way back (from its `open → reconnecting` to its
 * reconnect handshake) is timed. The same run repeats with jitter 0 as the baseline, so the
 * histograms show what ±25 % jitter does to the herd.
 *
 *   deno run -A bench/reconnect_storm.ts [clients=500]
 *
 * Prints one histogram per run and a JSON line with the numbers.
 */
import { type Client, connect } from "../client.ts";
import { Child } from "../tests/runtime/_child.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SERVER = new URL("../tests/integration/reconnect_server.ts", import.meta.url).pathname;

/** Options of {@linkcode runStorm}. */
export interface StormOptions {
  /** Number of clients. */
  clients: number;
  /** Reconnect jitter (0.25 is the default of the client). */
  jitter: number;
  /** Print progress. */
  log?: boolean;
  /** Histogram bucket width, in ms. */
  bucketMs?: number;
}

/** What {@linkcode runStorm} measured. */
export interface StormResult {
  clients: number;
  jitter: number;
  reconnected: number;
  /** Per-client time from losing the connection to the reconnect handshake. */
  delays: { minMs: number; p50Ms: number; p90Ms: number; maxMs: number; spreadMs: number };
  /** Most reconnect handshakes within one bucket. */
  peakPerBucket: number;
  /** `[bucket start ms, count]`. */
  histogram: [number, number][];
  /** Milliseconds from the SIGKILL until the new server listened. */
  restartMs: number;
  /** The histogram as text. */
  report: string;
}

async function startServer(port: number): Promise<{ child: Child; port: number }> {
  const child = new Child("reconnect_server.ts", Deno.execPath(), [
    "run",
    "-A",
    SERVER,
    String(port),
  ], ROOT);
  const line = await child.line("ready", (l) => l.includes('"ready"'), 20_000);
  return { child, port: JSON.parse(line).port };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Runs one storm. */
export async function runStorm(options: StormOptions): Promise<StormResult> {
  const { clients: n, jitter, log = false, bucketMs = 50 } = options;
  let server = await startServer(0);
  const url = `ws://127.0.0.1:${server.port}/chsk`;
  const clients: Client[] = [];
  const lostAt = new Array<number>(n).fill(NaN);
  const backAt = new Array<number>(n).fill(NaN);
  let back = 0;
  let allBack!: () => void;
  const everyoneBack = new Promise<void>((r) => allBack = r);
  try {
    for (let i = 0; i < n; i++) {
      const c = connect(url, { reconnect: { jitter }, onError: () => {} });
      c.on("chsk/state", (d) => {
        const s = d as { from: string; to: string };
        if (s.from === "open" && s.to === "reconnecting") lostAt[i] = performance.now();
      });
      c.on("chsk/handshake", (h) => {
        if ((h as { first: boolean }).first) return;
        backAt[i] = performance.now();
        if (++back === n) allBack();
      });
      clients.push(c);
    }
    await Promise.all(clients.map((c) => c.ready));
    if (log) console.error(`${n} clients open; killing the server`);
    const killedAt = performance.now();
    await server.child.stop("SIGKILL");
    server = await startServer(server.port);
    const restartMs = performance.now() - killedAt;
    if (log) console.error(`server back after ${restartMs.toFixed(0)} ms`);
    await Promise.race([everyoneBack, new Promise((r) => setTimeout(r, 60_000))]);
    const delays = lostAt.map((l, i) => backAt[i] - l).filter((d) => Number.isFinite(d));
    delays.sort((a, b) => a - b);
    const first = Math.floor((delays[0] ?? 0) / bucketMs) * bucketMs;
    const counts = new Map<number, number>();
    for (const d of delays) {
      const b = Math.floor(d / bucketMs) * bucketMs;
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    const last = Math.floor((delays.at(-1) ?? 0) / bucketMs) * bucketMs;
    const histogram: [number, number][] = [];
    for (let b = first; b <= last; b += bucketMs) histogram.push([b, counts.get(b) ?? 0]);
    const peak = Math.max(0, ...histogram.map(([, c]) => c));
    const scale = Math.max(1, peak / 50);
    const lines = histogram.map(([b, c]) =>
      `${String(b).padStart(6)}–${String(b + bucketMs).padEnd(6)} ms | ${
        "#".repeat(Math.round(c / scale))
      } ${c}`
    );
    const stats = {
      minMs: Math.round(delays[0] ?? NaN),
      p50Ms: Math.round(quantile(delays, 0.5)),
      p90Ms: Math.round(quantile(delays, 0.9)),
      maxMs: Math.round(delays.at(-1) ?? NaN),
      spreadMs: Math.round((delays.at(-1) ?? 0) - (delays[0] ?? 0)),
    };
    const report = [
      `reconnection storm: ${n} clients, jitter ±${jitter * 100} %, ${delays.length} back, ` +
      `server restarted in ${restartMs.toFixed(0)} ms`,
      `time from loss to reconnect handshake: min ${stats.minMs} p50 ${stats.p50Ms} p90 ${stats.p90Ms} max ${stats.maxMs} ms, peak ${peak} per ${bucketMs} ms`,
      ...lines,
    ].join("\n");
    return {
      clients: n,
      jitter,
      reconnected: delays.length,
      delays: stats,
      peakPerBucket: peak,
      histogram,
      restartMs: Math.round(restartMs),
      report,
    };
  } finally {
    for (const c of clients) c.close();
    await server.child.stop("SIGKILL");
  }
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 500);
  const jittered = await runStorm({ clients: n, jitter: 0.25, log: true });
  console.log(jittered.report + "\n");
  const baseline = await runStorm({ clients: n, jitter: 0, log: true });
  console.log(baseline.report + "\n");
  const { report: _a, ...j } = jittered;
  const { report: _b, ...b } = baseline;
  console.log(JSON.stringify({
    bench: "reconnect_storm",
    jittered: { ...j, histogram: undefined },
    baseline: { ...b, histogram: undefined },
    peakRatio: +(b.peakPerBucket / Math.max(1, j.peakPerBucket)).toFixed(2),
  }));
}
