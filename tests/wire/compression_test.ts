import assert from "node:assert/strict";
import fc from "fast-check";
import {
  compress,
  compressFrame,
  compressionRatio,
  compressionStats,
  decodePayload,
  decompress,
  SharedFrame,
} from "../../lib/wire/compression.ts";
import { DecompressionBombError, WireError } from "../../lib/wire/errors.ts";
import { FLAG_DEFLATE_RAW, FLAG_GZIP, FLAG_RAW } from "../../lib/wire/flags.ts";

const text = (n: number) =>
  JSON.stringify([
    ["app/data", { rows: Array.from({ length: n }, (_, i) => ({ i, ok: true })) }],
    null,
  ]);

Deno.test("compress() and decompress() round-trip any bytes in both formats", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 20_000 }),
      fc.constantFrom("deflate-raw" as const, "gzip" as const),
      async (bytes, format) => {
        const packed = await compress(bytes, format);
        assert.deepEqual(await decompress(packed, format, { maxBytes: bytes.length }), bytes);
      },
    ),
    { seed: 5, numRuns: 60 },
  );
});

Deno.test("compressFrame() leaves frames under the threshold raw and counts them as skipped", async () => {
  const stats = compressionStats();
  const payload = await compressFrame('[["app/x",1],null]', { threshold: 512, stats });
  assert.equal(payload.flag, FLAG_RAW);
  assert.equal(new TextDecoder().decode(payload.body), '[["app/x",1],null]');
  assert.deepEqual(stats, { ...compressionStats(), skipped: 1 });
});

Deno.test("compressFrame() sends incompressible frames raw instead of larger", async () => {
  const random = crypto.getRandomValues(new Uint8Array(4096));
  const payload = await compressFrame(random, { threshold: 16 });
  assert.equal(payload.flag, FLAG_RAW);
  assert.equal(payload.body, random);
});

Deno.test("compressFrame() uses flag 0x02 for deflate-raw and Sente's 0x01 + RFC 1952 for gzip", async () => {
  const frame = text(200);
  const deflated = await compressFrame(frame, {});
  assert.equal(deflated.flag, FLAG_DEFLATE_RAW);
  const stats = compressionStats();
  const gzipped = await compressFrame(frame, { format: "gzip", stats });
  assert.equal(gzipped.flag, FLAG_GZIP);
  assert.deepEqual([...gzipped.body.subarray(0, 2)], [0x1f, 0x8b]); // gzip magic
  assert.equal(stats.messages, 1);
  assert.equal(stats.bytesBefore, new TextEncoder().encode(frame).length);
  assert.equal(stats.bytesAfter, gzipped.body.length);
  assert.ok(compressionRatio(stats) < 0.2, `ratio ${compressionRatio(stats)}`);
  for (const p of [deflated, gzipped]) {
    const out = await decodePayload(p.flag, p.body, { maxBytes: 1 << 20 });
    assert.equal(new TextDecoder().decode(out), frame);
  }
});

Deno.test("decompress() stops a decompression bomb with DecompressionBombError before inflating it", async () => {
  const bomb = await compress(new Uint8Array(16 * 1024 * 1024), "deflate-raw");
  assert.ok(bomb.length < 20_000, `bomb is ${bomb.length} bytes`);
  await assert.rejects(
    decompress(bomb, "deflate-raw", { maxBytes: 1024 * 1024 }),
    DecompressionBombError,
  );
  try {
    await decodePayload(FLAG_DEFLATE_RAW, bomb, { maxBytes: 1024 * 1024 });
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof DecompressionBombError);
    assert.equal(e.code, "decompression-bomb");
    assert.equal(e.fatal, true);
    assert.equal(e.closeCode, 1009);
    assert.equal(e.maxBytes, 1024 * 1024);
  }
});

Deno.test("decompress() rejects a corrupt stream with WireError decompress-failed", async () => {
  const good = await compress(new TextEncoder().encode(text(100)), "gzip");
  const bad = good.slice(0, 20);
  bad[12] ^= 0xff;
  try {
    await decompress(bad, "gzip", { maxBytes: 1 << 20 });
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof WireError);
    assert.equal(e.code, "decompress-failed");
    assert.equal(e.fatal, false);
  }
});

Deno.test("decodePayload() rejects unknown flags and formats not accepted with bad-frame", async () => {
  await assert.rejects(decodePayload(0x07, new Uint8Array(3), { maxBytes: 10 }), {
    code: "bad-frame",
  });
  await assert.rejects(
    decodePayload(FLAG_GZIP, new Uint8Array(3), { maxBytes: 10, accept: ["deflate-raw"] }),
    { code: "bad-frame" },
  );
});

Deno.test("SharedFrame.payload() compresses once per format for every recipient", async () => {
  const shared = new SharedFrame(text(300));
  const [a, b, c] = await Promise.all([
    shared.payload("deflate-raw", 512),
    shared.payload("deflate-raw", 512),
    shared.payload("gzip", 512),
  ]);
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.equal(shared.compressions, 2);
  assert.equal(shared.stats.messages, 2);
});
