import assert from "node:assert/strict";
import {
  emptyWireTotals,
  negotiateWire,
  serverFeatures,
  wireLimits,
} from "../../lib/server/wire.ts";

Deno.test("negotiateWire(): plain without an offer or with wire off, else what both want", () => {
  const plain = { batching: false, compression: null, chunking: false };
  assert.deepEqual(negotiateWire({}, null), plain);
  assert.deepEqual(negotiateWire(false, "batching,chunking"), plain);
  assert.deepEqual(negotiateWire({}, "batching,compression:gzip,chunking"), {
    batching: true,
    compression: "gzip",
    chunking: true,
  });
  assert.deepEqual(
    negotiateWire({ compression: ["deflate-raw"], chunking: false }, "compression:gzip,chunking"),
    plain,
  );
});

Deno.test("serverFeatures() and wireLimits() fill the documented defaults", () => {
  assert.deepEqual(serverFeatures({}), {
    batching: true,
    compression: ["deflate-raw", "gzip"],
    chunking: true,
  });
  assert.deepEqual(wireLimits({ chunkSize: 1024 }), {
    compressThreshold: 512,
    chunkSize: 1024,
    maxChunks: 1000,
    maxAssembledBytes: 64 * 1024 * 1024,
  });
  assert.ok(Object.values(emptyWireTotals()).every((v) => v === 0));
});
