import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { captureHandler } from "../../lib/telemetry/capture_handler.ts";
import { Telemetry } from "../../lib/telemetry/telemetry.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { seeded } from "./_helpers.ts";

function setup(minLevel: "trace" | "debug" | "info" = "debug") {
  const clock = new VirtualClock(1_000);
  const tel = new Telemetry({ minLevel, clock, random: seeded(1) });
  const cap = captureHandler();
  tel.addHandler("cap", cap, { mode: "sync" });
  return { tel, cap, clock };
}

Deno.test("Telemetry.log() builds a signal with every field", () => {
  const { tel, cap } = setup();
  tel.scope("app.db").log("info", "hello", { id: "db/x", data: { a: 1 }, ctx: { req: 7 } });
  const s = cap.signals[0];
  assert.equal(s.time, 1_000);
  assert.equal(s.kind, "log");
  assert.equal(s.level, "info");
  assert.equal(s.ns, "app.db");
  assert.equal(s.id, "db/x");
  assert.equal(s.msg, "hello");
  assert.deepEqual(s.data, { a: 1 });
  assert.deepEqual(s.ctx, { req: 7 });
  assert.equal(s.sample, 1);
});

Deno.test("Telemetry creators below the minimum level build nothing and evaluate no thunk", () => {
  const { tel, cap } = setup("info");
  let evaluated = 0;
  tel.log("debug", () => String(++evaluated), { data: () => ++evaluated });
  tel.event("e", { level: "debug", data: () => ++evaluated });
  assert.equal(evaluated, 0);
  assert.equal(cap.signals.length, 0);
  tel.log("info", () => "m", { data: () => ({ lazy: true }) });
  assert.deepEqual(cap.signals[0].data, { lazy: true });
  assert.equal(cap.signals[0].msg, "m");
});

Deno.test("Telemetry with no handlers skips everything after one compare", () => {
  const tel = new Telemetry({ minLevel: "trace" });
  let evaluated = 0;
  tel.log("fatal", "x", { when: () => !!++evaluated });
  assert.equal(evaluated, 0);
  assert.equal(tel.enabled("fatal"), false);
});

Deno.test("Telemetry.setMinLevel() per kind and namespace, and name filters", () => {
  const { tel, cap } = setup("info");
  tel.setMinLevel("debug", { ns: "app.db.*" });
  tel.setMinLevel("error", { kind: "event" });
  tel.scope("app.db.pool").log("debug", "a");
  tel.scope("app.http").log("debug", "b");
  tel.event("ev", "warn");
  tel.event("ev2", "error");
  assert.deepEqual(cap.signals.map((s) => s.msg ?? s.id), ["a", "ev2"]);
  cap.clear();
  tel.setNsFilter({ deny: "app.noisy*" });
  tel.setIdFilter({ deny: ["ws/ping"] });
  tel.setKindFilter({ deny: "spy" });
  tel.scope("app.noisy").log("info", "x");
  tel.event("ws/ping", "error");
  tel.spy("info", () => 1);
  tel.event("ws/pong", "error");
  assert.deepEqual(cap.signals.map((s) => s.id), ["ws/pong"]);
  assert.equal(tel.enabled("debug", "log", "app.db.x"), true);
  assert.equal(tel.enabled("debug", "log", "other"), false);
});

Deno.test("Telemetry when and sample options filter calls; sample is recorded", () => {
  const { tel, cap } = setup();
  tel.log("info", "no", { when: () => false });
  let passed = 0;
  const n = 10_000;
  for (let i = 0; i < n; i++) tel.log("info", "s", { sample: 0.1 });
  passed = cap.signals.length;
  assert.ok(Math.abs(passed - n * 0.1) < 120, `passed ${passed}`); // 4 sd of 30
  assert.ok(cap.signals.every((s) => s.sample === 0.1 && s.msg === "s"));
  assert.throws(() => tel.log("info", "x", { sample: 1.5 }), RangeError);
});

