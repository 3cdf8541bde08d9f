import assert from "node:assert/strict";
import { clientFeatures, joinBatch } from "../../lib/client/wire.ts";

Deno.test("clientFeatures() offers compression and chunking by default, batching on request with JSON only", () => {
  assert.deepEqual(clientFeatures({}, "json"), {
    batching: false,
    compression: ["deflate-raw", "gzip"],
    chunking: true,
  });
  assert.equal(clientFeatures({ batching: true }, "json").batching, true);
  assert.equal(clientFeatures({ batching: true }, "edn").batching, false);
  assert.deepEqual(clientFeatures(false, "json"), {
    batching: false,
    compression: false,
    chunking: false,
  });
});

Deno.test("joinBatch() sends one frame as is and joins several into a sente-lite/batch", () => {
  assert.equal(joinBatch([`[["a/b",1],null]`]), `[["a/b",1],null]`);
  const joined = joinBatch([`[["a/b",1],null]`, `[["a/c",2],"cb"]`]);
  assert.equal(joined, `[["sente-lite/batch",[[["a/b",1],null],[["a/c",2],"cb"]]],null]`);
  assert.deepEqual(JSON.parse(joined)[0][1].length, 2);
});
