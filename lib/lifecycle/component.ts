/**
 * Components: the parts of a system (the sente-lite server, telemetry, a backplane, your own
 * database pool) as data. A component says how to start, stop, drain and check itself; it names
 * the components it needs with {@linkcode ref} anywhere in its `config`, as Integrant's `ig/ref`.
 *
 * @module
 */
import type { MetricsRegistry } from "./metrics.ts";

/** A reference to another component of the same system, by its key. Made by {@linkcode ref}. */
export class Ref<T = unknown> {
  /** The referenced key. */
  readonly key: string;
  /** Phantom field carrying the instance type; never set. */
  declare readonly _type?: T;

  /** Use {@linkcode ref}. */
  constructor(key: string) {
    if (typeof key !== "string" || key === "") {
      throw new TypeError(`ref key must be a non-empty string, got ${JSON.stringify(key)}`);
    }
    this.key = key;
  }

  /**
   * `ref(key)`, for error messages.
   *
   * @example
   * ```ts
   * import { ref } from "@sente-lite/sente-lite/lifecycle";
   *
   * console.log(String(ref("db"))); // #ref db
   * ```
   */
  toString(): string {
    return `ref(${JSON.stringify(this.key)})`;
  }
}

/**
 * A reference to the component `key`: put it anywhere in another component's `config` (in plain
 * objects and arrays) and `startSystem` starts `key` first and passes its instance in its place.
 *
 * @example
 * ```ts
 * import { ref, startSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * const system = await startSystem({
 *   db: { start: () => new Map<string, string>() },
 *   cache: { config: { db: ref<Map<string, string>>("db") }, start: ({ db }) => ({ size: () => db.size }) },
 * });
 * await system.stop();
 * ```
 */
export function ref<T = unknown>(key: string): Ref<T> {
  return new Ref<T>(key);
}

/** `C` with every {@linkcode Ref} replaced by the instance type it refers to. */
export type Resolved<C> = C extends Ref<infer T> ? T
  : C extends (...args: never[]) => unknown ? C
  : C extends readonly unknown[] ? { [K in keyof C]: Resolved<C[K]> }
  : C extends Record<string, unknown> ? { [K in keyof C]: Resolved<C[K]> }
  : C;

/** What a health check says; `ok: false` makes the system not ready. */
export interface HealthCheck {
  /** Whether the component works. */
  ok: boolean;
  /** Facts to show in `/ready` (kept small: it is polled). */
  detail?: Record<string, unknown>;
}

/** Passed to every component hook. */
export interface ComponentContext {
  /** The component's key in the system map. */
  readonly key: string;
  /** Where components register their metrics collectors. */
  readonly metrics: MetricsRegistry;
  /**
   * The system being started; its other instances are only reachable through refs, this is for
   * whole-system views such as health endpoints.
   */
  readonly system: SystemView;
}

/** The whole-system view a component may use (implemented by `System`). */
export interface SystemView {
  /** The current state. */
  readonly state: SystemState;
  /** Every component key, in start order. */
  readonly order: readonly string[];
  /** The keys of the components started so far (and not stopped yet). */
  readonly started: readonly string[];
  /** `true` while running and not draining. */
  readonly accepting: boolean;
  /** Runs every component's health check. */
  health(): Promise<SystemHealth>;
  /** Every component's stats, and the process's. */
  stats(): SystemStats;
  /** The registry components put their metrics in. */
  readonly metrics: MetricsRegistry;
}

/** The states of a system, in the order they are passed through. */
export type SystemState = "starting" | "running" | "draining" | "stopping" | "stopped" | "failed";

/** One component's line in {@linkcode SystemHealth}. */
export interface ComponentHealth {
  /** `"up"` when its check passed (or it has none), `"down"` otherwise. */
  status: "up" | "down";
  /** The check's detail. */
  detail?: Record<string, unknown>;
  /** Why it is down, when the check threw or timed out. */
  error?: string;
}

