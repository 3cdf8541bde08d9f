// This module is browser compatible.
/**
 * Reconnect delays: exponential backoff with jitter on every attempt, so clients that lost the
 * same server at the same moment spread their returns instead of arriving as one wave.
 *
 * @module
 */

/** Options of the reconnect backoff. */
export interface BackoffOptions {
  /**
   * Delay before the first reconnect attempt, in ms.
   * @default {1000}
   */
  initialDelayMs?: number;
  /**
   * Largest base delay, in ms; jitter may take one attempt up to `maxDelayMs × (1 + jitter)`.
   * @default {30000}
   */
  maxDelayMs?: number;
  /**
   * Growth of the base delay per attempt.
   * @default {2}
   */
  factor?: number;
  /**
   * Relative jitter: every delay is drawn uniformly from `base × (1 ± jitter)`. 0 turns it off.
   * @default {0.25}
   */
  jitter?: number;
}

/** Backoff options with every default filled in. */
export type ResolvedBackoffOptions = Required<BackoffOptions>;

/** The defaults of {@linkcode BackoffOptions}. */
export const BACKOFF_DEFAULTS: ResolvedBackoffOptions = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.25,
};

/** Fills in defaults and range-checks; `prefix` names the option in error messages. */
export function resolveBackoffOptions(
  options: BackoffOptions = {},
  prefix = "reconnect",
): ResolvedBackoffOptions {
  const o: ResolvedBackoffOptions = {
    initialDelayMs: options.initialDelayMs ?? BACKOFF_DEFAULTS.initialDelayMs,
    maxDelayMs: options.maxDelayMs ?? BACKOFF_DEFAULTS.maxDelayMs,
    factor: options.factor ?? BACKOFF_DEFAULTS.factor,
    jitter: options.jitter ?? BACKOFF_DEFAULTS.jitter,
  };
  if (!(o.initialDelayMs >= 0 && Number.isFinite(o.initialDelayMs))) {
    throw new RangeError(`${prefix}.initialDelayMs must be >= 0, got ${o.initialDelayMs}`);
  }
  if (!(o.maxDelayMs >= o.initialDelayMs && Number.isFinite(o.maxDelayMs))) {
    throw new RangeError(
      `${prefix}.maxDelayMs must be finite and >= initialDelayMs, got ${o.maxDelayMs}`,
    );
  }
  if (!(o.factor >= 1 && Number.isFinite(o.factor))) {
    throw new RangeError(`${prefix}.factor must be >= 1, got ${o.factor}`);
  }
  if (!(o.jitter >= 0 && o.jitter < 1)) {
    throw new RangeError(`${prefix}.jitter must be in [0, 1), got ${o.jitter}`);
  }
  return o;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first), in ms.
 *
 * The base is `initialDelayMs × factor^attempt`, capped at `maxDelayMs`; after a `rate-limited`
 * close the base is the cap itself. Jitter then draws the delay uniformly from
 * `base × (1 ± jitter)`, on every attempt (the cap included, so a herd never re-synchronises at
 * the cap). `random` returns numbers in [0, 1) and is injectable for tests.
 */
export function backoffDelay(
  attempt: number,
  options: ResolvedBackoffOptions,
  rateLimited = false,
  random: () => number = Math.random,
): number {
  const { initialDelayMs, maxDelayMs, factor, jitter } = options;
  const base = rateLimited
    ? maxDelayMs
    : Math.min(maxDelayMs, initialDelayMs * Math.pow(factor, Math.max(0, attempt)));
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}
