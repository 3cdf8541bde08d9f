import assert from "node:assert/strict";
import { InflationLimiter, turn } from "../../lib/wire/inflation.ts";
import { compress, decompress, INFLATE_SLICE } from "../../lib/wire/compression.ts";
import { DecompressionBombError, WireError } from "../../lib/wire/errors.ts";
import { WireReceiver } from "../../lib/wire/pipeline.ts";
import { splitIntoChunks } from "../../lib/wire/chunking.ts";
import { FLAG_DEFLATE_RAW } from "../../lib/wire/flags.ts";
import type { Frame } from "../../lib/packers/packer.ts";

const zeros = (n: number) => new Uint8Array(n);

Deno.test("InflationLimiter runs at most maxConcurrent at once, then the waiters in FIFO order", async () => {
  const limiter = new InflationLimiter({ maxConcurrent: 2 });
  const a = await limiter.acquire();
  const b = await limiter.acquire();
  const order: string[] = [];
  const c = limiter.acquire().then((r) => (order.push("c"), r));
  const d = limiter.acquire().then((r) => (order.push("d"), r));
  await turn();
  assert.deepEqual(order, []);
  assert.equal(limiter.stats().waiting, 2);
  a();
  a(); // a second release of the same slot is ignored
  const rc = await c;
  assert.deepEqual(order, ["c"]);
  assert.equal(limiter.stats().active, 2);
  b();
  const rd = await d;
  rc();
  rd();
  assert.deepEqual(order, ["c", "d"]);
  assert.deepEqual(limiter.stats(), {
    maxConcurrent: 2,
    active: 0,
    peakActive: 2,
    waiting: 0,
    peakWaiting: 2,
    started: 4,
    bytesPerSecond: 64 * 1024 * 1024,
    inflatedBytes: 0,
    throttledMs: 0,
  });
  assert.throws(() => new InflationLimiter({ maxConcurrent: 0 }), RangeError);
  assert.throws(() => new InflationLimiter({ maxConcurrent: 1.5 }), RangeError);
});

Deno.test("InflationLimiter.spend() asks for a pause past its shared rate", () => {
  let now = 0;
  const limiter = new InflationLimiter({ bytesPerSecond: 8000, now: () => now });
  assert.equal(limiter.spend(1000), 0, "within the burst (an eighth of the rate)");
  assert.equal(limiter.spend(1000), 125, "1000 bytes over: 125 ms at 8000 B/s");
  now += 125;
  assert.equal(limiter.spend(0), 0);
  assert.equal(new InflationLimiter({ bytesPerSecond: 0 }).spend(1 << 30), 0, "no rate");
  assert.deepEqual(
    [limiter.stats().inflatedBytes, limiter.stats().throttledMs],
    [2000, 125],
  );
  assert.throws(() => new InflationLimiter({ bytesPerSecond: -1 }), RangeError);
});

Deno.test("decompress() stops a bomb within one step of the limit, for gzip and deflate-raw", async () => {
  for (const format of ["gzip", "deflate-raw"] as const) {
    const body = await compress(zeros(32 * 1024 * 1024), format);
    let charged = 0;
    await assert.rejects(
      decompress(body, format, { maxBytes: 1 << 20, charge: (n) => (charged += n, true) }),
      DecompressionBombError,
    );
    // One step inflates at most ~1032 × INFLATE_SLICE bytes; nothing past the limit is charged.
    assert.ok(charged <= 1 << 20, `${format}: charged ${charged}`);
    assert.ok(INFLATE_SLICE * 1032 <= 2 << 20);
  }
});

Deno.test("decompress() stops as soon as charge() refuses a step", async () => {
  const body = await compress(zeros(8 * 1024 * 1024), "deflate-raw");
  let charged = 0;
  const charge = (n: number) => charged + n <= 512 * 1024 && (charged += n, true);
  const error = await decompress(body, "deflate-raw", { maxBytes: 64 << 20, charge }).then(
    () => null,
    (e) => e,
  );
  assert.ok(error instanceof WireError);
  assert.equal(error.code, "inflate-rate-limited");
  assert.equal(error.fatal, false);
  assert.ok(charged <= 512 * 1024);
});

Deno.test("decompress() stops when its signal aborts", async () => {
  const body = await compress(zeros(8 * 1024 * 1024), "deflate-raw");
  const abort = new AbortController();
  let steps = 0;
  await decompress(body, "deflate-raw", {
    maxBytes: 64 << 20,
    signal: abort.signal,
    charge: () => (++steps === 2 && abort.abort(), true),
  }).then(() => assert.fail("should stop"), (e) => {
    assert.ok(e instanceof WireError);
    assert.equal(e.code, "decompress-failed");
  });
  assert.ok(steps <= 3, `${steps} steps`);
});

function receiver(options: ConstructorParameters<typeof WireReceiver>[2], charge?: () => boolean) {
  const frames: Frame[] = [];
  const errors: WireError[] = [];
  const r = new WireReceiver(
    { batching: false, compression: "deflate-raw", chunking: true },
    { frame: (f) => void frames.push(f), error: (e) => void errors.push(e), charge },
    options,
  );
  return { r, frames, errors };
}

