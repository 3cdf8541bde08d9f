import assert from "node:assert/strict";
import { Liveness } from "../../lib/util/liveness.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

function watch(intervalMs = 30, timeoutMs = 60) {
  const clock = new VirtualClock();
  const log: string[] = [];
  const l = new Liveness(clock, { intervalMs, timeoutMs }, {
    ping: () => log.push(`ping@${clock.now()}`),
    dead: () => log.push(`dead@${clock.now()}`),
  });
  return { clock, log, l };
}

Deno.test("Liveness pings after the idle interval and declares death at the timeout", () => {
  const { clock, log, l } = watch();
  l.start();
  clock.tick(100);
  assert.deepEqual(log, ["ping@30", "dead@60"]);
  assert.equal(l.running, false);
  assert.equal(clock.pending, 0);
});

Deno.test("Liveness counts any frame as liveness", () => {
  const { clock, log, l } = watch();
  l.start();
  for (let t = 0; t < 200; t += 20) {
    clock.tick(20);
    l.seen();
  }
  assert.deepEqual(log, []);
  clock.tick(45);
  assert.deepEqual(log, ["ping@230"]);
  l.seen(); // the pong
  clock.tick(59);
  assert.deepEqual(log, ["ping@230", "ping@275"]);
  clock.tick(1);
  assert.deepEqual(log, ["ping@230", "ping@275", "dead@305"]);
});

Deno.test("Liveness re-arms at most once per interval however many frames arrive", () => {
  const { clock, l } = watch();
  l.start();
  for (let i = 0; i < 1000; i++) l.seen();
  assert.equal(clock.pending, 1);
});

Deno.test("Liveness.probe() pings now and expects a frame within the given time", () => {
  const { clock, log, l } = watch(30, 600);
  l.start();
  clock.tick(5);
  l.probe(10);
  clock.tick(9);
  assert.deepEqual(log, ["ping@5"]);
  clock.tick(1);
  assert.deepEqual(log, ["ping@5", "dead@15"]);
  const w = watch(30, 600);
  w.l.start();
  w.l.probe(10);
  w.clock.tick(3);
  w.l.seen();
  w.clock.tick(20);
  assert.deepEqual(w.log, ["ping@0"]);
});

Deno.test("Liveness does nothing after stop() or with zero timings", () => {
  const { clock, log, l } = watch();
  l.start();
  l.stop();
  clock.tick(1000);
  assert.deepEqual(log, []);
  const off = watch(0, 0);
  off.l.start();
  off.clock.tick(1e9);
  assert.deepEqual(off.log, []);
  assert.equal(off.clock.pending, 0);
});
