// This module is browser compatible.
/**
 * Signal levels: names, their numeric values (Telemere's scale) and the OpenTelemetry severity
 * each maps to.
 *
 * @module
 */

/** A level name, from least to most severe. */
export type Level = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "report";

/** Numeric value of each level; a signal passes a minimum level when its value is `>=` it. */
export const LEVELS: Readonly<Record<Level, number>> = Object.freeze({
  trace: 10,
  debug: 20,
  info: 50,
  warn: 60,
  error: 70,
  fatal: 80,
  report: 90,
});

/** Level names in ascending order. */
export const LEVEL_NAMES: readonly Level[] = Object.freeze(
  ["trace", "debug", "info", "warn", "error", "fatal", "report"] as Level[],
);

/** OpenTelemetry `SeverityNumber` for each level (`report` maps to INFO4, as Telemere does). */
export const OTEL_SEVERITY: Readonly<Record<Level, number>> = Object.freeze({
  trace: 1,
  debug: 5,
  info: 9,
  warn: 13,
  error: 17,
  fatal: 21,
  report: 12,
});

/** A level given by name or by its numeric value. */
export type LevelLike = Level | number;

/** Whether `value` is a level name. */
export function isLevel(value: unknown): value is Level {
  return typeof value === "string" && Object.hasOwn(LEVELS, value);
}

/**
 * The numeric value of a level name or number.
 *
 * @throws {TypeError} if `level` is neither a level name nor a finite number.
 */
export function levelValue(level: LevelLike, argName?: string): number {
  argName ??= "level";
  if (typeof level === "number") {
    if (Number.isFinite(level)) return level;
  } else if (isLevel(level)) {
    return LEVELS[level];
  }
  throw new TypeError(
    `${argName} must be one of ${LEVEL_NAMES.join(", ")} or a finite number, got ${
      JSON.stringify(level) ?? String(level)
    }`,
  );
}
