import assert from "node:assert/strict";
import { toError } from "../../lib/util/to_error.ts";

Deno.test("toError() keeps an Error and wraps anything else", () => {
  const e = new TypeError("bad");
  assert.equal(toError(e), e);
  assert.equal(toError("oops").message, "oops");
  assert.equal(toError(42).message, "42");
});
