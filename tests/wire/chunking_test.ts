import assert from "node:assert/strict";
import fc from "fast-check";
import { VirtualClock } from "../../lib/util/clock.ts";
import {
  CHUNK_HEADER_BYTES,
  chunkRange,
  encodeChunk,
  readChunkHeader,
  Reassembler,
  ReassemblyBudget,
  splitIntoChunks,
} from "../../lib/wire/chunking.ts";
import { WireError } from "../../lib/wire/errors.ts";
import { FLAG_CHUNK, FLAG_DEFLATE_RAW } from "../../lib/wire/flags.ts";

const bytes = (n: number, seed = 1) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

Deno.test("splitIntoChunks() writes the documented 17-byte big-endian header", () => {
  const chunks = splitIntoChunks(bytes(10), { chunkSize: 4, messageId: 0x01020304 });
  assert.equal(chunks.length, 3);
  assert.deepEqual(
    [...chunks[1].subarray(0, CHUNK_HEADER_BYTES)],
    [FLAG_CHUNK, 1, 2, 3, 4, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 10],
  );
  // floor(i·10/3): chunks of 3, 3, 4 bytes, never more than chunkSize.
  assert.deepEqual(chunks.map((c) => c.length - CHUNK_HEADER_BYTES), [3, 3, 4]);
  assert.deepEqual(readChunkHeader(chunks[2]), {
    messageId: 0x01020304,
    index: 2,
    count: 3,
    totalBytes: 10,
  });
});

Deno.test("splitIntoChunks() of a flag + body payload equals splitting the joined bytes", () => {
  const body = bytes(1000);
  const joined = new Uint8Array([FLAG_DEFLATE_RAW, ...body]);
  assert.deepEqual(
    splitIntoChunks({ flag: FLAG_DEFLATE_RAW, body }, { chunkSize: 64, messageId: 9 }),
    splitIntoChunks(joined, { chunkSize: 64, messageId: 9 }),
  );
});

Deno.test("splitIntoChunks() throws RangeError past maxChunks", () => {
  assert.throws(
    () => splitIntoChunks(bytes(101), { chunkSize: 10, maxChunks: 10, messageId: 1 }),
    RangeError,
  );
});

Deno.test("Reassembler reassembles any split in any order, with duplicates", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5000 }),
      fc.integer({ min: 1, max: 700 }),
      fc.integer(),
      fc.integer({ min: 0, max: 0xffffffff }),
      (length, chunkSize, seed, messageId) => {
        const payload = bytes(length, seed);
        const chunks = splitIntoChunks(payload, { chunkSize, messageId, maxChunks: 10_000 });
        for (const c of chunks) assert.ok(c.length - CHUNK_HEADER_BYTES <= chunkSize);
        // A deterministic shuffle with some duplicates.
        const order = chunks.map((_, i) => i).sort((a, b) => ((a * seed) % 7) - ((b * seed) % 7));
        order.push(...order.filter((i) => i % 3 === 0));
        const r = new Reassembler({ clock: new VirtualClock(), maxChunks: 10_000 });
        const results = order.map((i) => r.accept(chunks[i])).filter((x) => x !== null);
        assert.equal(results.length, 1);
        assert.deepEqual(results[0], payload);
        assert.equal(r.stats().pending, 0);
        assert.equal(r.stats().bufferedBytes, 0);
      },
    ),
    { seed: 42, numRuns: 200 },
  );
});

Deno.test("Reassembler ignores duplicate chunks, also after the message completed", () => {
  const r = new Reassembler({ clock: new VirtualClock() });
  const chunks = splitIntoChunks(bytes(100), { chunkSize: 40, messageId: 7 });
  assert.equal(r.accept(chunks[0]), null);
  assert.equal(r.accept(chunks[0]), null);
  assert.equal(r.accept(chunks[1]), null);
  assert.deepEqual(r.accept(chunks[2]), bytes(100));
  assert.equal(r.accept(chunks[1]), null);
  assert.deepEqual(r.stats(), {
    chunks: 4,
    duplicates: 2,
    messages: 1,
    timeouts: 0,
    evictions: 0,
    corrupt: 0,
    bufferedBytes: 0,
    pending: 0,
  });
});

Deno.test("Reassembler rejects corrupted chunks with bad-chunk and drops their message", () => {
  const r = new Reassembler({ clock: new VirtualClock() });
  const chunks = splitIntoChunks(bytes(100), { chunkSize: 40, messageId: 3 });
  r.accept(chunks[0]);
  const truncated = chunks[1].subarray(0, chunks[1].length - 1);
  assert.throws(() => r.accept(truncated), (e) => e instanceof WireError && e.code === "bad-chunk");
  assert.equal(r.stats().pending, 0, "the message was dropped");
  const wrongCount = chunks[2].slice();
  wrongCount[12] = 9; // count 9, but index 2 of 3-chunk sizes
  assert.throws(() => r.accept(wrongCount), { code: "bad-chunk" });
  const impossible = chunks[0].slice();
  impossible[8] = 5; // index 5 of 3
  assert.throws(() => r.accept(impossible), { code: "bad-chunk" });
  assert.throws(() => r.accept(new Uint8Array([FLAG_CHUNK, 1, 2])), { code: "bad-chunk" });
  // Same id, but a different total than the chunks before it.
  r.accept(chunks[0]);
  const other = splitIntoChunks(bytes(90), { chunkSize: 40, messageId: 3 });
  assert.throws(() => r.accept(other[1]), { code: "bad-chunk", messageId: 3 });
  assert.equal(r.stats().pending, 0);
  assert.equal(r.stats().corrupt, 5);
});

