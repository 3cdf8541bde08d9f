import assert from "node:assert/strict";
import { parseQuery } from "../../lib/server/query.ts";

const NAMES = ["client-id", "packer", "resume", "cseq", "wire", "streams", "a", "", "x"];

/** Every name reads as URLSearchParams reads it. */
function sameAsUrlSearchParams(query: string): void {
  const ours = parseQuery(query);
  const theirs = new URLSearchParams(query);
  for (const name of NAMES) {
    assert.equal(ours.get(name), theirs.get(name), `${JSON.stringify(query)}: get(${name})`);
    assert.equal(ours.has(name), theirs.has(name), `${JSON.stringify(query)}: has(${name})`);
  }
}

Deno.test("parseQuery() reads a plain query as URLSearchParams does", () => {
  for (
    const query of [
      "",
      "client-id=abc&packer=json&resume=0&cseq=",
      "client-id=abc&client-id=def",
      "a&&x=1&",
      "&a=1=2&x",
      "=v&a",
      "a=&x=",
    ]
  ) sameAsUrlSearchParams(query);
});

Deno.test("parseQuery() decodes escapes, plus signs and a leading ? as URLSearchParams does", () => {
  for (const query of ["a=%20b&x=%zz", "a=b+c", "?a=1", "%61=1&x=%E2%82%AC", "a=%"]) {
    sameAsUrlSearchParams(query);
  }
});
