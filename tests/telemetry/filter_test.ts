import assert from "node:assert/strict";
import { compilePattern, MinLevels, NameFilter, SignalFilter } from "../../lib/telemetry/filter.ts";
import { LEVELS } from "../../lib/telemetry/levels.ts";
import type { Signal } from "../../lib/telemetry/signal.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { seeded, testSignal } from "./_helpers.ts";

function sig(over: Partial<Signal> = {}): Signal {
  return testSignal({ ns: "app.db", id: "db/query", ...over });
}

Deno.test("compilePattern() supports * wildcards, RegExps and lists", () => {
  const p = compilePattern(["app.*", /^x\d$/, "*/login"]);
  assert.equal(p("app.db"), true);
  assert.equal(p("app"), false);
  assert.equal(p("x1"), true);
  assert.equal(p("auth/login"), true);
  assert.equal(p("apple.db"), false);
  assert.equal(compilePattern("*")("anything"), true);
  assert.throws(() => compilePattern(3 as never), TypeError);
});

Deno.test("NameFilter.allows() applies allow then deny, deny wins", () => {
  const f = new NameFilter({ allow: "app.*", deny: "app.noisy.*" });
  assert.equal(f.allows("app.db"), true);
  assert.equal(f.allows("app.noisy.x"), false);
  assert.equal(f.allows("other"), false);
  assert.equal(f.allows(undefined), false);
  assert.equal(new NameFilter({ deny: ["ws/ping"] }).allows(undefined), true);
  assert.equal(new NameFilter("app.*").allows("app.x"), true);
});

Deno.test("MinLevels.minFor() resolves kind+ns, ns, kind, then global", () => {
  const m = new MinLevels("warn");
  assert.equal(m.floor, LEVELS.warn);
  m.set("info", { kind: "trace" });
  m.set("debug", { ns: "app.*" });
  m.set("trace", { ns: "app.db.*" });
  m.set("error", { ns: "app.*", kind: "event" });
  assert.equal(m.minFor("log", "other"), LEVELS.warn);
  assert.equal(m.minFor("trace", "other"), LEVELS.info);
  assert.equal(m.minFor("log", "app.http"), LEVELS.debug);
  assert.equal(m.minFor("log", "app.db.pool"), LEVELS.trace, "longest pattern wins");
  assert.equal(m.minFor("event", "app.db.pool"), LEVELS.error, "kind + ns rule wins");
  assert.equal(m.floor, LEVELS.trace);
  m.set(undefined, { ns: "app.db.*" });
  assert.equal(m.minFor("log", "app.db.pool"), LEVELS.debug, "cache invalidated on change");
  assert.throws(() => m.set("nope" as never), TypeError);
});

Deno.test("SignalFilter.check() reports filtered, sampled and rate-limited", () => {
  const clock = new VirtualClock();
  assert.equal(new SignalFilter({ minLevel: "warn" }).check(sig()), 1);
  assert.equal(new SignalFilter({ ns: { deny: "app.*" } }).check(sig()), 1);
  assert.equal(new SignalFilter({ id: "db/*" }).check(sig()), 0);
  assert.equal(new SignalFilter({ kind: "event" }).check(sig()), 1);
  assert.equal(new SignalFilter({ when: (s) => s.level === "info" }).check(sig()), 0);
  assert.equal(new SignalFilter({ sample: 0 }).check(sig()), 2);
  const limited = new SignalFilter({ limit: [2, 1000] }, clock);
  assert.deepEqual([1, 2, 3].map(() => limited.check(sig())), [0, 0, 3]);
  assert.equal(limited.check(sig({ id: "other" })), 0, "limit is per id by default");
  clock.tick(1000);
  assert.equal(limited.check(sig()), 0);
  assert.throws(() => new SignalFilter({ sample: 2 }), RangeError);
});

Deno.test("SignalFilter sampling passes about rate × n signals", () => {
  const f = new SignalFilter({ sample: 0.25 }, undefined, seeded(7));
  let passed = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) if (f.check(sig()) === 0) passed++;
  // binomial sd = sqrt(n p (1-p)) ≈ 61; allow 4 sd
  assert.ok(Math.abs(passed - n * 0.25) < 250, `passed ${passed}`);
});
