import assert from "node:assert/strict";
import { ConnectionMap, connIdOf, type ConnKey, connKey } from "../../lib/server/conn_key.ts";
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

Deno.test("ConnectionMap: found by id string, kept by key, listed by id", () => {
  const map = new ConnectionMap<{ key: ConnKey; id: string }>();
  const a = { key: connKey("0123456789ab"), id: "0123456789ab" };
  const b = { key: connKey("n1.x"), id: "n1.x" };
  map.add(a);
  map.add(b);
  assert.equal(map.get("0123456789ab"), a);
  assert.equal(map.get("0123456789AB"), undefined);
  assert.equal(map.get("n1.x"), b);
  assert.equal(map.has("n1.x"), true);
  assert.equal(map.size, 2);
  assert.deepEqual([...map.keys()], ["0123456789ab", "n1.x"]);
  assert.deepEqual([...map.values()], [a, b]);
  assert.deepEqual([...map], [["0123456789ab", a], ["n1.x", b]]);
  assert.equal(map.holds(a), true);
  assert.equal(map.remove(a), true);
  assert.equal(map.remove(a), false);
  assert.equal(map.holds(a), false);
  assert.equal(map.get("0123456789ab"), undefined);
});
