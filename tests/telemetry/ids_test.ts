import assert from "node:assert/strict";
import {
  formatTraceparent,
  isValidSpanId,
  isValidTraceId,
  parseTraceparent,
  spanId,
  spanIdOf,
  traceId,
} from "../../lib/telemetry/ids.ts";

Deno.test("traceId() and spanId() make valid, distinct OpenTelemetry ids", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const t = traceId();
    const s = spanId();
    assert.ok(isValidTraceId(t), t);
    assert.ok(isValidSpanId(s), s);
    seen.add(t);
  }
  assert.deepEqual(seen.size, 2000);
});

Deno.test("parseTraceparent() round-trips formatTraceparent() and rejects bad headers", () => {
  const tp = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 1 };
  assert.deepEqual(
    formatTraceparent(tp),
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  );
  assert.deepEqual(parseTraceparent(formatTraceparent(tp)), tp);
  assert.deepEqual(parseTraceparent("00-" + "0".repeat(32) + "-00f067aa0ba902b7-01"), undefined);
  assert.deepEqual(parseTraceparent("garbage"), undefined);
});

Deno.test("spanIdOf() takes the low 8 bytes of a root uid", () => {
  assert.deepEqual(spanIdOf("4bf92f3577b34da6a3ce929d0e0e4736"), "a3ce929d0e0e4736");
  assert.deepEqual(spanIdOf("00f067aa0ba902b7"), "00f067aa0ba902b7");
});
