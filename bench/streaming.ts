/**
 * Streams between two processes (docs/streaming.md §13): a server subprocess and this process as
 * the client. For `MiB` bytes each way it measures
 *   - raw: the same bytes as 64 KiB binary WebSocket frames on a bare `Deno.upgradeWebSocket`
 *     socket (the sender waits while `bufferedAmount` ≥ 1 MiB), the baseline of the same run,
 *     with a ping every 20 ms on another connection to the same server process (its latency is
 *     the baseline of the streams' ping: what this machine's load alone costs);
 *   - stream: `client.upload()` of a generated `ReadableStream` and `client.download()` of one,
 *     with a `request()` ping every 20 ms during the transfer (its latency is reported);
 * and each process's peak RSS growth over its RSS before the run. With `--sha` the streams carry
 * SHA-256 integrity (sender and receiver hash, the receiver checks at END: the default hash, native
 * on Deno) and each reader also hashes what it read, compared afterwards with the pattern's digest;
 * throughput then includes that hashing (three digests per transfer, two in the receiving process).
 *
 * With `--slow[=seconds]` (default 30) it measures a slow reader instead: a reader that consumes
 * 1 MiB/s of an endless body, downloading (the server process sends) then uploading (this process
 * sends); the sender's RSS and heap are sampled each second and printed with their spread.
 *
 * With `--gc` (run this process with `--v8-flags=--expose-gc` too) each sample follows a full GC;
 * in the throughput runs a full GC runs every 100 ms in both processes and the `ArrayBuffer`
 * memory left after it is reported (`upHeldMiB`, `downHeldMiB`): memory held, not garbage.
 * `--byob` reads both directions with BYOB readers into one buffer (the receiver then frees each
 * frame at once). With `--sha`, `--checked` has the readers take the stream's checked digest
 * (`msg.sha256`, `readable.sha256`) instead of hashing again. `--server-runtime=bun` runs the
 * server process (streams and the raw baseline, a bare `Bun.serve` socket) on Bun.
 *
 *   deno run -A bench/streaming.ts [MiB=256] [--sha [--checked]] [--byob] [--server-runtime=bun]
 *     [--frame=KiB] [--slow[=30]] [--gc]
 *
 * Prints one JSON line per run and a summary line.
 */
import { connect } from "../client.ts";
import { clientStreams } from "../client_streams.ts";
import { createServer } from "../server.ts";
import { sha256 } from "../lib/streams/sha256.ts";

const FRAME = 64 * 1024;
/** Bun, for `--server-runtime=bun` (installed with the project's npm packages). */
const BUN = new URL("../node_modules/.bin/bun", import.meta.url).pathname;
const RAW_HWM = 1024 * 1024;
/** The BYOB readers' buffer (`--byob`): one per reader, reused for every read. */
const BYOB_BYTES = 256 * 1024;

/** This process's arguments (the server process may run on Bun: `--server-runtime=bun`). */
const ARGS: string[] = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const IS_BUN = "Bun" in globalThis;
/** `--checked` (with `--sha`): readers use the stream's checked SHA-256 rather than hash again. */
const CHECKED = ARGS.includes("--checked");

/** This process's memory (`process.memoryUsage()`: Deno 2 and Bun both have it). */
function memoryUsage(): { rss: number; heapUsed: number; external: number } {
  return (globalThis as unknown as {
    process: { memoryUsage(): { rss: number; heapUsed: number; external: number } };
  }).process.memoryUsage();
}

/**
 * Reads `stream` to its end, calling `use` with each chunk: with `--byob` into one reused
 * buffer (the receiver then frees each frame at once), else with a default reader.
 */
async function drain(
  stream: ReadableStream<Uint8Array>,
  use: (chunk: Uint8Array) => void,
): Promise<void> {
  if (!ARGS.includes("--byob")) {
    for await (const chunk of stream) use(chunk);
    return;
  }
  const reader = stream.getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(BYOB_BYTES);
  for (;;) {
    const { value, done } = await reader.read(new Uint8Array(buffer));
    if (done) return;
    use(value);
    buffer = value.buffer as ArrayBuffer;
  }
}

