/**
 * Telemetry for sente-lite ("telemere-lite"): structured signals (`log`, `event`, `error`,
 * `trace`, `spy`) with Telemere-style filtering, sampling and rate limits, handlers with bounded
 * async queues, and built-in console, capture, JSON-lines file and remote (browser → server)
 * handlers. Standalone and dependency-free.
 *
 * Every module under `lib/telemetry/` is browser compatible except `file_handler.ts`,
 * `configure.ts` (for file output) and `server_plugin.ts`, which need Deno, Bun or Node; they only
 * touch the file system when used, so importing this entrypoint is safe everywhere.
 *
 * @example
 * ```ts
 * import { captureHandler, Telemetry } from "./telemetry.ts";
 *
 * const tel = new Telemetry({ minLevel: "debug" });
 * const capture = captureHandler();
 * tel.addHandler("capture", capture);
 *
 * const db = tel.scope("app.db");
 * const rows = db.trace("db/query", () => {
 *   db.log("debug", "running query", { data: () => ({ sql: "select 1" }) });
 *   return [1];
 * });
 * await tel.flush();
 * console.assert(rows.length === 1);
 * console.assert(capture.signals.length === 2);
 * console.assert(capture.signals[0].parent?.id === "db/query"); // the log nests in the trace
 * ```
 *
 * @module
 */

export * from "./lib/telemetry/levels.ts";
export * from "./lib/telemetry/signal.ts";
export * from "./lib/telemetry/ids.ts";
export * from "./lib/telemetry/filter.ts";
export * from "./lib/telemetry/rate_limit.ts";
export * from "./lib/telemetry/handler.ts";
export * from "./lib/telemetry/telemetry.ts";
export * from "./lib/telemetry/default.ts";
export * from "./lib/telemetry/capture_handler.ts";
export * from "./lib/telemetry/console_handler.ts";
export * from "./lib/telemetry/remote_handler.ts";
export * from "./lib/telemetry/file_handler.ts";
export * from "./lib/telemetry/configure.ts";
export * from "./lib/telemetry/server_plugin.ts";
export { type Clock, realClock, type TimerHandle, VirtualClock } from "./lib/util/clock.ts";
