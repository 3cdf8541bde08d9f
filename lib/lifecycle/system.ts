/**
 * The system map: `startSystem` starts components in dependency order (from the {@linkcode ref}s
 * in their configs), `stopSystem` stops them in reverse.
 *
 * Guarantees:
 * - Missing references, cycles and malformed components are reported before anything starts.
 * - The start order is a topological order that otherwise keeps the map's key order.
 * - When a `start` throws, what already started is stopped in reverse order and a
 *   {@linkcode SystemError} `start-failed` names the component and carries its error as `cause`.
 * - `stop()` stops every started component once, even when some stops throw; the errors are
 *   reported together afterwards.
 *
 * @module
 */
import {
  type Component,
  type ComponentContext,
  type ComponentHealth,
  Ref,
  SystemError,
  type SystemHealth,
  type SystemState,
  type SystemStats,
  type SystemView,
} from "./component.ts";
import { MetricsRegistry } from "./metrics.ts";
import { memoryUsage } from "./_runtime.ts";

/** Components by key. */
// deno-lint-ignore no-explicit-any
export type SystemMap = Record<string, Component<any, any>>;

/** Options of {@linkcode startSystem}. */
export interface StartSystemOptions {
  /**
   * A health check that takes longer counts as failed, in ms.
   * @default {2000}
   */
  healthTimeoutMs?: number;
  /**
   * A `stop` that takes longer is abandoned (and reported), in ms.
   * @default {10000}
   */
  stopTimeoutMs?: number;
  /**
   * The registry components put their metrics in.
   * @default {a new MetricsRegistry}
   */
  metrics?: MetricsRegistry;
}

const DEFAULTS: Required<Omit<StartSystemOptions, "metrics">> = {
  healthTimeoutMs: 2000,
  stopTimeoutMs: 10_000,
};

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Every ref in `value` (plain objects and arrays only) with the path where it sits. */
function findRefs(value: unknown, path: string, out: { ref: Ref; path: string }[]): void {
  if (value instanceof Ref) out.push({ ref: value, path });
  else if (Array.isArray(value)) value.forEach((v, i) => findRefs(v, `${path}[${i}]`, out));
  else if (isPlain(value)) {
    for (const [k, v] of Object.entries(value)) findRefs(v, `${path}.${k}`, out);
  }
}

/** `value` with every ref replaced by its instance (copies only what holds refs). */
function resolveRefs(value: unknown, instances: Map<string, unknown>): unknown {
  if (value instanceof Ref) return instances.get(value.key);
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, instances));
  if (isPlain(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveRefs(v, instances);
    return out;
  }
  return value;
}

/**
 * Checks a system map and returns its start order; throws {@linkcode SystemError}
 * (`invalid-component`, `missing-ref` or `cycle`) without starting anything.
 *
 * @example
 * ```ts
 * import { planSystem, ref } from "@sente-lite/sente-lite/lifecycle";
 *
 * console.log(planSystem({ api: { config: ref("db"), start: () => 1 }, db: { start: () => 2 } })); // ["db", "api"]
 * ```
 */
export function planSystem(map: SystemMap): string[] {
  if (!isPlain(map)) {
    throw new TypeError(`system map must be a plain object, got ${String(map)}`);
  }
  const deps = new Map<string, string[]>();
  for (const [key, comp] of Object.entries(map)) {
    if (typeof comp !== "object" || comp === null || typeof comp.start !== "function") {
      throw new SystemError(
        "invalid-component",
        `component "${key}" must be an object with a start() function, got ${
          comp === null ? "null" : typeof comp
        }`,
        { component: key },
      );
    }
    for (const hook of ["stop", "drain", "flush", "health", "stats"] as const) {
      if (comp[hook] !== undefined && typeof comp[hook] !== "function") {
        throw new SystemError(
          "invalid-component",
          `component "${key}": ${hook} must be a function, got ${typeof comp[hook]}`,
          { component: key },
        );
      }
    }
    const refs: { ref: Ref; path: string }[] = [];
    findRefs(comp.config, `${key}.config`, refs);
    for (const { ref, path } of refs) {
      if (!Object.hasOwn(map, ref.key)) {
        throw new SystemError(
          "missing-ref",
          `component "${key}" refers to "${ref.key}" (at ${path}), which is not in the system; ` +
            `components: ${Object.keys(map).join(", ")}`,
          { component: key },
        );
      }
    }
    deps.set(key, [...new Set(refs.map((r) => r.ref.key))]);
  }
  const order: string[] = [];
  const done = new Set<string>();
  const visiting: string[] = [];
  const visit = (key: string) => {
    if (done.has(key)) return;
    const at = visiting.indexOf(key);
    if (at >= 0) {
      const cycle = [...visiting.slice(at), key];
      throw new SystemError(
        "cycle",
        `components refer to each other in a cycle: ${cycle.join(" → ")}`,
        { component: key },
      );
    }
    visiting.push(key);
    for (const dep of deps.get(key)!) visit(dep);
    visiting.pop();
    done.add(key);
    order.push(key);
  };
  for (const key of Object.keys(map)) visit(key);
  return order;
}

