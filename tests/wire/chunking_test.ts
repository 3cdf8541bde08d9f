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
    refused: 0,
    ignored: 0,
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
  // minRate 1 B/s: the deadline (30 s + 300 s) is far, this is about the idle timeout.
  const r = new Reassembler({
    clock,
    timeoutMs: 30_000,
    minRate: 1,
    onDrop: (e) => dropped.push(e),
  });
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
  // A late chunk of the dropped message is ignored: no restart, no memory, no second error.
  assert.equal(r.accept(chunks[1]), null);
  assert.equal(r.stats().pending, 0);
  assert.equal(r.stats().ignored, 1);
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

/** The chunks of a message of `total` bytes in chunks of `size`, with id `id`. */
const message = (total: number, size: number, id: number, seed = id) =>
  splitIntoChunks(bytes(total, seed), { chunkSize: size, messageId: id, maxChunks: 10_000 });

const busy = (e: unknown) => e instanceof WireError && e.code === "reassembly-busy" && !e.fatal;

Deno.test("Reassembler holds the bytes received, not the announced size", () => {
  const budget = new ReassemblyBudget(64 * 1024 * 1024);
  const r = new Reassembler({ clock: new VirtualClock(), budget, maxBufferedBytes: 2 ** 27 });
  // A liar announces 64 MiB and sends one 64 KiB chunk: 64 KiB is held, not 64 MiB.
  const liar = encodeChunk(new Uint8Array(64 * 1024 * 1024), 1, 0, 1000);
  assert.equal(readChunkHeader(liar).totalBytes, 64 * 1024 * 1024);
  assert.equal(r.accept(liar), null);
  const first = liar.length - CHUNK_HEADER_BYTES; // 67108 bytes
  assert.equal(r.stats().bufferedBytes, first);
  assert.equal(budget.used, first);
  // An honest message: held bytes grow with every chunk, and the whole is right at the end.
  const chunks = message(1000, 300, 2);
  let held = first;
  for (const chunk of chunks.slice(0, -1)) {
    r.accept(chunk);
    held += chunk.length - CHUNK_HEADER_BYTES;
    assert.equal(r.stats().bufferedBytes, held);
    assert.equal(budget.used, held);
  }
  assert.deepEqual(r.accept(chunks.at(-1)!), bytes(1000, 2));
  assert.equal(r.stats().bufferedBytes, first, "released on completion");
  assert.equal(budget.used, first);
  r.close();
  assert.equal(r.stats().bufferedBytes, 0, "released on close");
  assert.equal(budget.used, 0);
});

Deno.test("Reassembler copies a chunk whose frame is a view into a larger buffer", () => {
  const r = new Reassembler({ clock: new VirtualClock() });
  const chunks = message(100, 50, 1);
  const big = new Uint8Array(1000);
  big.set(chunks[0], 10);
  r.accept(big.subarray(10, 10 + chunks[0].length));
  big.fill(0); // the owner reuses its buffer
  assert.deepEqual(r.accept(chunks[1]), bytes(100, 1));
});

Deno.test("Reassembler refuses a new message past its own bounds and never evicts its own", () => {
  const dropped: WireError[] = [];
  const r = new Reassembler({
    clock: new VirtualClock(),
    maxAssembledBytes: 1000,
    maxBufferedBytes: 2500,
    maxPendingMessages: 3,
    onDrop: (e) => dropped.push(e),
  });
  const a = message(1000, 100, 1);
  const b = message(1000, 100, 2);
  const c = message(1000, 100, 3);
  r.accept(a[0]);
  r.accept(b[0]);
  // 2000 announced + 1000 > 2500: c is refused, a and b stay.
  assert.throws(() => r.accept(c[0]), (e) => busy(e) && (e as WireError).messageId === 3);
  // Later chunks of c are ignored, without another error.
  for (const chunk of c.slice(1)) assert.equal(r.accept(chunk), null);
  assert.deepEqual(r.stats().ignored, 9);
  assert.equal(r.stats().bufferedBytes, 200);
  for (const chunk of b.slice(1, -1)) r.accept(chunk);
  assert.deepEqual(r.accept(b.at(-1)!), bytes(1000, 2));
  for (const chunk of a.slice(1, -1)) r.accept(chunk);
  assert.deepEqual(r.accept(a.at(-1)!), bytes(1000, 1));
  assert.deepEqual(dropped, []);
  // At most maxPendingMessages incomplete at once, whatever their size.
  r.accept(message(10, 5, 4)[0]);
  r.accept(message(10, 5, 5)[0]);
  r.accept(message(10, 5, 6)[0]);
  assert.throws(() => r.accept(message(10, 5, 7)[0]), busy);
  assert.deepEqual(r.stats().refused, 2);
  r.close();
});

