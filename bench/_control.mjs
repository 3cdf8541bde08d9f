// The control side of the benchmarks' measured servers, shared by bench/_bench_server.ts (Deno,
// Bun) and bench/_socketio_server.mjs (Node, which runs no TypeScript): JSON lines on stdin
// (`{"op":"stats"|"gc"|"burst"|"exit", …}`), one JSON line answer each on stdout, the first
// stdout line the server's `ready` object. Times are absolute ms
// (`performance.timeOrigin + performance.now()`), comparable across processes on one machine.
import process from "node:process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

/** @returns {number} absolute ms */
export const now = () => performance.timeOrigin + performance.now();

/**
 * CPU ms of this whole process (all threads, user + system) from `getrusage` through
 * `process.cpuUsage()` (µs resolution); the 10 ms ticks of /proc where that is missing.
 * @returns {number}
 */
export function cpuMs() {
  try {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  } catch {
    return procCpuMs();
  }
}

/**
 * CPU ms of this whole process from /proc (10 ms ticks); NaN elsewhere.
 * @returns {number}
 */
function procCpuMs() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * The soft open-file limit from /proc (NaN elsewhere): the bench checks it fits the load.
 * @returns {number}
 */
export function openFileLimit() {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const line = limits.split("\n").find((l) => l.startsWith("Max open files"));
    return Number(line?.split(/\s+/)[3]);
  } catch {
    return NaN;
  }
}

/**
 * Prints `ready`, then answers the orchestrator's commands until `exit` or the end of stdin.
 * @param {{
 *   ready: Record<string, unknown>,
 *   connections: () => number,
 *   gc: () => void,
 *   burst: (kind: "broadcast" | "publish", payload: string) => void,
 * }} server
 * @returns {Promise<never>}
 */
export async function control(server) {
  const stats = () => ({
    rss: process.memoryUsage().rss,
    heapUsed: process.memoryUsage().heapUsed,
    nofile: openFileLimit(),
    cpuMs: cpuMs(),
    connections: server.connections(),
  });
  const reply = (/** @type {Record<string, unknown>} */ m) => console.log(JSON.stringify(m));
  reply(server.ready);
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line);
    if (cmd.op === "stats") reply({ re: "stats", ...stats() });
    else if (cmd.op === "gc") {
      server.gc();
      await new Promise((r) => setTimeout(r, 200));
      server.gc();
      reply({ re: "gc", ...stats() });
    } else if (cmd.op === "burst") {
      // The same payload on every side: raw sends it as the frame, sente-lite and Socket.IO as
      // the data of an event (so their frames carry their envelopes too).
      const payload = "x".repeat(cmd.bytes);
      const t0 = now();
      for (let i = 0; i < cmd.count; i++) server.burst(cmd.kind, payload);
      reply({ re: "burst", t0, loopEnd: now() });
    } else if (cmd.op === "exit") {
      reply({ re: "exit" });
      process.exit(0);
    }
  }
  process.exit(0); // stdin closed: the orchestrator is gone
}