/** Settles like `promise`, or rejects with a timeout error after `ms`. */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface Started {
  key: string;
  component: Component<unknown, unknown>;
  instance: unknown;
  context: ComponentContext;
}

/**
 * A started system. Made by {@linkcode startSystem}.
 *
 * - `stop()` (or `await using`) is idempotent: later calls wait for the first.
 * - `drain()` and `flush()` run the components' graceful-shutdown phases; `stop()` alone also
 *   works (each component then drains inside its own `stop`).
 */
export class System implements SystemView, AsyncDisposable {
  /** The start order (stops run in reverse). */
  readonly order: readonly string[];
  /** The registry components put their metrics in. */
  readonly metrics: MetricsRegistry;
  /** Resolves once the system has stopped. */
  readonly stopped: Promise<void>;
  #state: SystemState = "starting";
  #started: Started[] = [];
  #options: Required<Omit<StartSystemOptions, "metrics">>;
  #startedAt = Date.now();
  #stopping: Promise<void> | undefined;
  #resolveStopped!: () => void;

  /** Use {@linkcode startSystem}. */
  constructor(order: string[], options?: StartSystemOptions) {
    options ??= {};
    this.order = order;
    this.metrics = options.metrics ?? new MetricsRegistry();
    this.#options = { ...DEFAULTS, ...definedOnly(options) };
    this.stopped = new Promise((r) => this.#resolveStopped = r);
  }

  /** The current state. */
  get state(): SystemState {
    return this.#state;
  }

  /** The keys of the components started so far (and not stopped yet). */
  get started(): readonly string[] {
    return this.#started.map((s) => s.key);
  }

  /** `true` while running and not draining: new work is welcome. */
  get accepting(): boolean {
    return this.#state === "running";
  }

  /**
   * The instance of component `key`.
   *
   * @example
   * ```ts
   * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
   *
   * const system = await startSystem({ greeting: { start: () => "hello" } });
   * console.log(system.instance<string>("greeting")); // hello
   * await system.stop();
   * ```
   */
  instance<T = unknown>(key: string): T {
    const s = this.#started.find((s) => s.key === key);
    if (!s) {
      throw new RangeError(
        `no started component "${key}"; started: ${this.#started.map((s) => s.key).join(", ")}`,
      );
    }
    return s.instance as T;
  }

  /**
   * Starts the components in order; used by {@linkcode startSystem}.
   *
   * @example
   * ```ts
   * import { System } from "@sente-lite/sente-lite/lifecycle";
   *
   * const system = new System(["greeting"], {});
   * await system.start({ greeting: { start: () => "hello" } }); // startSystem() does both steps
   * await system.stop();
   * ```
   */
  async start(map: SystemMap): Promise<void> {
    const instances = new Map<string, unknown>();
    for (const key of this.order) {
      const comp = map[key] as Component<unknown, unknown>;
      const context: ComponentContext = { key, metrics: this.metrics, system: this };
      let instance: unknown;
      try {
        instance = await comp.start(resolveRefs(comp.config, instances) as never, context);
      } catch (cause) {
        this.#state = "failed";
        const rollbackErrors = await this.#stopAll();
        this.#resolveStopped();
        const rolled = Object.keys(rollbackErrors);
        throw new SystemError(
          "start-failed",
          `component "${key}" failed to start: ${message(cause)}` +
            (rolled.length ? ` (and stopping ${rolled.join(", ")} failed too)` : ""),
          { cause, component: key, rollbackErrors },
        );
      }
      instances.set(key, instance);
      this.#started.push({ key, component: comp, instance, context });
    }
    this.#state = "running";
  }

  /**
   * Stops new work: every component's `drain`, in reverse start order.
   *
   * @example
   * ```ts
   * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
   *
   * const system = await startSystem({ greeting: { start: () => "hello" } });
   * console.log(await system.drain(5000)); // per component
   * await system.stop();
   * ```
   */
  async drain(timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.#state === "running") this.#state = "draining";
    return await this.#phase("drain", timeoutMs);
  }

  /**
   * Every component's `flush`, in reverse start order.
   *
   * @example
   * ```ts
   * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
   *
   * const system = await startSystem({ greeting: { start: () => "hello" } });
   * console.log(await system.flush(5000));
   * await system.stop();
   * ```
   */
  async flush(timeoutMs: number): Promise<Record<string, unknown>> {
    return await this.#phase("flush", timeoutMs);
  }

  async #phase(hook: "drain" | "flush", timeoutMs: number): Promise<Record<string, unknown>> {
    const errors: Record<string, unknown> = {};
    for (const s of [...this.#started].reverse()) {
      const fn = s.component[hook];
      if (!fn) continue;
      try {
        await bounded(
          Promise.resolve().then(() => fn.call(s.component, s.instance, { timeoutMs })),
          timeoutMs + 1000,
          `${hook} of "${s.key}"`,
        );
      } catch (e) {
        errors[s.key] = e;
      }
    }
    return errors;
  }

  /**
   * Stops every started component in reverse order. Throws {@linkcode SystemError} `stop-failed`
   * (with an `AggregateError` cause) after all ran when some failed.
   *
   * @example
   * ```ts
   * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
   *
   * const system = await startSystem({ greeting: { start: () => "hello" } });
   * await system.stop(); // reverse start order
   * ```
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#state !== "failed") this.#state = "stopping";
      const errors = await this.#stopAll();
      this.#state = "stopped";
      this.#resolveStopped();
      const keys = Object.keys(errors);
      if (keys.length) {
        throw new SystemError(
          "stop-failed",
          `stopping ${keys.map((k) => `"${k}" (${message(errors[k])})`).join(", ")} failed`,
          { cause: new AggregateError(Object.values(errors)), component: keys[0] },
        );
      }
    })();
    return this.#stopping;
  }

  async #stopAll(): Promise<Record<string, unknown>> {
    const errors: Record<string, unknown> = {};
    while (this.#started.length) {
      const s = this.#started.pop()!;
      if (!s.component.stop) continue;
      try {
        await bounded(
          Promise.resolve().then(() => s.component.stop!(s.instance, s.context)),
          this.#options.stopTimeoutMs,
          `stop of "${s.key}"`,
        );
      } catch (e) {
        errors[s.key] = e;
      }
    }
    return errors;
  }

  /**
   * Runs every component's health check (bounded by `healthTimeoutMs`).
   *
   * @example
   * ```ts
   * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
   *
   * const system = await startSystem({ greeting: { start: () => "hello" } });
   * const { ready, components } = await system.health();
   * console.log(ready, components);
   * await system.stop();
   * ```
   */
  async health(): Promise<SystemHealth> {
    const components: Record<string, ComponentHealth> = {};
    await Promise.all(this.#started.map(async (s) => {
      if (!s.component.health) {
        components[s.key] = { status: "up" };
        return;
      }
      try {
        const r = await bounded(
          Promise.resolve().then(() => s.component.health!(s.instance)),
          this.#options.healthTimeoutMs,
          `health check of "${s.key}"`,
        );
        const check = typeof r === "boolean" ? { ok: r } : r;
        components[s.key] = { status: check.ok ? "up" : "down", detail: check.detail };
      } catch (e) {
        components[s.key] = { status: "down", error: message(e) };
      }
    }));
    const ordered: Record<string, ComponentHealth> = {};
    for (const s of this.#started) ordered[s.key] = components[s.key];
    const ready = this.accepting && Object.values(ordered).every((c) => c.status === "up");
    return { ready, state: this.#state, components: ordered };
  }

  /**
   * Every component's stats plus process memory.
   *
   * @example
   * ```ts
   * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
   *
   * const system = await startSystem({ greeting: { start: () => "hello" } });
   * console.log(system.stats().state); // "running"
   * await system.stop();
   * ```
   */
  stats(): SystemStats {
    const components: Record<string, Record<string, unknown>> = {};
    for (const s of this.#started) {
      if (s.component.stats) components[s.key] = s.component.stats(s.instance);
    }
    return {
      state: this.#state,
      uptimeMs: Date.now() - this.#startedAt,
      components,
      memory: memoryUsage(),
    };
  }

  /**
   * Stops the system.
   *
   * @example
   * ```ts
   * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
   *
   * await using system = await startSystem({ greeting: { start: () => "hello" } });
   * console.log(system.instance("greeting")); // stopped at the end of the scope
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkOptions(options: StartSystemOptions): void {
  for (const k of ["healthTimeoutMs", "stopTimeoutMs"] as const) {
    const v = options[k];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
      throw new RangeError(`StartSystemOptions.${k} must be a number > 0, got ${v}`);
    }
  }
}

/**
 * Starts every component of `map` in dependency order and returns the running system.
 * @throws {SystemError} `invalid-component`, `missing-ref` or `cycle` before anything starts;
 * `start-failed` after rolling back when a component's `start` throws.
 *
 * @example
 * ```ts
 * import { serverComponent, startSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * const system = await startSystem({ server: serverComponent({ port: 0 }) });
 * await system.stop();
 * ```
 */
export async function startSystem(
  map: SystemMap,
  options?: StartSystemOptions,
): Promise<System> {
  options ??= {};
  checkOptions(options);
  const system = new System(planSystem(map), options);
  await system.start(map);
  return system;
}

/**
 * Stops `system` (every component in reverse start order).
 *
 * @example
 * ```ts
 * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * const system = await startSystem({ greeting: { start: () => "hello" } });
 * import { stopSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * await stopSystem(system);
 * ```
 */
export function stopSystem(system: System): Promise<void> {
  return system.stop();
}
