import assert from "node:assert/strict";
import { testSignal } from "./_helpers.ts";
import {
  isoTime,
  jsonSafe,
  safeStringify,
  serializeError,
  type Signal,
  toJsonLine,
  toRecord,
} from "../../lib/telemetry/signal.ts";

function sig(over: Partial<Signal> = {}): Signal {
  return testSignal({ msg: "m", ...over });
}

Deno.test("serializeError() keeps name, message, stack and cause", () => {
  const e = serializeError(new TypeError("bad", { cause: new Error("root") }));
  assert.deepEqual(e.name, "TypeError");
  assert.deepEqual(e.message, "bad");
  assert.match(e.stack!, /TypeError: bad/);
  assert.deepEqual((e.cause as { message: string }).message, "root");
  assert.deepEqual(serializeError("str"), { name: "Error", message: "str" });
});

Deno.test("safeStringify() survives cycles, bigint, Map and Set", () => {
  const o: Record<string, unknown> = { n: 1n, m: new Map([["k", 1]]), s: new Set([1]) };
  o.self = o;
  assert.deepEqual(
    JSON.parse(safeStringify(o)),
    { n: "1", m: { k: 1 }, s: [1], self: "[Circular]" },
  );
  assert.deepEqual(jsonSafe({ a: [1, undefined, () => 1] }), { a: [1, null, null] });
});

Deno.test("toRecord() omits absent fields and adds OTel trace_id/span_id inside a trace", () => {
  assert.deepEqual(toRecord(sig()), {
    time: "1970-01-01T00:00:00.000Z",
    level: "info",
    kind: "log",
    msg: "m",
  });
  const root = { id: "r", uid: "4bf92f3577b34da6a3ce929d0e0e4736" };
  const r = toRecord(sig({ uid: "00f067aa0ba902b7", root, parent: root, sample: 0.5 }));
  assert.deepEqual(r.trace_id, root.uid);
  assert.deepEqual(r.span_id, "00f067aa0ba902b7");
  assert.deepEqual(r.sample, 0.5);
  assert.deepEqual(JSON.parse(toJsonLine(sig({ error: new Error("x") }))).error.message, "x");
});

Deno.test("isoTime() formats epoch milliseconds", () => {
  assert.deepEqual(isoTime(1000), "1970-01-01T00:00:01.000Z");
  assert.deepEqual(isoTime(1000), "1970-01-01T00:00:01.000Z");
});
