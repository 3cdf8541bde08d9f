/** Unit tests of lib/server/stored_event.ts. */
import assert from "node:assert/strict";
import { encodePayload } from "../../lib/backplane/codec.ts";
import { parseStored } from "../../lib/server/stored_event.ts";

Deno.test("parseStored() reads what encodePayload() wrote, skips included", () => {
  assert.deepEqual(parseStored(encodePayload({ e: ["a/b", 1] })), { e: ["a/b", 1] });
  assert.deepEqual(parseStored(encodePayload({ e: ["a/b"], x: ["c1"] })), {
    e: ["a/b"],
    x: ["c1"],
  });
});

Deno.test("parseStored() is null for a payload that is not JSON or holds no event", () => {
  assert.equal(parseStored("{"), null);
  assert.equal(parseStored("null"), null);
  assert.equal(parseStored('{"e":"a/b"}'), null);
});
