/** The full fuzz run: `deno task fuzz [--frames N] [--seed S]` (default 100,000 frames). */
import { parseArgs } from "node:util";
import { fuzz, fuzzWire } from "./_fuzz.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { frames: { type: "string", default: "100000" }, seed: { type: "string" } },
});
const seed = values.seed ? Number(values.seed) : Date.now() % 1_000_000;
const report = await fuzz(Number(values.frames), seed);
// Binary frames for a peer that negotiated chunking and compression (lying chunk headers).
const wire = await fuzzWire(Math.ceil(Number(values.frames) / 5), seed);
console.log(JSON.stringify({ wire: { ...wire, unexpected: wire.unexpected.slice(0, 20) } }));
console.log(
  JSON.stringify(
    {
      seed,
      ...report,
      mismatches: report.mismatches.slice(0, 20),
      mismatchCount: report.mismatches.length,
    },
    null,
    1,
  ),
);
if (report.mismatches.length || wire.unexpected.length) Deno.exit(1);
