import assert from "node:assert/strict";
import { connIdOf, connKey } from "../../lib/server/conn_key.ts";
import { randomHex } from "../../lib/util/ids.ts";

Deno.test("connKey keeps a Hub id as its number and writes the same 12 characters back", () => {
  for (const id of ["000000000000", "00000000000a", "ffffffffffff", "0123456789ab"]) {
    assert.equal(typeof connKey(id), "number");
    assert.equal(connIdOf(connKey(id)), id);
  }
  for (let i = 0; i < 1000; i++) {
    const id = randomHex(12);
    assert.equal(connIdOf(connKey(id)), id);
  }
});

Deno.test("connKey keeps any other id as a string: no two spellings share a key", () => {
  for (
    const id of [
      "c1",
      "0000000000A0",
      "00000000000",
      "0000000000000",
      "n1.0123456789ab",
      " 0123456789a",
      "0x0123456789",
    ]
  ) {
    assert.equal(connKey(id), id);
    assert.equal(connIdOf(connKey(id)), id);
  }
  assert.notEqual(connKey("0000000000a0"), connKey("0000000000A0"));
});
