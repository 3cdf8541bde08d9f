import assert from "node:assert/strict";
import { fuzz, fuzzWire } from "./_fuzz.ts";

Deno.test("the server answers 2,000 generated frames (seed 42) as documented, others unaffected", async () => {
  const report = await fuzz(2000, 42);
  assert.deepEqual(report.mismatches.slice(0, 5), []);
  assert.equal(report.frames, 2000);
  assert.ok(report.goodRoundTrips >= 40);
  // Every kind of answer was exercised.
  for (const code of ["unpack-failed", "bad-envelope", "bad-event", "no-handler"]) {
    assert.ok(
      (report.errorsByCode[code] ?? 0) > 0,
      `no ${code} in ${JSON.stringify(report.errorsByCode)}`,
    );
  }
  assert.ok(report.replies > 0 && report.closes1009 > 0);
});

Deno.test("lying chunk headers and corrupt compressed frames get documented answers (seed 42)", async () => {
  const report = await fuzzWire(500, 42);
  assert.deepEqual(report.unexpected.slice(0, 5), []);
  assert.equal(report.frames, 500);
  assert.ok(report.goodRoundTrips >= 10);
  for (const code of ["bad-chunk", "bad-frame"]) {
    assert.ok((report.answersByCode[code] ?? 0) > 0, `no ${code}: ${JSON.stringify(report)}`);
  }
});