Deno.test("ReassemblyBudget: no eviction across connections; a new message is refused when full", () => {
  const budget = new ReassemblyBudget(2000);
  const dropped: WireError[] = [];
  const clock = new VirtualClock();
  const options = {
    clock,
    budget,
    maxAssembledBytes: 1000,
    onDrop: (e: WireError) => dropped.push(e),
  };
  const victim = new Reassembler(options);
  const attacker = new Reassembler(options);
  const v = message(1000, 100, 1);
  victim.accept(v[0]);
  // Attackers' announced sizes cost nothing: only their bytes count.
  for (let id = 1; id <= 4; id++) attacker.accept(message(1000, 100, id)[0]);
  assert.equal(budget.used, 500);
  assert.deepEqual(dropped, []);
  // The attacker fills the budget with bytes it really sends...
  const a = message(1000, 100, 1);
  for (const chunk of a.slice(1, 5)) attacker.accept(chunk);
  assert.equal(budget.used, 900);
  // ...until a new message no longer fits: refused, nothing else is touched.
  const late = new Reassembler(options);
  assert.equal(late.accept(message(500, 100, 9)[0]), null); // 900 + 500 fits
  attacker.accept(a[5]);
  assert.equal(budget.used, 1100);
  assert.throws(() => late.accept(message(1000, 100, 10)[0]), busy); // 1100 + 1000 does not
  assert.equal(budget.used, 1100);
  assert.deepEqual(dropped, []);
  // The victim's admitted message still completes.
  for (const chunk of v.slice(1, -1)) victim.accept(chunk);
  assert.deepEqual(victim.accept(v.at(-1)!), bytes(1000, 1));
  assert.equal(budget.used, 1100 - 100);
  attacker.close();
  late.close();
  victim.close();
  assert.equal(budget.used, 0);
});

Deno.test("ReassemblyBudget: a chunk that does not fit refuses its own message only", () => {
  const budget = new ReassemblyBudget(1000);
  const clock = new VirtualClock();
  const options = { clock, budget, maxAssembledBytes: 1000 };
  const r1 = new Reassembler(options);
  const r2 = new Reassembler(options);
  const a = message(1000, 100, 1);
  const b = message(600, 100, 1);
  for (const chunk of a.slice(0, 3)) r1.accept(chunk);
  for (const chunk of b.slice(0, 5)) r2.accept(chunk); // 300 held + 600 announced fit
  r1.accept(a[3]);
  r1.accept(a[4]);
  assert.equal(budget.used, 1000);
  // The budget is full of bytes really received: a's next chunk refuses a, and releases it.
  assert.throws(() => r1.accept(a[5]), (e) => busy(e) && /server's/.test((e as WireError).message));
  assert.equal(budget.used, 500);
  assert.equal(r1.stats().bufferedBytes, 0);
  for (const chunk of a.slice(6)) assert.equal(r1.accept(chunk), null); // ignored
  assert.equal(r1.stats().ignored, 4);
  assert.deepEqual(r2.accept(b[5]), bytes(600, 1));
  assert.equal(budget.used, 0);
});

Deno.test("Reassembler: duplicates are not progress, and a trickle is cut at the minimum rate", () => {
  const clock = new VirtualClock();
  const budget = new ReassemblyBudget(10_000_000);
  const dropped: WireError[] = [];
  const r = new Reassembler({
    clock,
    budget,
    timeoutMs: 30_000,
    minRate: 1000,
    maxAssembledBytes: 100_000,
    onDrop: (e) => dropped.push(e),
  });
  // Resending chunk 0 every 20 s does not keep the message alive.
  const dup = message(300, 100, 1);
  r.accept(dup[0]);
  clock.tick(20_000);
  r.accept(dup[0]);
  clock.tick(10_000);
  assert.deepEqual(dropped.map((e) => e.code), ["chunk-timeout"]);
  // A new chunk every 29 s: 100 chunks of 100 bytes must end by 30 s + 10000 B / 1000 B/s = 40 s.
  const slow = message(10_000, 100, 2);
  for (let i = 0; i < slow.length && dropped.length < 2; i++) {
    r.accept(slow[i]);
    clock.tick(29_000);
  }
  assert.equal(dropped.length, 2);
  assert.match(dropped[1].message, /slower than 1000 bytes\/s/);
  assert.equal(clock.now(), 58_000 + 30_000, "dropped at the second tick past the 40 s deadline");
  assert.equal(r.stats().timeouts, 2);
  assert.equal(r.stats().bufferedBytes, 0, "released on timeout");
  assert.equal(budget.used, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("Reassembler checks its options with RangeError", () => {
  assert.throws(() => new Reassembler({ timeoutMs: 0 }), RangeError);
  assert.throws(() => new Reassembler({ minRate: 0 }), RangeError);
  assert.throws(() => new Reassembler({ maxPendingMessages: 1.5 }), RangeError);
  assert.throws(() => new ReassemblyBudget(0), RangeError);
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
