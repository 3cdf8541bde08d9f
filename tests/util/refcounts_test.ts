/** Unit tests of lib/util/refcounts.ts. */
import assert from "node:assert/strict";
import { Refcounts } from "../../lib/util/refcounts.ts";

Deno.test("Refcounts.hold() is true for the first holder, release() for the last", () => {
  const r = new Refcounts<string>();
  assert.equal(r.hold("u"), true);
  assert.equal(r.hold("u"), false);
  assert.equal(r.release("u"), false);
  assert.deepEqual([...r.keys()], ["u"]);
  assert.equal(r.release("u"), true);
  assert.deepEqual([...r.keys()], []);
  assert.equal(r.hold("u"), true);
});

Deno.test("Refcounts.release() of a key nobody holds is false; clear() forgets every key", () => {
  const r = new Refcounts<string>();
  assert.equal(r.release("x"), false);
  r.hold("a");
  r.hold("b");
  r.clear();
  assert.deepEqual([...r.keys()], []);
  assert.equal(r.release("a"), false);
});
