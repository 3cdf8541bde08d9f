/** Unit tests of lib/client/parts.ts. */
import assert from "node:assert/strict";
import { resolveClientOptions } from "../../lib/client/options.ts";
import { clientParts } from "../../lib/client/parts.ts";

Deno.test("clientParts() starts every counter at zero, with the options' client id", () => {
  const options = resolveClientOptions({ clientId: "c1" });
  const parts = clientParts(options, () => {});
  assert.equal(parts.clientId, "c1");
  assert.equal(parts.options, options);
  assert.equal(Object.keys(parts.stats).length, 7);
  for (const [name, n] of Object.entries(parts.stats)) assert.equal(n, 0, name);
});

Deno.test("clientParts(): server requests are answered through send, handler errors go to onError", async () => {
  const errors: Error[] = [];
  const sent: unknown[] = [];
  const parts = clientParts(
    resolveClientOptions({ onError: (e) => errors.push(e) }),
    (v) => sent.push(v),
  );
  parts.handlers.onRequest("app/ask", (data) => ({ got: data }));
  parts.handlers.answer({ "cb-id": "r1", event: ["app/ask", 1] });
  parts.handlers.on("app/x", () => {
    throw new Error("boom");
  });
  parts.handlers.emit("app/x", null);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(sent, [[["sente-lite/reply", { "cb-id": "r1", value: { got: 1 } }], null]]);
  assert.deepEqual(errors.map((e) => e.message), ["boom"]);
});
