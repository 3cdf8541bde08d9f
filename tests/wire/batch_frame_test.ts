import assert from "node:assert/strict";
import {
  BATCH_EVENT_ID,
  clientBatchEnvelope,
  decodeClientBatch,
  MAX_BATCH_ENTRIES,
  mergePushes,
} from "../../lib/wire/batch_frame.ts";
import { jsonPacker } from "../../lib/packers/json.ts";
import { decodeClientEnvelope, serverEnvelope } from "../../lib/protocol/envelope.ts";

Deno.test("clientBatchEnvelope() packs to the documented frame", () => {
  const frame = jsonPacker.pack(
    clientBatchEnvelope([[["app/a", 1], null], [["app/b", { x: 2 }], "c1f00d"]]),
  );
  assert.equal(
    frame,
    '[["sente-lite/batch",[[["app/a",1],null],[["app/b",{"x":2}],"c1f00d"]]],null]',
  );
});

Deno.test("decodeClientBatch() returns the envelopes, each decodable as a single frame", () => {
  const value = jsonPacker.unpack(
    '[["sente-lite/batch",[[["app/a",1],null],[["app/b",{"x":2}],"c1f00d"]]],null]',
  );
  const entries = decodeClientBatch(value)!;
  assert.deepEqual(entries.map(decodeClientEnvelope), [
    { id: "app/a", data: 1, cbId: null },
    { id: "app/b", data: { x: 2 }, cbId: "c1f00d" },
  ]);
});

Deno.test("decodeClientBatch() returns null for anything that is not a batch", () => {
  assert.equal(decodeClientBatch([["app/a", 1], null]), null);
  assert.equal(decodeClientBatch("chsk/ws-ping"), null);
  assert.equal(decodeClientBatch(null), null);
});

Deno.test("decodeClientBatch() rejects malformed batches with bad-request", () => {
  for (
    const bad of [
      [[BATCH_EVENT_ID, []], null],
      [[BATCH_EVENT_ID, "x"], null],
      [[BATCH_EVENT_ID, [[["a/b"], null]]], "cb"],
      [[BATCH_EVENT_ID, [clientBatchEnvelope([[["a/b"], null]])]], null],
      [[BATCH_EVENT_ID, Array(MAX_BATCH_ENTRIES + 1).fill([["a/b"], null])], null],
    ]
  ) {
    assert.throws(() => decodeClientBatch(bad), { code: "bad-request" }, JSON.stringify(bad));
  }
});

Deno.test("mergePushes() makes one Sente push batch", () => {
  const msg = mergePushes([[["app/a", 1]], [["app/b", 2], ["app/c", 3]]]);
  assert.equal(
    jsonPacker.pack(serverEnvelope(msg)),
    '[[["app/a",1],["app/b",2],["app/c",3]],null]',
  );
});
