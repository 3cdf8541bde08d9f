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

export type { Level, LevelLike } from "./lib/telemetry/levels.ts";
export type {
  SerializedError,
  Signal,
  SignalKind,
  SignalRecord,
  TraceRef,
} from "./lib/telemetry/signal.ts";
export type {
  MinLevelScope,
  NameFilterLike,
  NameFilterSpec,
  Pattern,
  SignalFilterOptions,
} from "./lib/telemetry/filter.ts";
export type { RateLimitSpec, RateWindow } from "./lib/telemetry/rate_limit.ts";
export type {
  Handler,
  HandlerErrorInfo,
  HandlerFn,
  HandlerObject,
  HandlerOptions,
  HandlerStats,
  QueueMode,
} from "./lib/telemetry/handler.ts";
export {
  type ContextStorage,
  type GenericSignalOptions,
  type Msg,
  Scope,
  type SignalOptions,
  Telemetry,
  type TelemetryOptions,
} from "./lib/telemetry/telemetry.ts";
export * from "./lib/telemetry/default.ts";
export * from "./lib/telemetry/capture_handler.ts";
export {
  type ConsoleHandler,
  consoleHandler,
  type ConsoleHandlerOptions,
  type ConsoleLike,
} from "./lib/telemetry/console_handler.ts";
export * from "./lib/telemetry/remote_handler.ts";
export {
  type FileHandler,
  fileHandler,
  type FileHandlerOptions,
  JsonlWriter,
  type JsonlWriterOptions,
} from "./lib/telemetry/file_handler.ts";
export * from "./lib/telemetry/configure.ts";
export {
  type TelemetryErrorCode,
  type TelemetryMessage,
  type TelemetryPlugin,
  telemetryPlugin,
  type TelemetryPluginOptions,
  type TelemetryPluginStats,
  type TelemetryReply,
  type TelemetryServer,
} from "./lib/telemetry/server_plugin.ts";
export { type Clock, realClock, type TimerHandle, VirtualClock } from "./lib/util/clock.ts";
