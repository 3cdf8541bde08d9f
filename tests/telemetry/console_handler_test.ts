import assert from "node:assert/strict";
import { captureHandler } from "../../lib/telemetry/capture_handler.ts";
import { consoleHandler, type ConsoleLike } from "../../lib/telemetry/console_handler.ts";
import { Telemetry } from "../../lib/telemetry/telemetry.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

function fake() {
  const calls: [string, unknown[]][] = [];
  const c = {} as ConsoleLike;
  for (const m of ["debug", "info", "warn", "error"] as const) {
    c[m] = (...a: unknown[]) => void calls.push([m, a]);
  }
  return { c, calls };
}

Deno.test("consoleHandler() pretty-prints by level to the matching console method", () => {
  const { c, calls } = fake();
  const tel = new Telemetry({ clock: new VirtualClock(Date.UTC(2026, 0, 1, 12, 0, 0)) });
  tel.addHandler("console", consoleHandler({ console: c, colors: false }), { mode: "sync" });
  tel.scope("app").event("app/start", { level: "warn", data: { a: 1 } });
  assert.deepEqual(calls, [["warn", ["12:00:00.000 WARN  [app] app/start", { a: 1 }]]]);
});

Deno.test("consoleHandler() uses %c CSS or JSON lines on request", () => {
  const { c, calls } = fake();
  const tel = new Telemetry();
  tel.addHandler("css", consoleHandler({ console: c, colors: "css" }), { mode: "sync" });
  tel.addHandler("json", consoleHandler({ console: c, format: "json" }), { mode: "sync" });
  tel.log("error", "bad");
  assert.match(calls[0][1][0] as string, /^%c.*ERROR bad$/);
  assert.equal(JSON.parse(calls[1][1][0] as string).msg, "bad");
  assert.throws(() => consoleHandler({ format: "xml" as never }), TypeError);
});

Deno.test("captureHandler() keeps at most max signals", () => {
  const cap = captureHandler({ max: 2 });
  const tel = new Telemetry();
  tel.addHandler("cap", cap, { mode: "sync" });
  for (const id of ["a", "b", "c"]) tel.event(id);
  assert.deepEqual(cap.signals.map((s) => s.id), ["b", "c"]);
  cap.clear();
  assert.equal(cap.signals.length, 0);
  assert.throws(() => captureHandler({ max: 0 }), RangeError);
});
