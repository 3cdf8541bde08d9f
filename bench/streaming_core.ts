/**
 * The streaming core's overhead (docs/streaming.md §11): `total` bytes go from one StreamMux to
 * another over an in-memory transport (frames delivered on the next macrotask, `bufferedAmount`
 * counted), and, as the baseline in the same run, the same bytes as raw 64 KiB frames over the
 * same transport with the same high-water mark. A third run adds SHA-256 integrity.
 *
 *   deno run -A bench/streaming_core.ts [MiB=256]
 *
 * Prints a JSON line per run and one with the ratios.
 */
import { StreamMux } from "../lib/streams/mux.ts";
import type { StreamTransport } from "../lib/streams/mux.ts";

class Pipe implements StreamTransport {
  bufferedAmount = 0;
  maxBuffered = 0;
  #queue: Uint8Array[] = [];
  #scheduled = false;
  constructor(readonly deliver: (frame: Uint8Array) => void) {}
  send(frame: Uint8Array): void {
    this.#queue.push(frame);
    this.bufferedAmount += frame.byteLength;
    this.maxBuffered = Math.max(this.maxBuffered, this.bufferedAmount);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => {
        this.#scheduled = false;
        const batch = this.#queue;
        this.#queue = [];
        for (const f of batch) {
          this.bufferedAmount -= f.byteLength;
          this.deliver(f);
        }
      }, 0);
    }
  }
}

const FRAME = 64 * 1024;
const HWM = 256 * 1024;

function source(total: number): ReadableStream<Uint8Array> {
  const piece = new Uint8Array(FRAME).map((_, i) => i * 7);
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(FRAME, total - sent);
      sent += n;
      c.enqueue(piece.slice(0, n)); // a fresh buffer, as a file reader hands out
    },
  });
}

/** One run: MB/s, the largest socket buffer and the peak RSS growth (both ends, one process). */
interface Run {
  label: string;
  mib: number;
  ms: number;
  mbPerSec: number;
  maxBufferedKiB: number;
  peakRssGrowthMiB: number;
}

/** Samples RSS every 50 ms until stopped; returns the peak growth over the start. */
function rssWatch(): () => number {
  const start = Deno.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 50);
  return () => {
    clearInterval(timer);
    peak = Math.max(peak, Deno.memoryUsage().rss);
    return Math.round((peak - start) / 2 ** 20);
  };
}

async function baseline(total: number): Promise<Run> {
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => done = r);
  const pipe = new Pipe((f) => {
    received += f.byteLength - 13;
    if (received >= total) done();
  });
  const rss = rssWatch();
  const start = performance.now();
  const reader = source(total).getReader();
  let offset = 0;
  for (;;) {
    const { done: end, value } = await reader.read();
    if (end) break;
    while (pipe.bufferedAmount >= HWM) await new Promise((r) => setTimeout(r, 0));
    const frame = new Uint8Array(13 + value.byteLength); // the same header + copy as DATA
    frame[0] = 0x10;
    new DataView(frame.buffer).setUint32(9, offset);
    frame.set(value, 13);
    offset += value.byteLength;
    pipe.send(frame);
  }
  await finished;
  return result("raw frames", total, performance.now() - start, pipe.maxBuffered, rss());
}

async function streamed(total: number, integrity: boolean): Promise<Run> {
  let read = 0;
  let consumed!: Promise<void>;
  const server = new StreamMux({
    side: "server",
    maxStreamBytes: total,
    onStream: (s) => {
      s.accept();
      consumed = (async () => {
        for await (const chunk of s.readable) read += chunk.byteLength;
      })();
    },
  });
  const client = new StreamMux({ side: "client" });
  const up = new Pipe((f) => server.receive(f));
  client.attach(up);
  server.attach(new Pipe((f) => client.receive(f)));
  const rss = rssWatch();
  const start = performance.now();
  const out = client.open("bench/up", source(total), { integrity, total });
  await out.done;
  await consumed;
  if (read !== total) throw new Error(`read ${read} of ${total}`);
  return result(
    integrity ? "stream + sha256" : "stream",
    total,
    performance.now() - start,
    up.maxBuffered,
    rss(),
  );
}

function result(
  label: string,
  total: number,
  ms: number,
  maxBuffered: number,
  peakRssGrowthMiB: number,
): Run {
  return {
    label,
    mib: total / 2 ** 20,
    ms: Math.round(ms),
    mbPerSec: Math.round(total / 1e6 / (ms / 1000)),
    maxBufferedKiB: Math.round(maxBuffered / 1024),
    peakRssGrowthMiB,
  };
}

const mib = Number(Deno.args[0] ?? 256);
const total = mib * 2 ** 20;
const raw = await baseline(total);
console.log(JSON.stringify(raw));
const plain = await streamed(total, false);
console.log(JSON.stringify(plain));
const hashed = await streamed(Math.min(total, 64 * 2 ** 20), true);
console.log(JSON.stringify(hashed));
console.log(JSON.stringify({
  streamVsRaw: +(plain.mbPerSec / raw.mbPerSec).toFixed(2),
  sha256VsRaw: +(hashed.mbPerSec / raw.mbPerSec).toFixed(2),
}));
