/**
 * One-call setup of a telemetry instance, like the seed's `tel/configure!`.
 *
 * Not browser compatible when `output` includes `"file"` (it uses {@linkcode fileHandler}); console
 * output works everywhere.
 *
 * @module
 */

import { consoleHandler } from "./console_handler.ts";
import { telemetry as defaultTelemetry } from "./default.ts";
import { fileHandler } from "./file_handler.ts";
import type { LevelLike } from "./levels.ts";
import type { Telemetry } from "./telemetry.ts";

/** Where {@linkcode configure} sends signals. */
export type Output = "console" | "file" | "both" | "none";

/** Options for {@linkcode configure}. */
export interface ConfigureOptions {
  /** Global minimum level.
   * @default {"info"} */
  level?: LevelLike;
  /** Output handlers to install.
   * @default {"console"} */
  output?: Output;
  /** JSON-lines file path, for `"file"` and `"both"`.
   * @default {"logs/telemetry.jsonl"} */
  file?: string;
  /** Console format: readable lines or JSON lines (files are always JSON lines).
   * @default {"pretty"} */
  format?: "pretty" | "json";
  /** The instance to configure.
   * @default {the default instance} */
  telemetry?: Telemetry;
}

const CONFIGURE_DEFAULTS = {
  level: "info" as LevelLike,
  output: "console" as Output,
  file: "logs/telemetry.jsonl",
  format: "pretty" as "pretty" | "json",
};

/**
 * Sets the minimum level and replaces the `"console"` and `"file"` handlers according to `output`
 * (other handlers are left alone). Resolves once replaced handlers have been stopped.
 *
 * @throws {TypeError} if `output` or `format` is unknown, or `level` is not a level.
 *
 * @example
 * ```ts
 * import { configure } from "@sente-lite/sente-lite/telemetry";
 *
 * await configure({ level: "info", output: "both", file: "logs/app.jsonl" });
 * ```
 */
export async function configure(options?: ConfigureOptions): Promise<void> {
  options ??= {};
  const o = { ...CONFIGURE_DEFAULTS, ...options };
  const tel = options.telemetry ?? defaultTelemetry;
  if (!["console", "file", "both", "none"].includes(o.output)) {
    throw new TypeError(`output must be "console", "file", "both" or "none", got ${o.output}`);
  }
  if (o.format !== "pretty" && o.format !== "json") {
    throw new TypeError(`format must be "pretty" or "json", got ${String(o.format)}`);
  }
  tel.setMinLevel(o.level);
  await Promise.all([tel.removeHandler("console"), tel.removeHandler("file")]);
  if (o.output === "console" || o.output === "both") {
    tel.addHandler("console", consoleHandler({ format: o.format }));
  }
  if (o.output === "file" || o.output === "both") {
    tel.addHandler("file", fileHandler({ path: o.file }), { bufferSize: 8192 });
  }
}
