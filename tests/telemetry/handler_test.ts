import assert from "node:assert/strict";
import { testSignal } from "./_helpers.ts";
import { HandlerRunner } from "../../lib/telemetry/handler.ts";
import type { Signal } from "../../lib/telemetry/signal.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

function sig(i: number, over: Partial<Signal> = {}): Signal {
  return testSignal({ msg: String(i), data: i, ...over });
}

const clock = new VirtualClock();

Deno.test("HandlerRunner in dropping mode drops new signals when full and counts them", async () => {
  const seen: unknown[] = [];
  const r = new HandlerRunner("h", (s) => void seen.push(s.data), { bufferSize: 4 }, { clock });
  for (let i = 0; i < 10; i++) r.offer(sig(i));
  assert.equal(r.stats().queued, 4);
  assert.equal(await r.flush(), true);
  assert.deepEqual(seen, [0, 1, 2, 3]);
  const st = r.stats();
  assert.equal(st.dropped, 6);
  assert.equal(st.handled, 4);
  assert.equal(st.queued, 0);
});

Deno.test("HandlerRunner in sliding mode drops the oldest signals", async () => {
  const seen: unknown[] = [];
  const r = new HandlerRunner("h", (s) => void seen.push(s.data), {
    bufferSize: 4,
    mode: "sliding",
  }, { clock });
  for (let i = 0; i < 10; i++) r.offer(sig(i));
  await r.flush();
  assert.deepEqual(seen, [6, 7, 8, 9]);
  assert.equal(r.stats().dropped, 6);
});

Deno.test("HandlerRunner in sync mode handles on the caller's stack and never drops", () => {
  const seen: unknown[] = [];
  const r = new HandlerRunner("h", (s) => void seen.push(s.data), { bufferSize: 1, mode: "sync" });
  for (let i = 0; i < 5; i++) r.offer(sig(i));
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.equal(r.stats().dropped, 0);
});

Deno.test("HandlerRunner keeps order across batches and awaits async handlers", async () => {
  const seen: unknown[] = [];
  const r = new HandlerRunner(
    "h",
    async (s) => {
      await Promise.resolve();
      seen.push(s.data);
    },
    { bufferSize: 100, maxBatch: 7 },
    { clock },
  );
  for (let i = 0; i < 50; i++) r.offer(sig(i));
  await r.flush();
  assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("HandlerRunner isolates a throwing handler and reports to onError", async () => {
  const errors: string[] = [];
  const seen: unknown[] = [];
  const r = new HandlerRunner(
    "bad",
    (s) => {
      if ((s.data as number) % 2) throw new Error(`odd ${s.data}`);
      seen.push(s.data);
    },
    { onError: (e, info) => errors.push(`${info.handlerId}:${(e as Error).message}`) },
    { clock },
  );
  for (let i = 0; i < 4; i++) r.offer(sig(i));
  await r.flush();
  assert.deepEqual(seen, [0, 2]);
  assert.deepEqual(errors, ["bad:odd 1", "bad:odd 3"]);
  assert.equal(r.stats().errors, 2);
  assert.equal(r.stats().handled, 2);
});

Deno.test("HandlerRunner.flush() times out in virtual time when the handler hangs", async () => {
  const vc = new VirtualClock();
  const r = new HandlerRunner("slow", () => new Promise(() => {}), {}, { clock: vc });
  r.offer(sig(1));
  const p = r.flush(100);
  await Promise.resolve();
  vc.tick(100);
  assert.equal(await p, false);
});

Deno.test("HandlerRunner.stop() drains, flushes, calls stop and then ignores signals", async () => {
  const calls: string[] = [];
  const r = new HandlerRunner(
    "obj",
    {
      handleBatch: (b) => void calls.push(`batch:${b.length}`),
      flush: () => void calls.push("flush"),
      stop: () => void calls.push("stop"),
    },
    {},
    { clock },
  );
  r.offer(sig(1));
  r.offer(sig(2));
  assert.equal(await r.stop(), true);
  r.offer(sig(3));
  await r.flush();
  assert.deepEqual(calls, ["batch:2", "flush", "stop"]);
  assert.equal(r.stats().stopped, true);
});

Deno.test("HandlerRunner applies its filter and records the combined sample rate", async () => {
  const seen: Signal[] = [];
  const r = new HandlerRunner("f", (s) => void seen.push(s), {
    minLevel: "warn",
    sample: 0.5,
  }, { clock, random: () => 0.1 });
  r.offer(sig(1));
  r.offer(sig(2, { level: "error", sample: 0.5 }));
  await r.flush();
  assert.equal(seen.length, 1);
  assert.equal(seen[0].sample, 0.25);
  assert.equal(r.stats().filtered, 1);
});

Deno.test("HandlerRunner rejects bad options with RangeError/TypeError", () => {
  assert.throws(() => new HandlerRunner("x", () => {}, { bufferSize: 0 }), RangeError);
  assert.throws(() => new HandlerRunner("x", () => {}, { mode: "blocking" as never }), TypeError);
  assert.throws(() => new HandlerRunner("x", {} as never), TypeError);
});