/** Mux options from `--hwm=KiB`, `--window=KiB`, `--frame=KiB`, `--poll=ms`, `--slice=n`, for both processes. */
function muxOptions(): Record<string, number> {
  const o: Record<string, number> = {};
  for (const a of ARGS) {
    const m = /^--(hwm|window|poll|slice|frame)=(\d+)$/.exec(a);
    if (!m) continue;
    const v = Number(m[2]);
    if (m[1] === "hwm") o.highWaterMark = v * 1024;
    if (m[1] === "window") o.windowBytes = v * 1024;
    if (m[1] === "poll") o.pollMs = v;
    if (m[1] === "slice") o.sliceFrames = v;
    if (m[1] === "frame") o.frameBytes = v * 1024;
  }
  return o;
}

/** A chunk of the pattern at `offset` (fresh bytes, as a reader of a file would get). */
function chunkAt(offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4096) out[i] = ((offset + i) >>> 12) & 255;
  return out;
}

function hex(h: { digest(): Uint8Array }): string {
  return Array.from(h.digest(), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Writes the pattern's bytes at `offset` into `out` (what {@linkcode chunkAt} makes). */
function fillAt(out: Uint8Array, offset: number): void {
  out.fill(0);
  for (let p = Math.ceil(offset / 4096) * 4096; p < offset + out.byteLength; p += 4096) {
    out[p - offset] = (p >>> 12) & 255;
  }
}

/**
 * A generated body of `total` bytes: a byte stream, as a file's `readable` is, so a BYOB reader
 * (the streams' sender) has it written into its own buffer and a default reader gets fresh 64 KiB
 * chunks.
 */
function body(total: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: FRAME,
    pull(c) {
      const request = c.byobRequest!; // always there, with autoAllocateChunkSize
      if (offset >= total) {
        c.close();
        return request.respond(0);
      }
      const view = request.view!;
      const n = Math.min(view.byteLength, total - offset);
      fillAt(new Uint8Array(view.buffer, view.byteOffset, n), offset);
      offset += n;
      request.respond(n);
    },
  });
}

/** A full GC, where this process can force one (`--expose-gc` on Deno; Bun always). */
const fullGc: (() => void) | undefined = IS_BUN
  ? () => (globalThis as unknown as { Bun: { gc(sync: boolean): void } }).Bun.gc(true)
  : (globalThis as { gc?: () => void }).gc;

/**
 * Peak RSS since the last reset, sampled every 20 ms. With `--gc` a reset starts from a full GC,
 * and every 100 ms a full GC runs and the `ArrayBuffer` memory left after it is noted: its peak
 * is what the process held (the credit window, frames in hand), as opposed to garbage.
 */
