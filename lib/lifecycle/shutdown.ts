/**
 * Graceful shutdown of a system, and the signal handling that runs it under systemd, Docker and
 * Kubernetes.
 *
 * {@linkcode shutdownSystem} runs, in order: mark not ready (`/ready` answers 503) and drain every
 * component (the server refuses new connections, waits for queued frames and requests in flight,
 * then closes every connection with 1001), flush (telemetry), then stop every component in
 * reverse start order.
 *
 * {@linkcode installShutdown} runs it on SIGTERM or SIGINT and then exits 0 (1 when something
 * failed); a second signal, or the overall timeout, exits at once with `128 + signal number`.
 *
 * @module
 */
import type { System } from "./system.ts";
import { exitProcess, onSignal, SIGNAL_NUMBERS } from "./_runtime.ts";

/** Options of {@linkcode shutdownSystem}. */
export interface ShutdownSystemOptions {
  /**
   * Time for the drain phase (queued frames, requests in flight, 1001 closes), in ms.
   * @default {10000}
   */
  drainTimeoutMs?: number;
  /**
   * Time for the flush phase (telemetry), in ms.
   * @default {5000}
   */
  flushTimeoutMs?: number;
}

/** Options of {@linkcode installShutdown}. */
export interface ShutdownOptions extends ShutdownSystemOptions {
  /**
   * Signals that start the shutdown.
   * @default {["SIGTERM", "SIGINT"]}
   */
  signals?: string[];
  /**
   * After this long (ms) from the first signal the process exits even if the shutdown hangs
   * (keep it under Kubernetes' `terminationGracePeriodSeconds`, 30 s by default).
   * @default {25000}
   */
  timeoutMs?: number;
  /**
   * Ends the process when done: `true` exits with the code, `false` only resolves `done`, a
   * function is called with the code instead.
   * @default {true}
   */
  exit?: boolean | ((code: number) => void);
  /**
   * Progress lines ("SIGTERM: draining 50 connections…").
   * @default {console.error}
   */
  log?: (line: string) => void;
}

/** What a graceful shutdown did, and how long each phase took. */
export interface ShutdownReport {
  /** What started it: a signal name or the `reason` given to `shutdown()`. */
  reason: string;
  /** Drain phase duration in ms. */
  drainMs: number;
  /** Flush phase duration in ms. */
  flushMs: number;
  /** Stop phase duration in ms. */
  stopMs: number;
  /** The whole shutdown in ms. */
  totalMs: number;
  /** Errors by phase and component (`"drain:server"`), as messages. */
  errors: Record<string, string>;
}

/** Controls an installed shutdown. */
export interface ShutdownHandle {
  /** Runs the shutdown now (as a signal would); later calls return the same promise. */
  shutdown(reason?: string): Promise<ShutdownReport>;
  /** Resolves with the exit code once the shutdown finished (or was forced). */
  readonly done: Promise<number>;
  /** Removes the signal listeners. */
  uninstall(): void;
}

const DEFAULTS = {
  drainTimeoutMs: 10_000,
  flushTimeoutMs: 5000,
  signals: ["SIGTERM", "SIGINT"],
  timeoutMs: 25_000,
};

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function checkMs(name: string, value: number | undefined, min = 0): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= min)) {
    throw new RangeError(`ShutdownOptions.${name} must be a number >= ${min}, got ${value}`);
  }
}

/**
 * Drains, flushes and stops `system`; never throws (errors are in the report).
 *
 * @example
 * ```ts
 * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * const system = await startSystem({ greeting: { start: () => "hello" } });
 * import { shutdownSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * const report = await shutdownSystem(system, { drainTimeoutMs: 5000 });
 * console.log(report);
 * ```
 */