Deno.test("Telemetry sampling multiplies call and handler rates", () => {
  const tel = new Telemetry({ random: seeded(3) });
  const cap = captureHandler();
  tel.addHandler("cap", cap, { mode: "sync", sample: 0.5 });
  const n = 20_000;
  for (let i = 0; i < n; i++) tel.event("x", { sample: 0.4 });
  assert.ok(Math.abs(cap.signals.length - n * 0.2) < 250, `got ${cap.signals.length}`);
  assert.equal(cap.signals[0].sample, 0.2);
  assert.equal(tel.stats().cap.sampled > 0, true);
});

Deno.test("Telemetry limit option rate-limits per id and per limitBy key in virtual time", () => {
  const { tel, cap, clock } = setup();
  const hit = (user: string) => tel.event("login", { limit: [2, 1000], limitBy: user });
  for (let i = 0; i < 5; i++) hit("alice");
  for (let i = 0; i < 5; i++) hit("bob");
  tel.event("other", { limit: [2, 1000] });
  assert.equal(cap.signals.length, 5);
  clock.tick(999);
  hit("alice");
  assert.equal(cap.signals.length, 5);
  clock.tick(1);
  hit("alice");
  assert.equal(cap.signals.length, 6);
});

Deno.test("Telemetry.error() returns the error and records it", () => {
  const { tel, cap } = setup();
  const e = new Error("boom");
  assert.throws(() => {
    throw tel.error(e, "db/fail");
  }, e);
  assert.equal(tel.error("plain", { id: "x", data: { k: 1 } }), "plain");
  assert.equal(cap.signals[0].kind, "error");
  assert.equal(cap.signals[0].level, "error");
  assert.equal(cap.signals[0].id, "db/fail");
  assert.equal(cap.signals[0].error, e);
  assert.equal(cap.signals[1].error, "plain");
});

Deno.test("Telemetry.trace() nests: parent/root ids in OpenTelemetry format", () => {
  const { tel, cap } = setup();
  const v = tel.trace("a", () =>
    tel.trace("b", () => {
      tel.log("info", "inside");
      return tel.trace("c", () => 42);
    }));
  assert.equal(v, 42);
  const [log, c, b, a] = cap.signals;
  assert.match(a.uid!, /^[0-9a-f]{32}$/);
  assert.deepEqual(a.root, { id: "a", uid: a.uid });
  assert.equal(a.parent, undefined);
  assert.match(b.uid!, /^[0-9a-f]{16}$/);
  assert.deepEqual(b.parent, { id: "a", uid: a.uid });
  assert.deepEqual(c.parent, { id: "b", uid: b.uid });
  assert.deepEqual(c.root, a.root);
  assert.deepEqual(log.parent, { id: "b", uid: b.uid });
  assert.equal(log.uid, undefined);
  assert.equal(c.runValue, 42);
  assert.ok(a.runNs! >= b.runNs! && b.runNs! >= 0);
  tel.log("info", "after");
  assert.equal(cap.signals[4].parent, undefined);
});

Deno.test("Telemetry.trace() records the error and rethrows; filtered traces still run", () => {
  const { tel, cap } = setup("info");
  const e = new Error("x");
  assert.throws(() =>
    tel.trace("t", () => {
      throw e;
    }), e);
  assert.equal(cap.signals[0].error, e);
  assert.equal(tel.trace("t2", () => 7, { level: "debug" }), 7);
  assert.equal(cap.signals.length, 1);
});

