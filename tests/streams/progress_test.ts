import assert from "node:assert/strict";
import { ProgressMeter } from "../../lib/streams/progress.ts";
import type { StreamProgress } from "../../lib/streams/progress.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

Deno.test("ProgressMeter reports at most every intervalMs, with rate, percentage and eta", () => {
  const clock = new VirtualClock(1000);
  const reports: [number, StreamProgress][] = [];
  const meter = new ProgressMeter(clock, (p) => reports.push([clock.now(), p]), 100, 10_000);
  for (let i = 1; i <= 100; i++) {
    clock.tick(10);
    meter.set(i * 100); // 10 000 bytes/s
  }
  meter.finish();
  assert.equal(reports.length, 11); // 10 by the interval, 1 final
  for (let i = 1; i < reports.length - 1; i++) {
    assert.ok(reports[i][0] - reports[i - 1][0] >= 100);
  }
  const [, first] = reports[0];
  assert.equal(first.bytes, 1000);
  assert.equal(first.total, 10_000);
  assert.equal(first.percentage, 10);
  assert.equal(first.bytesPerSecond, 10_000);
  assert.equal(first.etaMs, 900);
  const [, last] = reports.at(-1)!;
  assert.equal(last.percentage, 100);
  assert.equal(last.etaMs, 0);
});

Deno.test("ProgressMeter without a total reports bytes and rate only", () => {
  const clock = new VirtualClock();
  const reports: StreamProgress[] = [];
  const meter = new ProgressMeter(clock, (p) => reports.push(p), 100, undefined);
  clock.tick(200);
  meter.set(500);
  assert.deepEqual(reports, [{ bytes: 500, bytesPerSecond: 2500 }]);
});
