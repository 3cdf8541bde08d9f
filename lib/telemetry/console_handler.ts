// This module is browser compatible.
/**
 * A console handler: colored, readable lines in browsers and terminals, or one JSON line per
 * signal.
 *
 * @module
 */

import type { Level } from "./levels.ts";
import { isoTime, type Signal, toJsonLine } from "./signal.ts";

/** The console methods the handler uses. */
export interface ConsoleLike {
  /** Debug output. */
  debug(...args: unknown[]): void;
  /** Info output. */
  info(...args: unknown[]): void;
  /** Warning output. */
  warn(...args: unknown[]): void;
  /** Error output. */
  error(...args: unknown[]): void;
}

/** Options for {@linkcode consoleHandler}. */
export interface ConsoleHandlerOptions {
  /** `"pretty"`: a readable line plus the data object; `"json"`: one JSON line per signal.
   * @default {"pretty"} */
  format?: "pretty" | "json";
  /** Console to write to.
   * @default {globalThis.console} */
  console?: ConsoleLike;
  /** Styles with `%c` CSS (browsers) or ANSI colors (terminals); `false` for plain text.
   * @default {"auto"} (CSS in browsers, ANSI in a terminal) */
  colors?: "auto" | "css" | "ansi" | false;
}

const METHOD: Record<Level, keyof ConsoleLike> = {
  trace: "debug",
  debug: "debug",
  info: "info",
  warn: "warn",
  error: "error",
  fatal: "error",
  report: "info",
};

const CSS: Record<Level, string> = {
  trace: "color:gray",
  debug: "color:gray",
  info: "color:#2563eb;font-weight:bold",
  warn: "color:#b45309;font-weight:bold",
  error: "color:#dc2626;font-weight:bold",
  fatal: "color:white;background:#dc2626;font-weight:bold",
  report: "color:#7c3aed;font-weight:bold",
};

const ANSI: Record<Level, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[90m",
  info: "\x1b[34m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[41;97m",
  report: "\x1b[35m",
};

function detectColors(): "css" | "ansi" | false {
  const g = globalThis as { document?: unknown; Deno?: { noColor?: boolean } };
  if (g.document !== undefined) return "css";
  if (g.Deno !== undefined) return g.Deno.noColor ? false : "ansi";
  return "ansi";
}

/** The one-line text of a signal: `time LEVEL ns id msg (run time)`. */
export function formatPretty(s: Signal): string {
  let line = `${isoTime(s.time).slice(11, 23)} ${s.level.toUpperCase().padEnd(5)}`;
  if (s.ns !== undefined) line += ` [${s.ns}]`;
  if (s.id !== undefined) line += ` ${s.id}`;
  if (s.msg !== undefined) line += ` ${s.msg}`;
  if (s.runNs !== undefined) line += ` (${(s.runNs / 1e6).toFixed(3)} ms)`;
  return line;
}

/** A console handler. */
export interface ConsoleHandler {
  /** Writes one signal. */
  handle(signal: Signal): void;
}

/**
 * Creates a console handler.
 *
 * @example
 * ```ts
 * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
 *
 * const telemetry = new Telemetry();
 * import { consoleHandler } from "@sente-lite/sente-lite/telemetry";
 *
 * telemetry.addHandler("console", consoleHandler({ format: "pretty", colors: false }));
 * ```
 */
export function consoleHandler(options?: ConsoleHandlerOptions): ConsoleHandler {
  options ??= {};
  const o = { format: "pretty", console: globalThis.console, colors: "auto", ...options };
  if (o.format !== "pretty" && o.format !== "json") {
    throw new TypeError(`format must be "pretty" or "json", got ${String(o.format)}`);
  }
  const out = o.console;
  const colors = o.colors === "auto" ? detectColors() : o.colors;
  return {
    handle(s) {
      const method = METHOD[s.level] ?? "info";
      if (o.format === "json") {
        out[method](toJsonLine(s));
        return;
      }
      const text = formatPretty(s);
      const args: unknown[] = colors === "css"
        ? [`%c${text}`, CSS[s.level]]
        : colors === "ansi"
        ? [`${ANSI[s.level]}${text}\x1b[0m`]
        : [text];
      if (s.data !== undefined) args.push(s.data);
      if (s.error !== undefined) args.push(s.error);
      out[method](...args);
    },
  };
}
