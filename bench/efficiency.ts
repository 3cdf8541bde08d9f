/**
 * Wire efficiency benchmark: each frame transform against the same raw setup without it, in one
 * run, over real sockets on 127.0.0.1 (raw `Deno.serve` + `WebSocket` with the wire pipeline on
 * both ends, see `tests/wire/_raw_peer.ts`).
 *
 * 1. batching: 64-byte events in bursts, client → server, msg/s (goal ≥ 2×);
 * 2. compression: 10 KB and 100 KB JSON, bytes on the wire and added p50 round-trip latency
 *    (goal ≥ 60 % fewer bytes at ≤ 1 ms added p50 for 10 KB);
 * 3. chunking: 10 MB and 50 MB one-way transfers against one single frame (time, peak RSS);
 * 4. small-message round trips while a 50 MB transfer runs (p50/p99), chunked vs single frame.
 *
 * Run: `deno run -A --v8-flags=--expose-gc bench/efficiency.ts` (`--json` for the JSON line only,
 * `--quick` for smaller counts). Both ends live in this process; RSS covers both.
 */
import type { WireFeatures } from "../lib/wire/capabilities.ts";
import { connectRaw, settled, startRawServer } from "../tests/wire/_raw_peer.ts";
import type { OnEvent, RawOptions, RawPeer } from "../tests/wire/_raw_peer.ts";
import { turn } from "./_turn.ts";

const jsonOnly = Deno.args.includes("--json");
const quick = Deno.args.includes("--quick");
const NONE: WireFeatures = { batching: false, compression: false, chunking: false };
const BIG_LIMITS = {
  maxAssembledBytes: 64 * 1024 * 1024,
  // `HWM=<bytes>` tries another bulk high-water mark (default 256 KiB).
  bulkHighWaterMark: Number(Deno.env.get("HWM") ?? 262144),
};
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const log = (...args: unknown[]) => {
  if (!jsonOnly) console.log(...args);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))] : NaN;
}
const r2 = (x: number) => Math.round(x * 100) / 100;

/** A server and one client, both with `features`; `serverOn` handles events at the server. */
async function setup(options: RawOptions, serverOn: OnEvent, clientOn: OnEvent = () => {}) {
  const server = startRawServer(options, serverOn);
  const client = await connectRaw(server.url, options, clientOn);
  return {
    client,
    server,
    async close() {
      client.close();
      await server.close();
      await sleep(20);
      gc();
    },
  };
}

/** Peak RSS while `fn` runs, sampled every 10 ms; returns [result, peak - start]. */
async function withPeak<T>(fn: () => Promise<T>): Promise<[T, number]> {
  gc();
  await sleep(20);
  const rss0 = Deno.memoryUsage().rss;
  let peak = rss0;
  const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 10);
  try {
    const out = await fn();
    peak = Math.max(peak, Deno.memoryUsage().rss);
    return [out, peak - rss0];
  } finally {
    clearInterval(timer);
  }
}

// --- 1. batching -------------------------------------------------------------------------------

async function batching(features: WireFeatures, direction: "c2s" | "s2c") {
  const total = quick ? 20_000 : 100_000;
  const burst = 1000;
  let received = 0;
  let done = () => {};
  const count = () => {
    if (++received === total) done();
  };
  const s = await setup({ features }, direction === "c2s" ? count : () => {}, count);
  const finished = new Promise<void>((r) => done = r);
  const data = { t: "x".repeat(24), n: 1 }; // [["bench/e",{...}],null] = 64 bytes
  const from = direction === "c2s" ? s.client : [...s.server.peers][0];
  const start = performance.now();
  for (let sent = 0; sent < total; sent += burst) {
    for (let i = 0; i < burst; i++) from.send("bench/e", data);
    await turn(); // a burst, then the event loop turns, as in an app
  }
  await settled(from);
  await finished;
  const ms = performance.now() - start;
  const stats = from.sender.stats();
  const batch = from.batcher?.stats();
  await s.close();
  return {
    msgPerSec: Math.round(total / ms * 1000),
    frames: stats.frames,
    avgBatch: batch ? r2(batch.averageBatchSize) : 1,
    flushes: batch?.flushes,
  };
}

// --- 2. compression ------------------------------------------------------------------------------

function jsonDoc(bytes: number) {
  const rows = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const row = {
      id: i,
      name: `user-${i}`,
      email: `user${i}@example.com`,
      active: i % 3 === 0,
      score: Math.round(i * 7.31 % 100),
      tags: ["a", "b"],
    };
    size += JSON.stringify(row).length + 1;
    rows.push(row);
  }
  return { rows };
}

async function compression(features: WireFeatures, bytes: number) {
  // Server → client: a tiny request, the document pushed back. (Client → server frames of 1.2–30 KB
  // stall ~40 ms in Deno 2.9's WebSocket client, with or without compression: a runtime quirk.)
  const doc = jsonDoc(bytes);
  const n = quick ? 100 : 300;
  let wake = () => {};
  const s = await setup(
    { features },
    (peer) => peer.send("bench/doc", doc, { urgent: true }),
    () => wake(),
  );
  const rtts: number[] = [];
  for (let i = 0; i < n + 20; i++) {
    const got = new Promise<void>((r) => wake = r);
    const t = performance.now();
    s.client.send("bench/get", i, { urgent: true });
    await got;
    if (i >= 20) rtts.push(performance.now() - t);
  }
  const st = [...s.server.peers][0].sender.stats();
  await s.close();
  return {
    bytesPerMessage: Math.round(st.bytesOut / st.messages),
    p50: r2(pct(rtts, 0.5)),
    p99: r2(pct(rtts, 0.99)),
    compressMs: r2(st.compression.timeMs / Math.max(1, st.compression.messages)),
  };
}