Deno.test("Reassembler drops a message missing a chunk after timeoutMs of silence", () => {
  const clock = new VirtualClock();
  const dropped: WireError[] = [];
  const r = new Reassembler({ clock, timeoutMs: 30_000, onDrop: (e) => dropped.push(e) });
  const chunks = splitIntoChunks(bytes(300), { chunkSize: 100, messageId: 11 });
  r.accept(chunks[0]);
  clock.tick(20_000);
  r.accept(chunks[2]); // progress re-arms the timeout
  clock.tick(29_999);
  assert.equal(dropped.length, 0);
  clock.tick(1);
  assert.equal(dropped.length, 1);
  assert.equal(dropped[0].code, "chunk-timeout");
  assert.equal(dropped[0].messageId, 11);
  assert.equal(r.stats().timeouts, 1);
  assert.equal(r.stats().bufferedBytes, 0);
  assert.equal(clock.pending, 0);
  // A late chunk starts over and never completes on its own.
  assert.equal(r.accept(chunks[1]), null);
  r.close();
  assert.equal(clock.pending, 0);
});

Deno.test("Reassembler rejects a message over maxAssembledBytes on its first chunk", () => {
  const r = new Reassembler({ clock: new VirtualClock(), maxAssembledBytes: 1000 });
  const chunks = splitIntoChunks(bytes(1001), { chunkSize: 100, messageId: 1 });
  assert.throws(
    () => r.accept(chunks[5]),
    (e) =>
      e instanceof WireError && e.code === "assembled-too-large" && e.fatal &&
      e.closeCode === 1009,
  );
  assert.equal(r.stats().bufferedBytes, 0);
});

Deno.test("Reassembler evicts the oldest incomplete message past maxBufferedBytes", () => {
  const dropped: WireError[] = [];
  const r = new Reassembler({
    clock: new VirtualClock(),
    maxAssembledBytes: 1000,
    maxBufferedBytes: 2500,
    onDrop: (e) => dropped.push(e),
  });
  const a = splitIntoChunks(bytes(1000), { chunkSize: 100, messageId: 1 });
  const b = splitIntoChunks(bytes(1000), { chunkSize: 100, messageId: 2 });
  const c = splitIntoChunks(bytes(1000), { chunkSize: 100, messageId: 3 });
  r.accept(a[0]);
  r.accept(b[0]);
  r.accept(c[0]);
  assert.deepEqual(dropped.map((e) => [e.code, e.messageId]), [["chunk-evicted", 1]]);
  assert.equal(r.stats().bufferedBytes, 2000);
  for (const chunk of b.slice(1)) r.accept(chunk);
  assert.equal(r.stats().messages, 1);
  assert.equal(r.stats().evictions, 1);
});

Deno.test("ReassemblyBudget evicts the globally oldest message across connections", () => {
  const budget = new ReassemblyBudget(2000);
  const dropped: string[] = [];
  const clock = new VirtualClock();
  const r1 = new Reassembler({
    clock,
    budget,
    maxAssembledBytes: 1000,
    onDrop: (e) => dropped.push(`r1:${e.messageId}`),
  });
  const r2 = new Reassembler({
    clock,
    budget,
    maxAssembledBytes: 1000,
    onDrop: (e) => dropped.push(`r2:${e.messageId}`),
  });
  r1.accept(splitIntoChunks(bytes(1000), { chunkSize: 100, messageId: 1 })[0]);
  r2.accept(splitIntoChunks(bytes(800), { chunkSize: 100, messageId: 1 })[0]);
  assert.equal(budget.used, 1800);
  r2.accept(splitIntoChunks(bytes(500), { chunkSize: 100, messageId: 2 })[0]);
  assert.deepEqual(dropped, ["r1:1"]);
  assert.equal(budget.used, 1300);
  assert.equal(r1.stats().bufferedBytes, 0);
  r2.close();
  assert.equal(budget.used, 0);
});

Deno.test("Reassembler checks its options with RangeError", () => {
  assert.throws(() => new Reassembler({ timeoutMs: 0 }), RangeError);
  assert.throws(() => new Reassembler({ maxAssembledBytes: 10, maxBufferedBytes: 5 }), RangeError);
  assert.throws(
    () => new Reassembler({ maxAssembledBytes: 10, budget: new ReassemblyBudget(5) }),
    RangeError,
  );
});

Deno.test("chunkRange() covers the payload exactly, each chunk at most chunkSize", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e8 }), fc.integer({ min: 1, max: 1e6 }), (t, c) => {
      const n = Math.ceil(t / c);
      fc.pre(n <= 5000);
      let prev = 0;
      for (let i = 0; i < n; i++) {
        const [s, e] = chunkRange(i, n, t);
        assert.equal(s, prev);
        assert.ok(e - s >= 1 && e - s <= c);
        prev = e;
      }
      assert.equal(prev, t);
    }),
    { seed: 7, numRuns: 200 },
  );
  assert.equal(encodeChunk(bytes(5), 1, 0, 1).length, CHUNK_HEADER_BYTES + 5);
});
