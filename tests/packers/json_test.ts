import assert from "node:assert/strict";
import { jsonPacker } from "../../lib/packers/json.ts";

Deno.test("jsonPacker packs text frames and reads text or UTF-8 bytes", () => {
  assert.equal(jsonPacker.name, "json");
  assert.equal(jsonPacker.binary, false);
  const value = [["a/b", { s: "é€😀", n: 1.5, l: [null, true] }], "cb"];
  const frame = jsonPacker.pack(value);
  assert.equal(typeof frame, "string");
  assert.deepEqual(jsonPacker.unpack(frame), value);
  assert.deepEqual(jsonPacker.unpack(new TextEncoder().encode(frame as string)), value);
});

Deno.test("jsonPacker.unpack() throws on invalid JSON and invalid UTF-8", () => {
  assert.throws(() => jsonPacker.unpack("[1,"), SyntaxError);
  assert.throws(() => jsonPacker.unpack(new Uint8Array([0x5b, 0xff, 0x5d])), TypeError);
});