class RssMeter {
  base = memoryUsage().rss;
  peak = this.base;
  held = 0;
  #ticks = 0;
  readonly #gc = ARGS.includes("--gc") ? fullGc : undefined;
  readonly #timer = setInterval(() => {
    if (this.#gc && ++this.#ticks % 5 === 0) {
      // twice: V8 frees dead ArrayBuffers' memory lazily after a GC, the next one finishes that
      this.#gc();
      this.#gc();
      this.held = Math.max(this.held, memoryUsage().external);
    }
    this.sample();
  }, 20);
  sample(): void {
    this.peak = Math.max(this.peak, memoryUsage().rss);
  }
  reset(): void {
    this.#gc?.();
    this.base = this.peak = memoryUsage().rss;
    this.held = 0;
  }
  growthMiB(): number {
    this.sample();
    return Math.round((this.peak - this.base) / 1048576);
  }
  /** The most `ArrayBuffer` memory left after a full GC since the reset (with `--gc`), MiB. */
  heldMiB(): number {
    return Math.round(this.held / 104857.6) / 10;
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

async function serve(): Promise<void> {
  const rss = new RssMeter();
  const withSha = ARGS.includes("--sha");
  // With `--sha` downloads carry the SHA-256 too (the client checks it), as uploads do.
  const server = createServer({
    onError: () => {},
    streams: { ...muxOptions(), downloadIntegrity: withSha },
  });
  server.onStream("bench/up", async (msg) => {
    // `--checked`: the reader takes the stream's checked digest instead of hashing again.
    const h = withSha && !CHECKED ? sha256() : null;
    let n = 0;
    await drain(msg.stream, (chunk) => {
      h?.update(chunk);
      n += chunk.byteLength;
    });
    return { n, sha: h ? hex(h) : withSha ? await msg.sha256 : null };
  });
  server.on("bench/down", (msg) => body((msg.data as { size: number }).size));
  server.on("bench/ping", () => "pong");
  server.on("bench/mem", () => memory());
  server.onStream("bench/slow-up", async (msg) => {
    let n = 0;
    for await (const _ of slowly(msg.stream, (msg.meta as { seconds: number }).seconds)) n++;
    return n;
  });
  server.on("bench/rss", (msg) => {
    const growth = [rss.growthMiB(), rss.heldMiB()];
    if ((msg.data as { reset?: boolean })?.reset) rss.reset();
    return growth;
  });
  const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
  const raw = IS_BUN ? rawBun(rss) : rawDeno(rss);
  console.log(JSON.stringify({ url: handle.url, raw, runtime: IS_BUN ? "bun" : "deno" }));
}

/**
 * The baseline's server side: counts what arrives (`up:n`, answered `ok:n`), sends `down:n` bytes
 * as 64 KiB frames while `bufferedAmount` < 1 MiB, and answers `rss:` with its RSS growth.
 */
interface RawPeer {
  send(data: string | Uint8Array): void;
  readonly bufferedAmount: number;
}

function rawHandler(
  rss: RssMeter,
  peer: RawPeer,
): (data: string | ArrayBufferLike | Uint8Array) => void {
  let expected = 0;
  let got = 0;
  return async (data) => {
    if (typeof data === "string") {
      const [what, n] = data.split(":");
      if (what === "up") [expected, got] = [Number(n), 0];
      if (what === "down") {
        const total = Number(n);
        for (let off = 0; off < total; off += FRAME) {
          while (peer.bufferedAmount >= RAW_HWM) await new Promise((r) => setTimeout(r, 1));
          peer.send(chunkAt(off, Math.min(FRAME, total - off)));
        }
      }
      if (what === "rss") {
        peer.send(`rss:${rss.growthMiB()}`);
        rss.reset();
      }
      return;
    }
    got += data.byteLength;
    if (got === expected) peer.send(`ok:${got}`);
  };
}

/** The baseline on a bare `Deno.upgradeWebSocket` socket; its URL. */
function rawDeno(rss: RssMeter): string {
  const raw = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    const on = rawHandler(rss, socket);
    socket.onmessage = (e) => on(e.data);
    return response;
  });
  return `ws://127.0.0.1:${raw.addr.port}/`;
}

/** A Bun server WebSocket, as much of it as the baseline uses. */
interface BunSocket {
  send(data: string | Uint8Array): number;
  getBufferedAmount(): number;
  data: { on?: (data: string | Uint8Array) => void };
}

/** The baseline on a bare `Bun.serve` WebSocket (frames as Bun delivers them); its URL. */
function rawBun(rss: RssMeter): string {
  const bun = (globalThis as unknown as {
    Bun: {
      serve(options: unknown): { port: number };
    };
  }).Bun;
  const raw = bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req: Request, srv: { upgrade(req: Request, o: unknown): boolean }) {
      return srv.upgrade(req, { data: {} }) ? undefined : new Response("upgrade", { status: 400 });
    },
    websocket: {
      open(ws: BunSocket) {
        ws.data.on = rawHandler(rss, {
          send: (d) => void ws.send(d),
          get bufferedAmount() {
            return ws.getBufferedAmount();
          },
        });
      },
      message(ws: BunSocket, message: string | Uint8Array) {
        ws.data.on?.(message);
      },
    },
  });
  return `ws://127.0.0.1:${raw.port}/`;
}

