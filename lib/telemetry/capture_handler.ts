// This module is browser compatible.
/**
 * An in-memory handler that keeps signals for tests.
 *
 * @module
 */

import type { Signal } from "./signal.ts";

/** Options for {@linkcode captureHandler}. */
export interface CaptureHandlerOptions {
  /** Most signals kept; older ones are discarded beyond it.
   * @default {10_000} */
  max?: number;
}

const CAPTURE_DEFAULTS: Required<CaptureHandlerOptions> = { max: 10_000 };

/** A handler that records the signals it receives. */
export interface CaptureHandler {
  /** The captured signals, oldest first. */
  readonly signals: Signal[];
  /** Records one signal. */
  handle(signal: Signal): void;
  /** Forgets every captured signal. */
  clear(): void;
}

/**
 * Creates a capturing handler. Add it with `{ mode: "sync" }` to see signals immediately, or
 * await `flush()` first.
 *
 * @throws {RangeError} if `max` is not a positive integer.
 *
 * @example
 * ```ts
 * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
 *
 * const telemetry = new Telemetry();
 * import { captureHandler } from "@sente-lite/sente-lite/telemetry";
 *
 * const capture = captureHandler({ max: 100 });
 * telemetry.addHandler("capture", capture, { mode: "sync" });
 * telemetry.event("test/ping");
 * console.log(capture.signals.length); // 1
 * ```
 */
export function captureHandler(options?: CaptureHandlerOptions): CaptureHandler {
  options ??= {};
  const { max } = { ...CAPTURE_DEFAULTS, ...options };
  if (!Number.isInteger(max) || max < 1) {
    throw new RangeError(`max must be a positive integer, got ${max}`);
  }
  const signals: Signal[] = [];
  return {
    signals,
    handle(signal) {
      if (signals.length >= max) signals.shift();
      signals.push(signal);
    },
    clear() {
      signals.length = 0;
    },
  };
}
