/**
 * Telemetry as a component: anything with `flush(timeoutMs?)` and `stop()` (a `Telemetry`
 * instance, the default instance's functions, a single handler). It is flushed in the shutdown's
 * flush phase and flushed again, then stopped, when the system stops.
 *
 * @module
 */
import type { Component, HealthCheck, PhaseOptions } from "./component.ts";

/** The shape this component needs; `Telemetry` from `./telemetry` has it. */
export interface FlushableTelemetry {
  /** Writes out everything queued; may resolve to `false` on timeout. */
  flush(timeoutMs?: number): Promise<unknown>;
  /** Flushes and releases resources. */
  stop(): Promise<unknown> | unknown;
}

/** Options of {@linkcode telemetryComponent}. */
export interface TelemetryComponentOptions {
  /**
   * Bound of the final flush in `stop`, in ms.
   * @default {5000}
   */
  flushTimeoutMs?: number;
}

/** The running telemetry component. */
export interface TelemetryInstance<T extends FlushableTelemetry = FlushableTelemetry> {
  /** The wrapped telemetry. */
  readonly telemetry: T;
  /** Flushes that resolved `false` or threw. */
  readonly failedFlushes: number;
  /** `true` once stopped. */
  readonly stopped: boolean;
}

/**
 * Wraps `telemetry` (or a function making it at start) as a component.
 *
 * @example
 * ```ts
 * import { startSystem, telemetryComponent } from "@sente-lite/sente-lite/lifecycle";
 * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
 *
 * const system = await startSystem({ telemetry: telemetryComponent(new Telemetry(), { flushTimeoutMs: 2000 }) });
 * await system.stop();
 * ```
 */
export function telemetryComponent<T extends FlushableTelemetry>(
  telemetry: T | (() => T | Promise<T>),
  options?: TelemetryComponentOptions,
): Component<TelemetryInstance<T>> {
  const flushTimeoutMs = options?.flushTimeoutMs ?? 5000;
  if (!(Number.isFinite(flushTimeoutMs) && flushTimeoutMs > 0)) {
    throw new RangeError(
      `TelemetryComponentOptions.flushTimeoutMs must be a number > 0, got ${flushTimeoutMs}`,
    );
  }
  if (typeof telemetry !== "function" && typeof telemetry?.flush !== "function") {
    throw new TypeError(
      `telemetry must have flush() and stop() (or be a function making it), got ${typeof telemetry}`,
    );
  }
  interface State extends TelemetryInstance<T> {
    failedFlushes: number;
    stopped: boolean;
  }
  const flush = async (s: State, timeoutMs: number) => {
    try {
      if ((await s.telemetry.flush(timeoutMs)) === false) s.failedFlushes++;
    } catch (e) {
      s.failedFlushes++;
      throw e;
    }
  };
  return {
    async start(): Promise<TelemetryInstance<T>> {
      const t = typeof telemetry === "function" ? await telemetry() : telemetry;
      return { telemetry: t, failedFlushes: 0, stopped: false } as State;
    },
    flush: (instance, { timeoutMs }: PhaseOptions) => flush(instance as State, timeoutMs),
    async stop(instance) {
      const s = instance as State;
      try {
        await flush(s, flushTimeoutMs);
      } finally {
        await s.telemetry.stop();
        s.stopped = true;
      }
    },
    health: (instance): HealthCheck => ({
      ok: !instance.stopped,
      detail: { failedFlushes: instance.failedFlushes },
    }),
    stats: (instance) => ({ failedFlushes: instance.failedFlushes, stopped: instance.stopped }),
  };
}