function waitText(ws: WebSocket, prefix: string): Promise<string> {
  return new Promise((resolve) => {
    const on = (e: MessageEvent) => {
      if (typeof e.data === "string" && e.data.startsWith(prefix)) {
        ws.removeEventListener("message", on);
        resolve(e.data.slice(prefix.length));
      }
    };
    ws.addEventListener("message", on);
  });
}

/** Pings `bench/ping` on its own connection every 20 ms until `stop()`; the latencies, sorted. */
function pinger(url: string): { stop(): Promise<number[]> } {
  const client = connect(url);
  const pings: number[] = [];
  let pinging = true;
  const loop = (async () => {
    await client.ready;
    while (pinging) {
      const t0 = performance.now();
      await client.request("bench/ping");
      pings.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      pinging = false;
      await loop;
      client.close();
      return pings.sort((a, b) => a - b);
    },
  };
}

async function rawRun(
  url: string,
  total: number,
  rss: RssMeter,
  senteUrl: string,
): Promise<Record<string, number | number[]>> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((r) => ws.onopen = r);
  ws.send("rss:");
  await waitText(ws, "rss:");
  rss.reset();
  // The ping baseline: a ping on another connection to the same process while raw frames flow.
  const pings = pinger(senteUrl);
  let t = performance.now();
  ws.send(`up:${total}`);
  const ok = waitText(ws, "ok:");
  for (let off = 0; off < total; off += FRAME) {
    while (ws.bufferedAmount >= RAW_HWM) await new Promise((r) => setTimeout(r, 1));
    ws.send(chunkAt(off, Math.min(FRAME, total - off)));
  }
  await ok;
  const upMs = performance.now() - t;
  // RSS growth per direction: the receiver's is the one to watch.
  ws.send("rss:");
  const serverUpRss = Number(await waitText(ws, "rss:"));
  const clientUpRss = rss.growthMiB();
  rss.reset();
  t = performance.now();
  let got = 0;
  const done = new Promise<void>((resolve) => {
    ws.onmessage = (e) => {
      if (typeof e.data === "string") return;
      got += (e.data as ArrayBuffer).byteLength;
      if (got === total) resolve();
    };
  });
  ws.send(`down:${total}`);
  await done;
  const downMs = performance.now() - t;
  const latencies = await pings.stop();
  ws.onmessage = null;
  ws.send("rss:");
  const serverRss = Number(await waitText(ws, "rss:"));
  ws.close();
  const mb = total / 1e6;
  return {
    upMBps: Math.round(mb / (upMs / 1000)),
    downMBps: Math.round(mb / (downMs / 1000)),
    clientRssMiB: Math.max(clientUpRss, rss.growthMiB()),
    serverRssMiB: Math.max(serverUpRss, serverRss),
    upRssMiB: [clientUpRss, serverUpRss],
    downRssMiB: [rss.growthMiB(), serverRss],
    pingP50Ms: p(latencies, 0.5),
    pingP99Ms: p(latencies, 0.99),
  };
}

function p(sorted: number[], q: number): number {
  return sorted.length
    ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 10) / 10
    : NaN;
}

