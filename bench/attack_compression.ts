/**
 * Compression amplification under attack, through real sockets. Three processes: the server
 * (default options, so its RSS is its own, read from /proc/<pid>/status), the attackers, and this
 * one with a healthy client that sends a request every 10 ms and times each reply.
 *
 *   deno run -A bench/attack_compression.ts [attackSeconds=20] [connectionsPerMode=2] [modes]
 *
 * Phases: baseline (no attacker), attack (attackers at full speed), after (10 s once they left).
 * Attack modes, each on its own connections, reconnecting whenever closed:
 * - `big`: one frame of ~60 KiB deflate-raw/gzip (alternating) that inflates to 60 MiB;
 * - `under`: frames that inflate to just under 1 MiB (the one-frame limit), back to back;
 * - `chunked`: a chunked transfer of a compressed payload that inflates to 60 MiB;
 * - `raw` (not in the default set): the control, uncompressed frames of just under 1 MiB, back to
 *   back: what the same traffic costs without any inflation.
 *
 * Prints p50/p99/max latency per phase, RSS baseline/peak/after, and one JSON line.
 * The attackers run under `nice -n 10` (`ATTACK_NICE=0`: not): on a small machine they would
 * otherwise take the CPU from the server and the healthy client, which a remote attacker cannot.
 * `ATTACK_SERVER_FLAGS` adds `deno run` flags to the server (e.g. `--cpu-prof`), and
 * `ATTACK_GC_LOG=<file>` keeps its non-JSON output (e.g. with `--v8-flags=--trace-gc`).
 */
import { createServer } from "../server.ts";
import { compress } from "../lib/wire/compression.ts";
import { splitIntoChunks } from "../lib/wire/chunking.ts";
import { FLAG_DEFLATE_RAW, FLAG_GZIP } from "../lib/wire/flags.ts";

const SELF = new URL(import.meta.url).pathname;
const BASELINE_S = 5;
const AFTER_S = 10;
const WIRE = "wire=compression:deflate-raw,compression:gzip,chunking";

// ------------------------------------------------------------------ server process

async function serverMain(): Promise<void> {
  const server = createServer({ onError: () => {} });
  // Small answers: the bench measures what inflation costs, not compressing big replies.
  server.on("bench/echo", (msg) => typeof msg.data === "string" ? msg.data.length : msg.data);
  const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0)); // lets --cpu-prof write its profile
  console.log(JSON.stringify({ ready: true, port: handle.port, pid: Deno.pid }));
  // Event-loop lag seen by the server itself: how late a 5 ms timer fires.
  const lags: number[] = [];
  let expected = performance.now() + 5;
  setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - expected));
    expected = now + 5;
  }, 5);
  // ATTACK_SERVER_GC=1 with ATTACK_SERVER_FLAGS=--v8-flags=--expose-gc: a full GC every second,
  // to tell garbage the GC has not collected yet from memory the allocator keeps.
  const gc = Deno.env.get("ATTACK_SERVER_GC") ? (globalThis as { gc?: () => void }).gc : undefined;
  // ATTACK_SERVER_TRIM=1: glibc's malloc_trim(0) every second (FFI), to tell memory glibc keeps
  // from memory still in use.
  const trim = Deno.env.get("ATTACK_SERVER_TRIM")
    ? Deno.dlopen("libc.so.6", { malloc_trim: { parameters: ["usize"], result: "i32" } })
    : undefined;
  setInterval(() => {
    gc?.();
    trim?.symbols.malloc_trim(0n);
    const s = server.stats();
    const lag = lags.splice(0).sort((a, b) => a - b);
    console.log(JSON.stringify({
      stats: { wire: s.wire, errors: s.errors, conns: s.connections },
      lag: { p99: quantile(lag, 0.99), max: lag.at(-1) ?? 0 },
      mem: Deno.memoryUsage(), // which part of the RSS is the JS heap and its ArrayBuffers
    }));
  }, 1000);
}

// ------------------------------------------------------------------ attacker process

