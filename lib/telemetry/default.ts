// This module is browser compatible.
/**
 * The default {@linkcode Telemetry} instance and module-level functions bound to it. It starts
 * with no handlers, so a library that reports through it costs one compare per call until the
 * application adds a handler (or calls `configure`).
 *
 * @module
 */

import type { Handler, HandlerOptions, HandlerStats } from "./handler.ts";
import type { Level, LevelLike } from "./levels.ts";
import type { MinLevelScope, NameFilterLike } from "./filter.ts";
import type { Signal } from "./signal.ts";
import {
  type GenericSignalOptions,
  type Msg,
  type Scope,
  type SignalOptions,
  Telemetry,
} from "./telemetry.ts";
import { defaultTelemetrySlot } from "./_default_slot.ts";

/** The process-wide default instance behind the module functions. */
export const telemetry: Telemetry = new Telemetry();
// Clients created without a `telemetry` option report here once this module is loaded.
defaultTelemetrySlot.current = telemetry;

/**
 * Records a log signal on the default instance. See {@linkcode Scope.log}.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * tel.log("info", "listening on 3000");
 * tel.log("debug", () => `expensive ${JSON.stringify({ state: 1 })}`); // built only when enabled
 * ```
 */
export function log(level: Level, msg: Msg, options?: SignalOptions): void {
  telemetry.log(level, msg, options);
}

/**
 * Records an event signal on the default instance. See {@linkcode Scope.event}.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * tel.event("app/started", { level: "info", data: { port: 3000 } });
 * ```
 */
export function event(id: string, options?: Level | SignalOptions): void {
  telemetry.event(id, options);
}

/**
 * Records an error signal on the default instance and returns `err`. See {@linkcode Scope.error}.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * try {
 *   JSON.parse("{");
 * } catch (e) {
 *   tel.error(e, "config file is not JSON"); // returns e, to rethrow if needed
 * }
 * ```
 */
export function error<E>(err: E, options?: string | SignalOptions): E {
  return telemetry.error(err, options);
}

/**
 * Records a signal of any kind on the default instance. See {@linkcode Scope.signal}.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * tel.signal({ kind: "event", level: "info", id: "app/cache-miss", data: { key: "k" } });
 * ```
 */
export function signal(options: GenericSignalOptions): boolean {
  return telemetry.signal(options);
}

/**
 * Runs `fn` in a trace span on the default instance. See {@linkcode Scope.trace}.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * const sum = tel.trace("app/sum", () => [1, 2, 3].reduce((a, b) => a + b, 0));
 * console.log(sum);
 * ```
 */
export function trace<T>(id: string, fn: () => T, options?: SignalOptions): T {
  return telemetry.trace(id, fn, options);
}

/**
 * Runs async `fn` in a trace span on the default instance. See {@linkcode Scope.traceAsync}.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * const page = await tel.traceAsync("app/fetch", async () => (await fetch("https://example.com")).status);
 * console.log(page);
 * ```
 */
export function traceAsync<T>(
  id: string,
  fn: () => T | Promise<T>,
  options?: SignalOptions,
): Promise<T> {
  return telemetry.traceAsync(id, fn, options);
}

/**
 * Runs `fn` and records its value on the default instance. See {@linkcode Scope.spy}.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * const total = tel.spy("debug", () => 1 + 2); // logs the value and the time taken
 * console.log(total);
 * ```
 */
export function spy<T>(level: Level, fn: () => T, options?: SignalOptions): T {
  return telemetry.spy(level, fn, options);
}

/**
 * A scope of the default instance for namespace `ns`.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * const db = tel.scope("my-app.db");
 * db.log("warn", "slow query");
 * ```
 */
export function scope(ns: string): Scope {
  return telemetry.scope(ns);
}

/**
 * Sets a minimum level on the default instance. See {@linkcode Telemetry.setMinLevel}.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * tel.setMinLevel("info");
 * tel.setMinLevel("debug", { ns: "my-app.db*" }); // one namespace more verbose
 * ```
 */
export function setMinLevel(level: LevelLike | undefined, where?: MinLevelScope): void {
  telemetry.setMinLevel(level, where);
}

/**
 * Sets the namespace filter of the default instance.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * tel.setNsFilter({ allow: "my-app.*" });
 * ```
 */
export function setNsFilter(filter: NameFilterLike | undefined): void {
  telemetry.setNsFilter(filter);
}

/**
 * Sets the id filter of the default instance.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * tel.setIdFilter({ allow: "app/*", deny: "app/noisy-*" });
 * ```
 */
export function setIdFilter(filter: NameFilterLike | undefined): void {
  telemetry.setIdFilter(filter);
}

/**
 * Sets the kind filter of the default instance.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * tel.setKindFilter({ deny: "trace" }); // no spans
 * ```
 */
export function setKindFilter(filter: NameFilterLike | undefined): void {
  telemetry.setKindFilter(filter);
}

/**
 * Adds a handler to the default instance. See {@linkcode Telemetry.addHandler}.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * tel.addHandler("console", tel.consoleHandler({ format: "json" }), { minLevel: "info" });
 * ```
 */
export function addHandler(id: string, handler: Handler, options?: HandlerOptions): void {
  telemetry.addHandler(id, handler, options);
}

/**
 * Removes and stops a handler of the default instance.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * tel.addHandler("console", tel.consoleHandler());
 * await tel.removeHandler("console"); // drains its queue first
 * ```
 */
export function removeHandler(id: string, timeoutMs?: number): Promise<boolean> {
  return telemetry.removeHandler(id, timeoutMs);
}

/**
 * Counters of the default instance's handlers.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * for (const [id, s] of Object.entries(tel.stats())) console.log(id, s);
 * ```
 */
export function stats(): Record<string, HandlerStats> {
  return telemetry.stats();
}

/**
 * Drains and flushes the default instance's handlers.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * await tel.flush(1000); // false if a handler did not finish in time
 * ```
 */
export function flush(timeoutMs?: number): Promise<boolean> {
  return telemetry.flush(timeoutMs);
}

/**
 * Stops and removes the default instance's handlers.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * await tel.stop(); // removes and stops every handler of the default instance
 * ```
 */
export function stop(timeoutMs?: number): Promise<boolean> {
  return telemetry.stop(timeoutMs);
}

/**
 * Captures the signals `fn` makes on the default instance. See {@linkcode Telemetry.withSignals}.
 *
 * @example
 * ```ts
 * import * as tel from "@sente-lite/sente-lite/telemetry";
 *
 * const signals = tel.withSignals(() => tel.event("app/probe"));
 * console.log(signals.length);
 * ```
 */
export function withSignals(fn: () => unknown): Signal[] {
  return telemetry.withSignals(fn);
}