Deno.test("Telemetry.traceAsync() times to settlement and nests across await with contextStorage", async () => {
  const clock = new VirtualClock();
  const tel = new Telemetry({ clock, contextStorage: new AsyncLocalStorage() });
  const cap = captureHandler();
  tel.addHandler("cap", cap, { mode: "sync" });
  const v = await tel.traceAsync("outer", async () => {
    await Promise.resolve();
    return await tel.traceAsync("inner", async () => {
      await Promise.resolve();
      tel.withContext({ user: 1 }, () => tel.event("deep"));
      return "ok";
    });
  });
  assert.equal(v, "ok");
  const [deep, inner, outer] = cap.signals;
  assert.deepEqual(inner.parent, { id: "outer", uid: outer.uid });
  assert.deepEqual(deep.parent, { id: "inner", uid: inner.uid });
  assert.deepEqual(deep.ctx, { user: 1 });
  await assert.rejects(tel.traceAsync("fail", () => Promise.reject(new Error("no"))), /no/);
  assert.equal((cap.signals[3].error as Error).message, "no");
});

Deno.test("Telemetry traceparent option continues a remote trace", () => {
  const { tel, cap } = setup();
  tel.trace("server/handle", () => 1, {
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  });
  const s = cap.signals[0];
  assert.equal(s.root?.uid, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.equal(s.parent?.uid, "00f067aa0ba902b7");
  assert.match(s.uid!, /^[0-9a-f]{16}$/);
});

Deno.test("Telemetry.spy() returns the value and records it at the level", () => {
  const { tel, cap } = setup();
  assert.equal(tel.spy("debug", () => 1 + 2, { id: "sum" }), 3);
  assert.equal(cap.signals[0].kind, "spy");
  assert.equal(cap.signals[0].runValue, 3);
  assert.equal(cap.signals[0].level, "debug");
});

Deno.test("Telemetry.signal() accepts any kind and reports whether it was allowed", () => {
  const { tel, cap } = setup();
  assert.equal(tel.signal({ kind: "metric", id: "q/len", data: () => 3 }), true);
  assert.equal(tel.signal({ kind: "metric", level: "trace" }), false);
  assert.equal(cap.signals[0].kind, "metric");
  assert.equal(cap.signals[0].data, 3);
});

Deno.test("Telemetry a throwing data thunk never breaks the caller", () => {
  const { tel, cap } = setup();
  tel.log("info", "m", {
    data: () => {
      throw new Error("thunk");
    },
  });
  assert.equal((cap.signals[0].error as Error).message, "thunk");
});

Deno.test("Telemetry handlers: add/replace/remove by id, priority order, isolation", async () => {
  const tel = new Telemetry();
  const order: string[] = [];
  tel.addHandler("low", () => void order.push("low"), { mode: "sync", priority: 1 });
  tel.addHandler("bad", () => {
    throw new Error("handler");
  }, { mode: "sync", priority: 50, onError: () => order.push("onError") });
  tel.addHandler("high", () => void order.push("high"), { mode: "sync", priority: 99 });
  tel.event("x");
  assert.deepEqual(order, ["high", "onError", "low"]);
  assert.deepEqual(tel.handlerIds(), ["high", "bad", "low"]);
  assert.equal(await tel.removeHandler("bad"), true);
  assert.equal(await tel.removeHandler("bad"), false);
  tel.addHandler("high", () => void order.push("high2"), { mode: "sync" });
  order.length = 0;
  tel.event("y");
  assert.deepEqual(order, ["high2", "low"]);
  assert.throws(() => tel.addHandler("", () => {}), TypeError);
  assert.equal(await tel.stop(), true);
  assert.deepEqual(tel.handlerIds(), []);
});

Deno.test("Telemetry.withSignals() captures what a function emits", () => {
  const tel = new Telemetry();
  const sigs = tel.withSignals(() => {
    tel.event("a");
    tel.log("debug", "hidden");
  });
  assert.deepEqual(sigs.map((s) => s.id), ["a"]);
  assert.deepEqual(tel.handlerIds(), []);
});

Deno.test("Telemetry instances are independent", () => {
  const a = new Telemetry();
  const b = new Telemetry();
  const cap = captureHandler();
  a.addHandler("cap", cap, { mode: "sync" });
  b.event("b");
  a.event("a");
  assert.deepEqual(cap.signals.map((s) => s.id), ["a"]);
});
