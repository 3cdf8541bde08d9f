/**
 * Telemetry benchmark: caller cost of filtered-out and enabled signals, trace overhead, end-to-end
 * signals/s and JSON-lines file throughput, with LogTape's null sink and pino on /dev/null as
 * baselines in the same run.
 *
 * Run: `deno run -A bench/telemetry.ts` (add `--json` for JSON only).
 */
import { bench, do_not_optimize, run } from "mitata";
import { configure as configureLogTape, getLogger, reset as resetLogTape } from "@logtape/logtape";
import pino from "pino";
import { fileHandler, Telemetry } from "../telemetry.ts";

const jsonOnly = Deno.args.includes("--json");

// --- subjects ---------------------------------------------------------------------------------

// Filtered out: minimum level info, one handler present, debug call.
const filtered = new Telemetry({ minLevel: "info" });
filtered.addHandler("noop", async () => {});

// Enabled: one async no-op handler. Sliding mode so a full queue costs the same as an enqueue
// (mitata's sync loops outrun the microtask drain).
const enabled = new Telemetry({ minLevel: "info" });
let handled = 0;
// An async no-op handler: returns a settled promise, as an async sink would.
enabled.addHandler("noop", () => {
  handled++;
  return Promise.resolve();
}, { mode: "sliding", bufferSize: 4096 });

await configureLogTape({
  sinks: { null() {} },
  loggers: [
    { category: [], sinks: ["null"], lowestLevel: "trace" },
    { category: ["logtape", "meta"], sinks: [], lowestLevel: "fatal" },
  ],
});
const logtape = getLogger(["bench"]);
const pinoNull = pino(pino.destination({ dest: "/dev/null", sync: false }));

// --- mitata: caller-side ns/call --------------------------------------------------------------

bench("empty call (baseline)", () => do_not_optimize((() => 1)()));
bench("telemetry: filtered-out log", () => filtered.log("debug", "Test log message."));
bench(
  "telemetry: filtered-out event + data thunk",
  () => filtered.event("x", { level: "debug", data: () => ({ a: 1 }) }),
);
bench(
  "telemetry: enabled log, async no-op handler",
  () => enabled.log("info", "Test log message."),
);
bench("logtape: null sink", () => logtape.info("Test log message."));
bench("pino: /dev/null", () => pinoNull.info("Test log message."));
bench("bare fn () => 1", () => do_not_optimize((() => 1)()));
bench("telemetry: trace(() => 1)", () => do_not_optimize(enabled.trace("t", () => 1)));

const result = await run({ format: jsonOnly ? "quiet" : "mitata", colors: false });
const ns: Record<string, number> = {};
const p50: Record<string, number> = {};
for (const b of result.benchmarks) {
  ns[b.alias] = b.runs[0].stats!.avg;
  p50[b.alias] = b.runs[0].stats!.p50;
}

// --- allocation of the filtered-out path ------------------------------------------------------

function heapDelta(n: number): number {
  (globalThis as { gc?: () => void }).gc?.();
  const before = Deno.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) filtered.log("debug", "Test log message.");
  return (Deno.memoryUsage().heapUsed - before) / n;
}
heapDelta(1e6);
const filteredBytesPerCall = heapDelta(1e7);

// --- end to end: emit in rounds, drain, count ------------------------------------------------

async function endToEnd(n: number, round: number): Promise<{ callerNs: number; perSec: number }> {
  const tel = new Telemetry();
  let count = 0;
  tel.addHandler("noop", () => {
    count++;
    return Promise.resolve();
  }, { bufferSize: round });
  let caller = 0;
  const t0 = performance.now();
  for (let done = 0; done < n; done += round) {
    const c0 = performance.now();
    for (let i = 0; i < round; i++) tel.log("info", "Test log message.");
    caller += performance.now() - c0;
    await tel.flush();
  }
  const total = performance.now() - t0;
  if (count !== n) throw new Error(`end to end: handled ${count} of ${n}`);
  return { callerNs: (caller * 1e6) / n, perSec: n / (total / 1000) };
}
await endToEnd(200_704, 1024);
const e2e = await endToEnd(1_024_000, 1024);

// --- JSON lines to a file ---------------------------------------------------------------------

