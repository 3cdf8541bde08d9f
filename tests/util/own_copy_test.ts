/** Unit tests of lib/util/own_copy.ts: flat copies of string slices. */
import assert from "node:assert/strict";
import { ownCopy } from "../../lib/util/own_copy.ts";
import { randomSecret } from "../../lib/util/secret.ts";

Deno.test("ownCopy() is the same string (a slice, empty, non-ASCII)", () => {
  const header = `sente-lite, sente-lite.resume.${randomSecret()}${randomSecret()}`;
  const slice = header.slice(header.length - 32);
  assert.equal(ownCopy(slice), slice);
  assert.equal(ownCopy(""), "");
  assert.equal(ownCopy("é😀x"), "é😀x");
});

Deno.test("ownCopy() of a client id cut from an upgrade query is that id", () => {
  const query = `client-id=${crypto.randomUUID()}&packer=json`;
  const id = query.slice("client-id=".length, query.indexOf("&"));
  assert.equal(ownCopy(id), id);
});
