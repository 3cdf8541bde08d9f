import assert from "node:assert/strict";
import { classifyClose } from "../../lib/protocol/close_codes.ts";
import { CLOSE_CODES } from "../../lib/protocol/close_code_table.ts";

Deno.test("classifyClose() reconnects after transient closes, Sente-style 1000 included", () => {
  for (const code of [1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014, 4008]) {
    assert.equal(classifyClose(code), "reconnect", String(code));
  }
});

Deno.test("classifyClose() stops on auth, policy and deterministic protocol failures", () => {
  for (const code of [1002, 1003, 1007, 1008, 1009, 1010, 4001, 4003, 3000, 3003]) {
    assert.equal(classifyClose(code), "terminal", String(code));
  }
});

Deno.test("classifyClose() backs off long after 4029 rate limited", () => {
  assert.equal(classifyClose(4029), "rate-limited");
});

Deno.test("classifyClose() follows ranges for codes outside the table", () => {
  assert.equal(classifyClose(4000), "terminal");
  assert.equal(classifyClose(4499), "terminal");
  assert.equal(classifyClose(4500), "reconnect");
  assert.equal(classifyClose(4999), "reconnect");
  assert.equal(classifyClose(3008), "reconnect");
  assert.equal(classifyClose(1004), "reconnect");
  assert.equal(classifyClose(2999), "reconnect");
});

Deno.test("CLOSE_CODES names and describes every entry", () => {
  for (const [code, spec] of Object.entries(CLOSE_CODES)) {
    assert.ok(spec.name && spec.description, code);
    assert.equal(classifyClose(Number(code)), spec.class);
  }
});