const dir = await Deno.makeTempDir({ prefix: "telemetry_bench_" });
async function jsonlFile(
  n: number,
): Promise<{ perSec: number; mbPerSec: number; callerNs: number }> {
  const path = `${dir}/t-${n}.jsonl`;
  const tel = new Telemetry();
  tel.addHandler("file", fileHandler({ path, flushOnExit: false, maxBytes: 0 }), {
    bufferSize: 4096,
    maxBatch: 1024,
  });
  const round = 2048;
  let caller = 0;
  const t0 = performance.now();
  for (let done = 0; done < n; done += round) {
    const c0 = performance.now();
    for (let i = 0; i < round; i++) {
      tel.event("http/request", { data: { i: done + i, user: "alice", path: "/api/items" } });
    }
    caller += performance.now() - c0;
    await tel.flush();
  }
  await tel.stop();
  const secs = (performance.now() - t0) / 1000;
  const text = Deno.readTextFileSync(path);
  const lines = text.split("\n").length - 1;
  if (lines !== n) throw new Error(`jsonl: wrote ${lines} of ${n} lines`);
  return { perSec: n / secs, mbPerSec: text.length / secs / 1e6, callerNs: (caller * 1e6) / n };
}

async function pinoFile(n: number): Promise<number> {
  const path = `${dir}/pino-${n}.jsonl`;
  const dest = pino.destination({ dest: path, sync: false, minLength: 4096 });
  const logger = pino(dest);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) logger.info({ i, user: "alice", path: "/api/items" }, "http/request");
  await new Promise<void>((resolve) => dest.flush(() => resolve()));
  dest.end();
  return n / ((performance.now() - t0) / 1000);
}
await jsonlFile(100_352);
const jsonl = await jsonlFile(501_760);
await pinoFile(100_000);
const pinoLinesPerSec = await pinoFile(500_000);
await Deno.remove(dir, { recursive: true });
await resetLogTape();

// --- report -----------------------------------------------------------------------------------

const traceOverhead = ns["telemetry: trace(() => 1)"] - ns["bare fn () => 1"];
const report = {
  runtime: `deno ${Deno.version.deno} (v8 ${Deno.version.v8})`,
  cpu: result.context.cpu.name,
  handledDuringMitata: handled,
  ns,
  p50,
  filteredOut: {
    ns: ns["telemetry: filtered-out log"],
    bytesPerCall: filteredBytesPerCall,
    goalNs: 15,
  },
  enabled: {
    callerNs: ns["telemetry: enabled log, async no-op handler"],
    goalNs: 300,
    ratioVsLogTapeNull: ns["telemetry: enabled log, async no-op handler"] /
      ns["logtape: null sink"],
    ratioVsPinoDevNull: ns["telemetry: enabled log, async no-op handler"] / ns["pino: /dev/null"],
  },
  endToEnd: { callerNs: e2e.callerNs, signalsPerSec: e2e.perSec, goalPerSec: 2_000_000 },
  trace: { overheadNs: traceOverhead, goalNs: 1000 },
  jsonlFile: {
    linesPerSec: jsonl.perSec,
    mbPerSec: jsonl.mbPerSec,
    callerNs: jsonl.callerNs,
    goalLinesPerSec: 500_000,
    pinoLinesPerSec,
    ratioVsPino: jsonl.perSec / pinoLinesPerSec,
  },
};

if (!jsonOnly) {
  const f = (x: number) => x.toFixed(1);
  console.log(`
filtered-out call     ${f(report.filteredOut.ns)} ns, ${
    report.filteredOut.bytesPerCall.toFixed(3)
  } B/call (goal <= 15 ns, 0 B)
enabled, caller       ${f(report.enabled.callerNs)} ns (goal <= 300 ns); x${
    report.enabled.ratioVsLogTapeNull.toFixed(2)
  } LogTape null, x${report.enabled.ratioVsPinoDevNull.toFixed(2)} pino /dev/null
enabled, end to end   ${(e2e.perSec / 1e6).toFixed(2)} M signals/s, caller ${
    f(e2e.callerNs)
  } ns (goal >= 2 M/s)
trace overhead        ${f(traceOverhead)} ns (goal <= 1000 ns)
JSONL file            ${(jsonl.perSec / 1e3).toFixed(0)} k lines/s, ${
    f(jsonl.mbPerSec)
  } MB/s, caller ${f(jsonl.callerNs)} ns (goal >= 500 k/s); pino ${
    (pinoLinesPerSec / 1e3).toFixed(0)
  } k lines/s, x${report.jsonlFile.ratioVsPino.toFixed(2)}
`);
}
console.log(JSON.stringify(report, null, jsonOnly ? 0 : 2));
