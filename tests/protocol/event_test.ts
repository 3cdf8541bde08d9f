import assert from "node:assert/strict";
import { assertEventId, isEventId, isExtensionId, isReservedId } from "../../lib/protocol/event.ts";

Deno.test("isEventId() accepts namespaced ids and rejects everything else", () => {
  for (const ok of ["a/b", "my-app/alert", "my.app.core/x?", "chsk/ws-ping", "sente-lite/error"]) {
    assert.ok(isEventId(ok), ok);
  }
  for (
    const bad of [
      "",
      "a",
      "/b",
      "a/",
      ":a/b",
      "a/b/c",
      "a b/c",
      "a/b c",
      1,
      null,
      {},
      "a/" + "x".repeat(300),
    ]
  ) {
    assert.ok(!isEventId(bad), JSON.stringify(bad));
  }
});

Deno.test("assertEventId() throws a TypeError naming the argument and value", () => {
  assert.throws(() => assertEventId("nope", "eventId"), {
    name: "TypeError",
    message: 'eventId must be a namespaced event id "ns/name", got "nope"',
  });
});

Deno.test("isReservedId() and isExtensionId() split the chsk/ and sente-lite/ namespaces", () => {
  assert.ok(isReservedId("chsk/handshake"));
  assert.ok(!isReservedId("chsky/x"));
  assert.ok(isExtensionId("sente-lite/subscribe"));
  assert.ok(!isExtensionId("sente/x"));
});
