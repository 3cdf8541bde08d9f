/** Unit tests of lib/server/broadcast_options.ts: `except` read once into a set or a list. */
import assert from "node:assert/strict";
import { exceptList, exceptSet } from "../../lib/server/broadcast_options.ts";

Deno.test("exceptSet() is undefined without except and a set of the ids otherwise", () => {
  assert.equal(exceptSet(undefined), undefined);
  assert.equal(exceptSet({}), undefined);
  assert.deepEqual(exceptSet({ except: ["a", "b", "a"] }), new Set(["a", "b"]));
});

Deno.test("exceptList() is empty without except and the ids in order otherwise", () => {
  assert.deepEqual(exceptList(undefined), []);
  assert.deepEqual(exceptList({}), []);
  assert.deepEqual(exceptList({ except: new Set(["b", "a"]) }), ["b", "a"]);
});

Deno.test("exceptSet() and exceptList() read a one-shot iterable once, at the call", () => {
  function* ids(): Generator<string> {
    yield "x";
    yield "y";
  }
  const once = ids();
  assert.deepEqual(exceptSet({ except: once }), new Set(["x", "y"]));
  assert.deepEqual([...once], []); // consumed by the call, not later
  assert.deepEqual(exceptList({ except: ids() }), ["x", "y"]);
});