// --- 3. chunking: transfer time and memory ---------------------------------------------------------

async function transfer(features: WireFeatures, megabytes: number) {
  let done = () => {};
  const s = await setup({ features, wire: BIG_LIMITS }, (_, id) => id === "bench/big" && done());
  const blob = "0123456789abcdef".repeat(megabytes * 62_500);
  const [ms, peak] = await withPeak(async () => {
    const got = new Promise<void>((r) => done = r);
    const t = performance.now();
    s.client.send("bench/big", blob);
    await settled(s.client);
    await got;
    return performance.now() - t;
  });
  await s.close();
  return { ms: Math.round(ms), peakMB: Math.round(peak / 1e6) };
}

// --- 4. small messages during a 50 MB transfer ------------------------------------------------------

async function duringTransferTimed(features: WireFeatures) {
  // Pongs carry their ping's sequence number; time each from its send.
  let bigDone = false;
  const sentAt = new Map<number, number>();
  const rtts: number[] = [];
  let afterBig = 0;
  const s = await setup(
    { features, wire: BIG_LIMITS },
    (peer, id, data) => {
      if (id === "bench/ping") peer.send("bench/pong", data, { urgent: true });
      if (id === "bench/big") peer.send("bench/got-big", null, { urgent: true });
    },
    (_: RawPeer, id: string, data: unknown) => {
      if (id === "bench/got-big") bigDone = true;
      if (id === "bench/pong") {
        rtts.push(performance.now() - sentAt.get(data as number)!);
        if (bigDone) afterBig++;
      }
    },
  );
  const blob = "0123456789abcdef".repeat(50 * 62_500);
  const start = performance.now();
  s.client.send("bench/big", blob, { urgent: true });
  let seq = 0;
  while (!bigDone) {
    sentAt.set(seq, performance.now());
    s.client.send("bench/ping", seq++, { urgent: true });
    await sleep(2);
  }
  const transferMs = performance.now() - start;
  await sleep(50);
  await s.close();
  return {
    transferMs: Math.round(transferMs),
    pings: seq,
    pongsBeforeEnd: rtts.length - afterBig,
    p50: r2(pct(rtts, 0.5)),
    p99: r2(pct(rtts, 0.99)),
  };
}

// --- run -------------------------------------------------------------------------------------------

const results: Record<string, unknown> = {};
const chunkOnly: WireFeatures = { ...NONE, chunking: true };
const compressOnly: WireFeatures = { ...NONE, compression: ["deflate-raw"] };

log("1. batching: 64-byte events in bursts of 1000");
results.batching = {};
for (const direction of ["c2s", "s2c"] as const) {
  const off = await batching(NONE, direction);
  const on = await batching({ ...NONE, batching: true }, direction);
  const ratio = r2(on.msgPerSec / off.msgPerSec);
  log(
    `   ${direction}: without ${off.msgPerSec} msg/s (${off.frames} frames); with ${on.msgPerSec} msg/s (${on.frames} frames, avg batch ${on.avgBatch}); ${ratio}× (goal ≥ 2×)`,
  );
  (results.batching as Record<string, unknown>)[direction] = {
    without: off,
    with: on,
    ratio,
    goal: ">= 2",
  };
}

log("2. compression (deflate-raw): tiny request, JSON document pushed back, round trip");
results.compression = {};
for (const kb of [10, 100]) {
  const off = await compression(NONE, kb * 1000);
  const on = await compression(compressOnly, kb * 1000);
  const fewer = r2(100 * (1 - on.bytesPerMessage / off.bytesPerMessage));
  const added = r2(on.p50 - off.p50);
  log(
    `   ${kb} KB: ${off.bytesPerMessage} → ${on.bytesPerMessage} bytes (${fewer} % fewer); p50 ${off.p50} → ${on.p50} ms (+${added} ms), p99 ${off.p99} → ${on.p99} ms, compress ${on.compressMs} ms/msg`,
  );
  (results.compression as Record<string, unknown>)[`${kb}KB`] = {
    without: off,
    with: on,
    percentFewerBytes: fewer,
    addedP50Ms: added,
    goal: kb === 10 ? ">= 60 % fewer bytes, <= 1 ms added p50" : undefined,
  };
}

log("3. chunking: one-way transfer client → server, chunked (64 KB) vs one single frame");
results.chunking = {};
for (const mb of [10, 50]) {
  const single = await transfer(NONE, mb);
  const chunked = await transfer(chunkOnly, mb);
  log(
    `   ${mb} MB: single frame ${single.ms} ms, +${single.peakMB} MB peak; chunked ${chunked.ms} ms, +${chunked.peakMB} MB peak`,
  );
  (results.chunking as Record<string, unknown>)[`${mb}MB`] = {
    singleFrame: single,
    chunked,
    timeRatio: r2(chunked.ms / single.ms),
    memoryRatio: r2(chunked.peakMB / Math.max(1, single.peakMB)),
  };
}

log("4. ping-pong round trips every 2 ms while a 50 MB transfer runs");
const hol = await duringTransferTimed(NONE);
const inter = await duringTransferTimed(chunkOnly);
log(
  `   single frame: transfer ${hol.transferMs} ms, ${hol.pongsBeforeEnd}/${hol.pings} pongs before it ended, p50 ${hol.p50} ms, p99 ${hol.p99} ms`,
);
log(
  `   chunked:      transfer ${inter.transferMs} ms, ${inter.pongsBeforeEnd}/${inter.pings} pongs before it ended, p50 ${inter.p50} ms, p99 ${inter.p99} ms`,
);
results.headOfLine = {
  singleFrame: hol,
  chunked: inter,
  p99Ratio: r2(inter.p99 / hol.p99),
};

console.log(JSON.stringify({ bench: "efficiency", quick, ...results }));
