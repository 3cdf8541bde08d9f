import assert from "node:assert/strict";
import { frameByteLength, utf8ByteLength } from "../../lib/util/utf8.ts";

Deno.test("utf8ByteLength() matches TextEncoder for ASCII, 2-, 3- and 4-byte characters", () => {
  for (const s of ["", "abc", "é", "€", "😀", "a😀é€z", "\ud800", "x\udc00y"]) {
    assert.equal(utf8ByteLength(s), new TextEncoder().encode(s).length, JSON.stringify(s));
  }
  assert.equal(frameByteLength(new Uint8Array(7)), 7);
});
