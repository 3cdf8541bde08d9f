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
    reservedBytes: 0,
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

Deno.test("Reassembler reserves the announced size but holds only the bytes received", () => {
  const budget = new ReassemblyBudget(64 * 1024 * 1024 + 1000);
  const r = new Reassembler({ clock: new VirtualClock(), budget, maxBufferedBytes: 2 ** 27 });
  // A liar announces 64 MiB and sends one 64 KiB chunk: 64 MiB is reserved, 64 KiB is held.
  const liar = encodeChunk(new Uint8Array(64 * 1024 * 1024), 1, 0, 1000);
  assert.equal(readChunkHeader(liar).totalBytes, 64 * 1024 * 1024);
  assert.equal(r.accept(liar), null);
  const first = liar.length - CHUNK_HEADER_BYTES; // 67108 bytes
  assert.equal(r.stats().bufferedBytes, first);
  assert.equal(r.stats().reservedBytes, 64 * 1024 * 1024);
  assert.equal(budget.used, 64 * 1024 * 1024);
  // An honest message: reserved once, held bytes grow with every chunk, the whole is right.
  const chunks = message(1000, 300, 2);
  let held = first;
  for (const chunk of chunks.slice(0, -1)) {
    r.accept(chunk);
    held += chunk.length - CHUNK_HEADER_BYTES;
    assert.equal(r.stats().bufferedBytes, held);
    assert.equal(budget.used, 64 * 1024 * 1024 + 1000);
  }
  assert.deepEqual(r.accept(chunks.at(-1)!), bytes(1000, 2));
  assert.equal(r.stats().bufferedBytes, first, "released on completion");
  assert.equal(budget.used, 64 * 1024 * 1024);
  r.close();
  assert.equal(r.stats().bufferedBytes, 0, "released on close");
  assert.equal(r.stats().reservedBytes, 0);
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
  assert.equal(r.stats().reservedBytes, 2000);
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

Deno.test("ReassemblyBudget: an admitted message completes whatever others send; new ones are refused", () => {
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
  const late = new Reassembler(options);
  const v = message(1000, 100, 1);
  victim.accept(v[0]);
  assert.equal(budget.used, 1000, "the victim's whole message is reserved");
  const a = message(1000, 100, 1);
  attacker.accept(a[0]);
  assert.equal(budget.used, 2000);
  // The budget is reserved: new messages are refused, on any connection, whatever their size.
  const serverFull = (e: unknown) => busy(e) && /server's/.test((e as WireError).message);
  assert.throws(() => attacker.accept(message(10, 5, 2)[0]), serverFull);
  assert.throws(() => late.accept(message(500, 100, 9)[0]), serverFull);
  // The attacker fills memory with bytes it really sends: its chunks are never refused...
  for (const chunk of a.slice(1, -1)) assert.equal(attacker.accept(chunk), null);
  assert.equal(attacker.stats().bufferedBytes, 900);
  // ...and the victim's admitted message still completes, chunk by chunk.
  for (const chunk of v.slice(1, -1)) assert.equal(victim.accept(chunk), null);
  assert.deepEqual(victim.accept(v.at(-1)!), bytes(1000, 1));
  assert.equal(budget.used, 1000);
  assert.deepEqual(dropped, []);
  // Its reservation released, a new message fits again (a fresh id: 9 stays refused).
  assert.equal(late.accept(message(500, 100, 9)[0]), null);
  assert.equal(late.stats().ignored, 1);
  assert.equal(late.accept(message(500, 100, 10)[0]), null);
  assert.equal(budget.used, 1500);
  assert.equal(late.stats().refused, 1);
  attacker.close();
  late.close();
  victim.close();
  assert.equal(budget.used, 0);
});

Deno.test("Reassembler: a message that falls behind minRate after graceMs is dropped", () => {
  const clock = new VirtualClock();
  const budget = new ReassemblyBudget(100_000);
  const dropped: WireError[] = [];
  const r = new Reassembler({
    clock,
    budget,
    timeoutMs: 30_000,
    graceMs: 1000,
    minRate: 1000, // bytes/s: 100 bytes buy 100 ms
    maxAssembledBytes: 100_000,
    onDrop: (e) => dropped.push(e),
  });
  // An honest sender at exactly minRate (100 bytes every 100 ms) completes, with one timer.
  const honest = message(10_000, 100, 1);
  let whole: Uint8Array | null = null;
  for (const chunk of honest) {
    whole = r.accept(chunk);
    if (whole === null) assert.equal(clock.pending, 1, "no timer per chunk");
    clock.tick(100);
  }
  assert.deepEqual(whole, bytes(10_000, 1));
  // Ahead of the rate, a sender may pause: 5000 bytes at once buy 1 s + 5 s.
  const bursty = message(10_000, 100, 2);
  for (const chunk of bursty.slice(0, 50)) r.accept(chunk);
  clock.tick(5999);
  for (const chunk of bursty.slice(50)) r.accept(chunk);
  assert.equal(dropped.length, 0);
  // A liar announces 10 000 bytes and sends 100: it owes 100 bytes per 100 ms after 1 s.
  const liar = message(10_000, 100, 3);
  r.accept(liar[0]);
  assert.equal(budget.used, 10_000);
  clock.tick(1100);
  assert.equal(dropped.length, 0);
  clock.tick(1);
  assert.deepEqual(dropped.map((e) => e.code), ["chunk-timeout"]);
  assert.match(dropped[0].message, /got 100 of 10000 bytes in 1101 ms, slower than 1000 bytes\/s/);
  assert.equal(budget.used, 0, "its reservation is released");
  assert.equal(clock.pending, 0);
  // The grace is spent: the next message must keep the rate from its first chunk, so announcing
  // again costs the liar minRate too. Resending a chunk is no progress.
  const again = message(10_000, 100, 4);
  r.accept(again[0]);
  clock.tick(50);
  r.accept(again[0]);
  clock.tick(51);
  assert.equal(dropped.length, 2);
  assert.match(dropped[1].message, /in 101 ms, slower than 1000 bytes\/s after 0 ms/);
  // Completing a message (at the rate, without grace) earns the grace back.
  const paid = message(1000, 100, 5);
  for (const chunk of paid) {
    whole = r.accept(chunk);
    clock.tick(100);
  }
  assert.deepEqual(whole, bytes(1000, 5));
  r.accept(message(10_000, 100, 6)[0]);
  clock.tick(1100);
  assert.equal(dropped.length, 2);
  clock.tick(1);
  assert.equal(dropped.length, 3);
  assert.equal(r.stats().timeouts, 3);
  assert.equal(r.stats().messages, 3);
  assert.equal(r.stats().bufferedBytes, 0);
  assert.equal(budget.used, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("Reassembler: the idle timeout still applies to a message ahead of minRate", () => {
  const clock = new VirtualClock();
  const dropped: WireError[] = [];
  const r = new Reassembler({
    clock,
    timeoutMs: 30_000,
    graceMs: 1000,
    minRate: 100,
    onDrop: (e) => dropped.push(e),
  });
  // 5000 bytes at 100 B/s are worth 1 s + 50 s; silence ends the message at 30 s.
  const big = message(10_000, 100, 1);
  for (const chunk of big.slice(0, 50)) r.accept(chunk);
  clock.tick(29_999);
  assert.equal(dropped.length, 0);
  clock.tick(1);
  assert.equal(dropped.length, 1);
  assert.match(dropped[0].message, /then none for 30000 ms/);
  assert.equal(clock.pending, 0);
});

Deno.test("Reassembler checks its options with RangeError", () => {
  assert.throws(() => new Reassembler({ timeoutMs: 0 }), RangeError);
  assert.throws(() => new Reassembler({ minRate: 0 }), RangeError);
  assert.throws(() => new Reassembler({ graceMs: -1 }), RangeError);
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

Deno.test("ReassemblyBudget.forKey: one key reserves at most its share; releases give it back", () => {
  const budget = new ReassemblyBudget(100);
  const a1 = budget.forKey("a", 40);
  const a2 = budget.forKey("a", 40);
  const b = budget.forKey("b", 40);
  assert.ok(a1.reserve(30));
  assert.equal(a2.reserve(20), false, "the key's share, over its connections");
  assert.match(a2.refusal!, /from one address/);
  assert.ok(b.reserve(40));
  assert.ok(budget.forKey(null, 40).reserve(30), "an unknown address: the total only");
  assert.equal(b.reserve(1), false);
  a1.release(30);
  assert.equal(a2.reserve(40), false, "the total: 70 of 100 reserved");
  assert.equal(a2.refusal, undefined, "the total refused it, not the share");
  assert.ok(a2.reserve(30));
  assert.equal(budget.used, 100);
});