async function flagged(size: number, format: "gzip" | "deflate-raw"): Promise<Uint8Array> {
  const event = new TextEncoder().encode(`[["bench/echo","${"a".repeat(size)}"],null]`);
  const body = await compress(event, format);
  const frame = new Uint8Array(body.byteLength + 1);
  frame[0] = format === "gzip" ? FLAG_GZIP : FLAG_DEFLATE_RAW;
  frame.set(body, 1);
  return frame;
}

type Mode = "big" | "under" | "chunked" | "raw";

async function attackerMain(
  url: string,
  seconds: number,
  perMode: number,
  modes: Mode[],
): Promise<void> {
  const big = [await flagged(60 << 20, "deflate-raw"), await flagged(60 << 20, "gzip")];
  const under = [await flagged(1_000_000, "deflate-raw"), await flagged(1_000_000, "gzip")];
  const rawEvent = new TextEncoder().encode(`[["bench/echo","${"a".repeat(1_000_000)}"],null]`);
  const raw = new Uint8Array(rawEvent.byteLength + 1); // flag 0x00: raw
  raw.set(rawEvent, 1);
  let id = 0;
  const chunked = () => splitIntoChunks(big[id % 2], { chunkSize: 16 * 1024, messageId: id++ });
  const counts = { frames: 0, bytes: 0, connects: 0, closes: {} as Record<string, number> };
  const end = Date.now() + seconds * 1000;
  const run = async (mode: Mode) => {
    while (Date.now() < end) {
      const ws = new WebSocket(`${url}?client-id=${crypto.randomUUID()}&packer=json&${WIRE}`);
      counts.connects++;
      const closed = new Promise<number>((resolve) => {
        ws.onclose = (e) => resolve(e.code);
        ws.onerror = () => {};
      });
      let open = false;
      ws.onopen = () => void (open = true);
      let n = 0;
      const pump = async () => {
        while (ws.readyState <= WebSocket.OPEN && Date.now() < end) {
          if (!open || ws.bufferedAmount > 1 << 20) {
            await new Promise((r) => setTimeout(r, 1));
            continue;
          }
          const frames = mode === "big"
            ? [big[n % 2]]
            : mode === "under"
            ? [under[n % 2]]
            : mode === "raw"
            ? [raw]
            : chunked();
          n++;
          for (const f of frames) {
            ws.send(f);
            counts.frames++;
            counts.bytes += f.byteLength;
          }
          if (n % 8 === 0) await new Promise((r) => setTimeout(r, 0));
        }
        if (ws.readyState === WebSocket.OPEN) ws.close();
      };
      pump();
      // The attack ends on time even if a close handshake hangs.
      const code = await Promise.race([
        closed,
        new Promise<number>((r) => setTimeout(() => r(-1), Math.max(0, end - Date.now()) + 500)),
      ]);
      counts.closes[code] = (counts.closes[code] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await Promise.all(modes.flatMap((m) => Array.from({ length: perMode }, () => run(m))));
  console.log(JSON.stringify({ attacker: counts }));
  Deno.exit(0); // sockets still closing must not keep the attack going
}

// ------------------------------------------------------------------ the bench

function rss(pid: number): { rss: number; hwm: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
}

function lines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): void {
  (async () => {
    let buf = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buf += text;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
  })().catch(() => {});
}

function spawn(
  args: string[],
  onLine: (line: string) => void,
  nice = false,
): Deno.ChildProcess {
  // ATTACK_SERVER_FLAGS: extra `deno run` flags for the server (e.g. --cpu-prof).
  const extra = args[0] === "--server"
    ? (Deno.env.get("ATTACK_SERVER_FLAGS") ?? "").split(" ").filter(Boolean)
    : [];
  const argv = ["run", "-A", ...extra, SELF, ...args];
  const child = new Deno.Command(nice ? "nice" : Deno.execPath(), {
    args: nice ? ["-n", "10", Deno.execPath(), ...argv] : argv,
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  lines(child.stdout, onLine);
  return child;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

const MB = 1024 * 1024;

async function main(attackSeconds: number, perMode: number, modes: Mode[]): Promise<void> {
  type Phase = "baseline" | "attack" | "after";
  let phase: Phase = "baseline";
  let ready: (v: { port: number; pid: number }) => void;
  const started = new Promise<{ port: number; pid: number }>((r) => (ready = r));
  let lastStats: unknown = null;
  let lastMem: Record<string, number> = {};
  const loopLag: Record<Phase, { p99: number; max: number }[]> = {
    baseline: [],
    attack: [],
    after: [],
  };
  const gcLines: string[] = [];
  const server = spawn(["--server"], (line) => {
    if (!line.startsWith("{")) return void gcLines.push(line); // e.g. --v8-flags=--trace-gc
    const msg = JSON.parse(line);
    if (msg.ready) ready(msg);
    if (msg.stats) lastStats = msg.stats;
    if (msg.mem) lastMem = msg.mem;
    if (msg.lag) loopLag[phase].push(msg.lag);
  });
  const { port, pid } = await started;
  const url = `ws://127.0.0.1:${port}/chsk`;

  // The healthy client: a plain connection, one request every 10 ms.
  const latencies: Record<Phase, number[]> = { baseline: [], attack: [], after: [] };
  const lost: Record<Phase, number> = { baseline: 0, attack: 0, after: 0 };
  const ws = new WebSocket(`${url}?client-id=healthy&packer=json`);
  const pending = new Map<string, { at: number; phase: Phase }>();
  await new Promise<void>((resolve) => {
    ws.onmessage = () => resolve(); // the handshake
  });
  ws.onmessage = (e) => {
    const m = /,"(h\d+)"\]$/.exec(String(e.data));
    const p = m && pending.get(m[1]);
    if (!p) return;
    pending.delete(m![1]);
    latencies[p.phase].push(performance.now() - p.at);
  };
  let seq = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    for (const [id, p] of pending) {
      if (now - p.at > 5000) {
        pending.delete(id);
        lost[p.phase]++;
        latencies[p.phase].push(5000);
      }
    }
    const id = `h${seq}`;
    pending.set(id, { at: now, phase });
    ws.send(`[["bench/echo",${seq++}],"${id}"]`);
  }, 10);

  const samples: { t: number; rss: number; phase: Phase }[] = [];
  const t0 = performance.now();
  const sampler = setInterval(() => {
    try {
      samples.push({ t: performance.now() - t0, rss: rss(pid).rss, phase });
    } catch { /* exited */ }
  }, 100);
  const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

  console.log(`baseline ${BASELINE_S} s …`);
  await sleep(BASELINE_S);
  const baselineRss = rss(pid).rss;
  phase = "attack";
  console.log(`attack ${attackSeconds} s (${perMode} connections per mode) …`);
  let attackerReport: unknown = null;
  const args = ["--attacker", url, String(attackSeconds), String(perMode), modes.join(",")];
  const attacker = spawn(args, (line) => {
    const msg = JSON.parse(line);
    if (msg.attacker) attackerReport = msg.attacker;
  }, Deno.env.get("ATTACK_NICE") !== "0");
  await attacker.status;
  const attackEnd = performance.now();
  phase = "after";
  console.log(`after ${AFTER_S} s …`);
  await sleep(AFTER_S);
  const after = rss(pid);
  const afterAt = (performance.now() - attackEnd) / 1000;
  clearInterval(ticker);
  clearInterval(sampler);
  ws.close();
  server.kill("SIGTERM");
  // A stalled server (the old code under attack) may not get to its SIGTERM listener.
  const killer = setTimeout(() => server.kill("SIGKILL"), 2000);
  await server.status;
  clearTimeout(killer);

  const gcPath = Deno.env.get("ATTACK_GC_LOG");
  if (gcPath) Deno.writeTextFileSync(gcPath, gcLines.join("\n"));
  const peak = Math.max(after.hwm, ...samples.map((s) => s.rss));
  const summary = (p: Phase) => {
    const sorted = latencies[p].slice().sort((a, b) => a - b);
    return {
      n: sorted.length,
      lost: lost[p],
      p50Ms: +quantile(sorted, 0.5).toFixed(2),
      p99Ms: +quantile(sorted, 0.99).toFixed(2),
      maxMs: +(sorted.at(-1) ?? NaN).toFixed(2),
      // The server's own event-loop lag (worst 1-second window's p99, and the max).
      serverLoopLagP99Ms: +Math.max(0, ...loopLag[p].map((l) => l.p99)).toFixed(2),
      serverLoopLagMaxMs: +Math.max(0, ...loopLag[p].map((l) => l.max)).toFixed(2),
    };
  };
  const result = {
    bench: "attack_compression",
    attackSeconds,
    connectionsPerMode: perMode,
    modes,
    latency: { baseline: summary("baseline"), attack: summary("attack"), after: summary("after") },
    rssMB: {
      baseline: +(baselineRss / MB).toFixed(1),
      peak: +(peak / MB).toFixed(1),
      after: +(after.rss / MB).toFixed(1),
      afterSeconds: +afterAt.toFixed(1),
      peakGrowth: +((peak - baselineRss) / MB).toFixed(1),
      afterGrowth: +((after.rss - baselineRss) / MB).toFixed(1),
      // The server's own view at the end: V8 heap (total/used) and ArrayBuffers outside it.
      afterHeapTotal: +((lastMem.heapTotal ?? 0) / MB).toFixed(1),
      afterHeapUsed: +((lastMem.heapUsed ?? 0) / MB).toFixed(1),
      afterExternal: +((lastMem.external ?? 0) / MB).toFixed(1),
      // RSS each second after the attackers left: does it come back, and how fast.
      afterSeries: samples.filter((s) => s.phase === "after" && Math.round(s.t / 100) % 10 === 0)
        .map((s) => +(s.rss / MB).toFixed(0)),
    },
    ratios: {
      p99AttackOverBaseline: 0,
      peakRssOverBaseline: +(peak / baselineRss).toFixed(2),
    },
    attacker: attackerReport,
    server: lastStats,
  };
  result.ratios.p99AttackOverBaseline = +(
    result.latency.attack.p99Ms / result.latency.baseline.p99Ms
  ).toFixed(1);
  for (const p of ["baseline", "attack", "after"] as const) {
    const l = result.latency[p];
    console.log(
      `${p.padEnd(8)} n=${
        String(l.n).padStart(5)
      } lost=${l.lost} p50=${l.p50Ms} ms p99=${l.p99Ms} ms max=${l.maxMs} ms | server loop lag p99 ${l.serverLoopLagP99Ms} ms, max ${l.serverLoopLagMaxMs} ms`,
    );
  }
  const r = result.rssMB;
  console.log(
    `RSS baseline ${r.baseline} MB, peak ${r.peak} MB (+${r.peakGrowth}), after ${r.afterSeconds} s ${r.after} MB (+${r.afterGrowth}); heap ${r.afterHeapUsed}/${r.afterHeapTotal} MB, external ${r.afterExternal} MB; after, each s: ${
      r.afterSeries.join(" ")
    }`,
  );
  const goals = {
    p99: result.latency.attack.p99Ms <= 50,
    max: result.latency.attack.maxMs <= 1000,
    peak: r.peakGrowth <= 256,
  };
  console.log(`goals (p99 ≤ 50 ms, max ≤ 1 s, RSS peak growth ≤ 256 MB): ${JSON.stringify(goals)}`);
  console.log(JSON.stringify({ ...result, goals }));
}

if (import.meta.main) {
  const [mode, ...rest] = Deno.args;
  const modes = (m = "big,under,chunked") => m.split(",") as Mode[];
  if (mode === "--server") await serverMain();
  else if (mode === "--attacker") {
    await attackerMain(rest[0], Number(rest[1]), Number(rest[2]), modes(rest[3]));
  } else await main(Number(mode ?? 20), Number(rest[0] ?? 2), modes(rest[1]));
}