async function streamRun(
  url: string,
  total: number,
  rss: RssMeter,
  withSha: boolean,
): Promise<Record<string, unknown>> {
  const client = connect(url, { streams: clientStreams(muxOptions()) });
  await client.ready;
  await client.request("bench/rss", { reset: true });
  // The noise floor: ping latency with nothing streaming (2 s), on this (shared) machine now.
  const idle: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t0 = performance.now();
    await client.request("bench/ping");
    idle.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  idle.sort((a, b) => a - b);
  rss.reset();
  const pings: number[] = [];
  let pinging = true;
  const pinger = (async () => {
    while (pinging) {
      const t0 = performance.now();
      await client.request("bench/ping");
      pings.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  // Upload: the generated byte stream itself, as a file's `readable` would be given.
  let t = performance.now();
  const reply = await client.upload("bench/up", body(total), { integrity: withSha }) as {
    n: number;
    sha: string | null;
  };
  const upMs = performance.now() - t;
  const [serverUpRss, serverUpHeld] = await client.request("bench/rss", {
    reset: true,
  }) as number[];
  const clientUpRss = rss.growthMiB();
  const clientUpHeld = rss.heldMiB();
  rss.reset();
  t = performance.now();
  const readable = await client.download("bench/down", { size: total });
  const h = sha256();
  let got = 0;
  await drain(readable, (chunk) => {
    if (withSha && !CHECKED) h.update(chunk);
    got += chunk.byteLength;
  });
  const downMs = performance.now() - t;
  // Read now: the digest check below allocates, and is not the receiver's memory.
  const clientDownRss = rss.growthMiB();
  const clientDownHeld = rss.heldMiB();
  pinging = false;
  await pinger;
  const [serverRss, serverHeld] = await client.request("bench/rss", { reset: true }) as number[];
  client.close();
  pings.sort((a, b) => a - b);
  const mb = total / 1e6;
  let shaUp: boolean | null = null;
  let shaDown: boolean | null = null;
  if (withSha) {
    // What both readers must have hashed: the pattern's digest, computed after the timed runs.
    const want = sha256();
    const piece = new Uint8Array(FRAME);
    for (let off = 0; off < total; off += FRAME) {
      const n = Math.min(FRAME, total - off);
      fillAt(piece.subarray(0, n), off);
      want.update(piece.subarray(0, n));
    }
    const expected = hex(want);
    shaUp = reply.sha === expected;
    shaDown = (CHECKED ? await readable.sha256 : hex(h)) === expected;
  }
  return {
    upMBps: Math.round(mb / (upMs / 1000)),
    downMBps: Math.round(mb / (downMs / 1000)),
    bytesUp: reply.n,
    bytesDown: got,
    clientRssMiB: Math.max(clientUpRss, clientDownRss),
    serverRssMiB: Math.max(serverUpRss, serverRss),
    // [client, server]: the receiver is the server going up, the client coming down
    upRssMiB: [clientUpRss, serverUpRss],
    downRssMiB: [clientDownRss, serverRss],
    // with --gc: ArrayBuffer memory still held right after a full GC, peak, [client, server]
    ...(ARGS.includes("--gc")
      ? { upHeldMiB: [clientUpHeld, serverUpHeld], downHeldMiB: [clientDownHeld, serverHeld] }
      : {}),
    pings: pings.length,
    pingP50Ms: p(pings, 0.5),
    pingP99Ms: p(pings, 0.99),
    idlePingP99Ms: p(idle, 0.99),
    shaUpEqual: shaUp,
    shaDownEqual: shaDown,
  };
}

/**
 * This process's RSS, heap used and external (ArrayBuffer) memory, in MiB with one decimal;
 * after a full GC when run with `--gc` (the processes then get `--expose-gc`), so that garbage
 * not yet collected is told apart from memory held.
 */
function memory(): { rss: number; heap: number; external: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = memoryUsage();
  const mib = (n: number) => Math.round(n / 104857.6) / 10;
  return { rss: mib(m.rss), heap: mib(m.heapUsed), external: mib(m.external) };
}

/** Reads `stream` at 1 MiB/s for `seconds`, then cancels it; yields once per MiB read. */
async function* slowly(stream: ReadableStream<Uint8Array>, seconds: number): AsyncGenerator<void> {
  const reader = stream.getReader();
  const start = performance.now();
  let bytes = 0;
  try {
    for (let s = 1; s <= seconds; s++) {
      while (bytes < s * 1048576) {
        const { value, done } = await reader.read();
        if (done) return;
        bytes += value.byteLength;
      }
      yield;
      const wait = start + s * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  } finally {
    await reader.cancel("enough").catch(() => {});
  }
}

type Mem = ReturnType<typeof memory>;

/** Spread (max − min) and the first and last of samples, for one field. */
function spread(samples: Mem[], k: keyof Mem): object {
  const v = samples.map((x) => x[k]);
  return {
    first: v[0],
    last: v[v.length - 1],
    min: Math.min(...v),
    max: Math.max(...v),
    spread: Math.round((Math.max(...v) - Math.min(...v)) * 10) / 10,
  };
}

/** The slow-reader runs: the sender's memory, each second, while the reader takes 1 MiB/s. */
async function slowRun(url: string, seconds: number): Promise<void> {
  const client = connect(url, { streams: clientStreams(muxOptions()) });
  await client.ready;
  const endless = 1024 ** 3; // never reached at 1 MiB/s (and within maxStreamBytes)
  // Download: the server sends, this process reads 1 MiB/s; the server's memory is sampled.
  const down: Mem[] = [];
  const readable = await client.download("bench/down", { size: endless });
  for await (const _ of slowly(readable, seconds)) {
    down.push(await client.request("bench/mem") as Mem);
  }
  console.log(JSON.stringify({
    run: "slow-down",
    seconds,
    readMiB: down.length,
    senderRssMiB: spread(down, "rss"),
    senderHeapMiB: spread(down, "heap"),
    senderExternalMiB: spread(down, "external"),
    rss: down.map((x) => x.rss),
  }));
  // Upload: this process sends, the server reads 1 MiB/s; this process's memory is sampled.
  const up: Mem[] = [];
  const timer = setInterval(() => up.push(memory()), 1000);
  const read = await client.upload("bench/slow-up", body(endless), { meta: { seconds } })
    .catch(() => null); // the server cancels the stream after `seconds`
  clearInterval(timer);
  console.log(JSON.stringify({
    run: "slow-up",
    seconds,
    readMiB: read,
    senderRssMiB: spread(up, "rss"),
    senderHeapMiB: spread(up, "heap"),
    senderExternalMiB: spread(up, "external"),
    rss: up.map((x) => x.rss),
  }));
  client.close();
}

async function main(): Promise<void> {
  const mib = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 256);
  const withSha = Deno.args.includes("--sha");
  const total = mib * 1024 * 1024;
  // `--server-runtime=bun`: the server process (streams and the raw baseline) runs on Bun.
  const bun = Deno.args.includes("--server-runtime=bun");
  const self = new URL(import.meta.url).pathname;
  const child = new Deno.Command(bun ? BUN : Deno.execPath(), {
    args: bun ? [self, "--serve", ...Deno.args] : [
      "run",
      "-A",
      ...(Deno.args.includes("--gc") ? ["--v8-flags=--expose-gc"] : []),
      self,
      "--serve",
      ...Deno.args,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the server process ended");
    buffered += value;
  }
  const info = JSON.parse(buffered.split("\n")[0]);
  const rss = new RssMeter();
  const slow = Deno.args.find((a) => a.startsWith("--slow"));
  try {
    if (slow) return await slowRun(info.url, Number(slow.split("=")[1] ?? 30));
    const raw = await rawRun(info.raw, total, rss, info.url);
    console.log(JSON.stringify({ run: "raw", MiB: mib, server: info.runtime, ...raw }));
    const stream = await streamRun(info.url, total, rss, withSha);
    console.log(JSON.stringify({
      run: withSha ? "stream+sha" : "stream",
      MiB: mib,
      server: info.runtime,
      byob: Deno.args.includes("--byob"),
      ...stream,
      loadavg: Deno.loadavg()[0], // the machine is shared: ping tails follow its load
    }));
    console.log(JSON.stringify({
      run: "ratio",
      up: Math.round((stream.upMBps as number) / (raw.upMBps as number) * 100) / 100,
      down: Math.round((stream.downMBps as number) / (raw.downMBps as number) * 100) / 100,
    }));
  } finally {
    rss.stop();
    child.kill("SIGTERM");
    await child.status;
  }
}

if (ARGS.includes("--serve")) await serve();
else await main();