export async function shutdownSystem(
  system: System,
  options?: ShutdownSystemOptions,
  reason?: string,
): Promise<ShutdownReport> {
  options ??= {};
  reason ??= "shutdown";
  checkMs("drainTimeoutMs", options.drainTimeoutMs);
  checkMs("flushTimeoutMs", options.flushTimeoutMs);
  const errors: Record<string, string> = {};
  const t0 = performance.now();
  const collect = (phase: string, errs: Record<string, unknown>) => {
    for (const [k, e] of Object.entries(errs)) errors[`${phase}:${k}`] = message(e);
  };
  collect("drain", await system.drain(options.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs));
  const t1 = performance.now();
  collect("flush", await system.flush(options.flushTimeoutMs ?? DEFAULTS.flushTimeoutMs));
  const t2 = performance.now();
  try {
    await system.stop();
  } catch (e) {
    const rollback = (e as { cause?: unknown }).cause;
    const list = rollback instanceof AggregateError ? rollback.errors : [e];
    errors["stop"] = list.map(message).join("; ");
  }
  const t3 = performance.now();
  return {
    reason,
    drainMs: Math.round(t1 - t0),
    flushMs: Math.round(t2 - t1),
    stopMs: Math.round(t3 - t2),
    totalMs: Math.round(t3 - t0),
    errors,
  };
}

/**
 * Runs {@linkcode shutdownSystem} on the first of `signals`, then exits 0 (1 if a phase failed).
 * A second signal, or `timeoutMs` passing, exits at once with `128 + signal number`.
 *
 * @example
 * ```ts
 * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * const system = await startSystem({ greeting: { start: () => "hello" } });
 * import { installShutdown } from "@sente-lite/sente-lite/lifecycle";
 *
 * const shutdown = installShutdown(system, { timeoutMs: 25_000 }); // SIGTERM/SIGINT: drain, flush, stop
 * shutdown.uninstall();
 * await system.stop();
 * ```
 */
export function installShutdown(system: System, options?: ShutdownOptions): ShutdownHandle {
  options ??= {};
  checkMs("timeoutMs", options.timeoutMs, 1);
  checkMs("drainTimeoutMs", options.drainTimeoutMs);
  checkMs("flushTimeoutMs", options.flushTimeoutMs);
  const signals = options.signals ?? DEFAULTS.signals;
  if (!Array.isArray(signals) || signals.some((s) => typeof s !== "string")) {
    throw new TypeError(`ShutdownOptions.signals must be an array of signal names, got ${signals}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const log = options.log ?? ((line: string) => console.error(line));
  const exit = options.exit ?? true;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => resolveDone = r);
  let finished = false;
  const finish = (code: number) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    uninstall();
    resolveDone(code);
    if (exit === true) exitProcess(code);
    else if (typeof exit === "function") exit(code);
  };
  let running: Promise<ShutdownReport> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const shutdown = (reason = "shutdown()"): Promise<ShutdownReport> =>
    running ??= (async () => {
      log(`sente-lite: ${reason}: shutting down (a second signal forces exit)`);
      timer = setTimeout(() => {
        log(`sente-lite: shutdown took longer than ${timeoutMs} ms, forcing exit`);
        finish(128 + (SIGNAL_NUMBERS[reason] ?? 15));
      }, timeoutMs);
      const report = await shutdownSystem(system, options, reason);
      const failed = Object.keys(report.errors).length > 0;
      log(
        `sente-lite: stopped in ${report.totalMs} ms (drain ${report.drainMs}, flush ${report.flushMs}, stop ${report.stopMs})` +
          (failed ? `; errors: ${JSON.stringify(report.errors)}` : ""),
      );
      finish(failed ? 1 : 0);
      return report;
    })();
  const removers = signals.map((signal) =>
    onSignal(signal, () => {
      if (running) {
        log(`sente-lite: second ${signal}: forcing exit`);
        finish(128 + (SIGNAL_NUMBERS[signal] ?? 15));
      } else void shutdown(signal);
    })
  );
  let installed = true;
  const uninstall = () => {
    if (!installed) return;
    installed = false;
    for (const remove of removers) remove();
  };
  return { shutdown, done, uninstall };
}