/** The result of running every health check. */
export interface SystemHealth {
  /** `true` when the system is running, not draining, and every check passed. */
  ready: boolean;
  /** The system state. */
  state: SystemState;
  /** Per component, in start order. */
  components: Record<string, ComponentHealth>;
}

/** Stats of a whole system: the components' own figures plus the process. */
export interface SystemStats {
  /** The system state. */
  state: SystemState;
  /** Milliseconds since `startSystem` was called. */
  uptimeMs: number;
  /** Per component that has a `stats` hook. */
  components: Record<string, Record<string, unknown>>;
  /** Process memory in bytes, when the runtime reports it. */
  memory: ProcessMemory | null;
}

/** Process memory in bytes. */
export interface ProcessMemory {
  /** Resident set size. */
  rss: number;
  /** V8/JSC heap reserved. */
  heapTotal: number;
  /** V8/JSC heap in use. */
  heapUsed: number;
  /** Memory outside the JS heap (buffers). */
  external: number;
}

/** Options of the drain and flush hooks. */
export interface PhaseOptions {
  /** The hook should finish within this many ms (it is abandoned after it). */
  timeoutMs: number;
}

/**
 * A part of a system. Only `start` is required.
 *
 * Guarantees (given by `startSystem`/`stopSystem`):
 * - `start` runs after the start of everything `config` refers to, `stop` before their stops.
 * - `stop` runs once, only if `start` succeeded; on shutdown `drain` runs before any `flush`, and
 *   every `flush` before any `stop`, each phase in reverse start order.
 * - A hook that throws or times out is reported and never keeps the others from running.
 */
export interface Component<T = unknown, C = unknown> {
  /** Configuration passed to `start`; {@linkcode Ref}s in it are replaced by instances. */
  readonly config?: C;
  /** Starts the component and returns its instance. */
  start(config: Resolved<C>, context: ComponentContext): T | Promise<T>;
  /** Stops the instance and releases what it holds. */
  stop?(instance: T, context: ComponentContext): unknown;
  /** Stops taking new work and finishes what is in flight (graceful shutdown, first phase). */
  drain?(instance: T, options: PhaseOptions): unknown;
  /** Writes out anything buffered (graceful shutdown, second phase). */
  flush?(instance: T, options: PhaseOptions): unknown;
  /** Tells whether the instance works; `false` or a throw marks the system not ready. */
  health?(instance: T): boolean | HealthCheck | Promise<boolean | HealthCheck>;
  /** The instance's figures as a plain object (for `/stats`). */
  stats?(instance: T): Record<string, unknown>;
}

/**
 * Returns `component` as is; it only helps TypeScript infer `T` and `C`.
 *
 * @example
 * ```ts
 * import { component, startSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * const db = component({ start: () => new Map<string, string>(), stop: (m) => m.clear() });
 * const system = await startSystem({ db });
 * await system.stop();
 * ```
 */
export function component<T, C = undefined>(component: Component<T, C>): Component<T, C> {
  return component;
}

/** What went wrong, as a stable string. */
export type SystemErrorCode =
  | "invalid-component"
  | "missing-ref"
  | "cycle"
  | "start-failed"
  | "stop-failed";

/**
 * A system could not be started or stopped. `component` names the component at fault (for
 * `start-failed`, the one whose `start` threw; `cause` is what it threw).
 */
export class SystemError extends Error {
  /** What went wrong. */
  readonly code: SystemErrorCode;
  /** The component at fault, when there is one. */
  readonly component: string | undefined;
  /** Errors of stops during a rollback after a failed start, by component. */
  readonly rollbackErrors: Readonly<Record<string, unknown>>;

  /** Makes an error; `options.cause` is the underlying error. */
  constructor(
    code: SystemErrorCode,
    message: string,
    options: { cause?: unknown; component?: string; rollbackErrors?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "SystemError";
    this.code = code;
    this.component = options.component;
    this.rollbackErrors = options.rollbackErrors ?? {};
  }
}