async function flagged(n: number): Promise<Uint8Array> {
  const body = await compress(zeros(n), "deflate-raw");
  const frame = new Uint8Array(body.byteLength + 1);
  frame[0] = FLAG_DEFLATE_RAW;
  frame.set(body, 1);
  return frame;
}

Deno.test("WireReceiver: one frame inflates to maxMessageBytes, a chunked one to maxAssembledBytes", async () => {
  const { r, frames, errors } = receiver({ maxMessageBytes: 100_000, maxAssembledBytes: 300_000 });
  const frame = await flagged(200_000);
  r.receive(frame);
  await r.idle();
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, "decompression-bomb");
  for (const chunk of splitIntoChunks(frame, { chunkSize: 100, messageId: 1 })) r.receive(chunk);
  await r.idle();
  assert.equal(errors.length, 1);
  assert.equal(frames.length, 1);
  assert.equal((frames[0] as Uint8Array).byteLength, 200_000);
  for (const chunk of splitIntoChunks(await flagged(400_000), { chunkSize: 100, messageId: 2 })) {
    r.receive(chunk);
  }
  await r.idle();
  assert.equal(errors.length, 2);
  assert.equal(errors[1].code, "decompression-bomb");
});

Deno.test("WireReceiver inflates one message at a time, within the shared limiter, and bounds its queue", async () => {
  const inflation = new InflationLimiter({ maxConcurrent: 1 });
  const held = await inflation.acquire(); // another connection is inflating
  const { r, frames, errors } = receiver({ inflation, maxQueuedInflations: 3 });
  const frame = await flagged(10_000);
  for (let i = 0; i < 3; i++) r.receive(frame);
  assert.equal(r.stats().queuedInflations, 3);
  r.receive(frame);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, "inflate-backlog");
  assert.equal(errors[0].fatal, true);
  assert.equal(errors[0].closeCode, 4029);
  assert.equal(frames.length, 0, "nothing inflates while the limiter is full");
  held();
  await r.idle();
  assert.equal(frames.length, 3);
  assert.equal(inflation.stats().peakActive, 1);
  assert.equal(r.stats().queuedInflations, 0);
});

Deno.test("WireReceiver charges inflated bytes; a message that finds the rate in debt is refused uninflated", async () => {
  let budget = 50_000;
  const { r, frames, errors } = receiver({}, () => budget >= 0);
  const charged: number[] = [];
  const rr = new WireReceiver(
    { batching: false, compression: "deflate-raw", chunking: false },
    {
      frame: (f) => void frames.push(f),
      error: (e) => void errors.push(e),
      charge: (n) => (charged.push(n), budget -= n, budget >= 0),
    },
  );
  const frame = await flagged(40_000);
  rr.receive(frame);
  rr.receive(frame); // starts within the budget (10 kB left): completes, into debt
  rr.receive(frame); // finds the debt: refused before inflating
  await rr.idle();
  assert.equal(frames.length, 2);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, "inflate-rate-limited");
  const total = charged.reduce((a, b) => a + b, 0);
  assert.ok(
    total >= 80_000 && total < 120_000,
    `the first two were charged, not the third: ${total}`,
  );
  r.close();
});

Deno.test("WireReceiver.close() aborts the inflation in progress and frees the limiter slot", async () => {
  const inflation = new InflationLimiter({ maxConcurrent: 1 });
  const { r, frames } = receiver({ inflation, maxMessageBytes: 64 << 20 });
  r.receive(await flagged(32 << 20));
  await turn();
  r.close();
  const release = await inflation.acquire(); // resolves once the aborted inflation let go
  release();
  await r.idle();
  assert.equal(frames.length, 0);
});

Deno.test("WireSender chunks a message over maxMessageBytes even when it compresses into one chunk", async () => {
  const { WireSender } = await import("../../lib/wire/pipeline.ts");
  const settings = { batching: false, compression: "deflate-raw", chunking: true } as const;
  const { r, frames, errors } = receiver({ maxMessageBytes: 100_000 });
  const sent: Frame[] = [];
  const sender = new WireSender(settings, {
    send: (f) => (sent.push(f), r.receive(f)),
    bufferedAmount: 0,
  }, { maxMessageBytes: 100_000 });
  const big = JSON.stringify(["x".repeat(300_000)]); // ~1 KB compressed, far below chunkSize
  const small = JSON.stringify(["y".repeat(50_000)]);
  sender.send(big);
  sender.send(small);
  await sender.idle();
  await r.idle();
  assert.deepEqual(errors, []);
  assert.equal(frames.length, 2);
  assert.deepEqual(sent.map((f) => (f as Uint8Array)[0]).sort(), [FLAG_DEFLATE_RAW, 0x03]);
  assert.equal(sender.stats().chunkedMessages, 1);
});
