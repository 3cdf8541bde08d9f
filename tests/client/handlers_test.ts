import assert from "node:assert/strict";
import { ClientHandlers } from "../../lib/client/handlers.ts";

function make(): { h: ClientHandlers; errors: Error[]; sent: unknown[] } {
  const errors: Error[] = [];
  const sent: unknown[] = [];
  const h = new ClientHandlers((e) => errors.push(e), (v) => sent.push(v));
  return { h, errors, sent };
}

Deno.test("emit: a throwing handler is reported and the others still run", () => {
  const { h, errors } = make();
  const got: unknown[] = [];
  h.on("app/x", () => {
    throw new Error("boom");
  });
  h.on("app/x", (data, ctx) => got.push([data, ctx.id, ctx.event]));
  h.emit("app/x", 1);
  assert.deepEqual(got, [[1, "app/x", ["app/x", 1]]]);
  assert.deepEqual(errors.map((e) => e.message), ["boom"]);
});

Deno.test('"*" gets application pushes, not chsk/ or sente-lite/ ones; off() removes', () => {
  const { h } = make();
  const ids: string[] = [];
  const off = h.on("*", (_d, ctx) => void ids.push(ctx.id));
  h.emit("app/a", null);
  h.emit("chsk/state", null);
  h.emit("sente-lite/gap", null);
  off();
  h.emit("app/b", null);
  assert.deepEqual(ids, ["app/a"]);
});

Deno.test("has() sees handlers of the id itself only; on() checks its arguments", () => {
  const { h } = make();
  h.on("*", () => {});
  assert.equal(h.has("sente-lite/error"), false);
  const off = h.on("sente-lite/error", () => {});
  assert.equal(h.has("sente-lite/error"), true);
  off();
  assert.equal(h.has("sente-lite/error"), false);
  assert.throws(() => h.on("no-namespace", () => {}), TypeError);
  assert.throws(() => h.on("app/x", 1 as never), TypeError);
});

Deno.test("answer: the handler's value, no-handler, handler-error, malformed requests", async () => {
  const { h, errors, sent } = make();
  h.onRequest("app/ok", (data) => ({ got: data }));
  h.onRequest("app/undef", () => undefined);
  h.onRequest("app/fail", () => Promise.reject(new Error("nope")));
  h.onRequest("app/throw", () => {
    throw new Error("sync");
  });
  h.answer({ "cb-id": "1", event: ["app/ok", 5] });
  h.answer({ "cb-id": "2", event: ["app/undef"] });
  h.answer({ "cb-id": "3", event: ["app/none", 0] });
  h.answer({ "cb-id": "4", event: ["app/fail", 0] });
  h.answer({ "cb-id": "5", event: ["app/throw", 0] });
  h.answer({ event: ["app/ok", 0] });
  // The async answers settle in microtasks, all done before the next macrotask.
  await new Promise((r) => setTimeout(r, 0));
  const bodies = sent.map((v) => (v as [[string, Record<string, unknown>]])[0]);
  assert.ok(bodies.every(([id]) => id === "sente-lite/reply"));
  const byCb = Object.fromEntries(bodies.map(([, b]) => [b["cb-id"], b]));
  assert.deepEqual(byCb["1"], { "cb-id": "1", value: { got: 5 } });
  assert.deepEqual(byCb["2"], { "cb-id": "2", value: null });
  assert.equal((byCb["3"].error as { code: string }).code, "no-handler");
  assert.equal((byCb["4"].error as { code: string }).code, "handler-error");
  assert.equal((byCb["5"].error as { code: string }).code, "handler-error");
  assert.equal(sent.length, 5);
  assert.deepEqual(errors.map((e) => e.message).sort(), [
    "malformed sente-lite/request",
    "nope",
    "sync",
  ]);
});

Deno.test("onRequest: one handler per id; an old off() leaves its replacement", () => {
  const { h, sent } = make();
  const offOld = h.onRequest("app/q", () => "old");
  h.onRequest("app/q", () => "new");
  offOld();
  h.answer({ "cb-id": "1", event: ["app/q"] });
  return Promise.resolve().then(() => {
    assert.deepEqual(sent, [[["sente-lite/reply", { "cb-id": "1", value: "new" }], null]]);
  });
});
