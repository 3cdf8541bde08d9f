// This module is browser compatible.
/**
 * The telemetry core: {@linkcode Telemetry} (one independent instance: filters, handlers, trace
 * state) and {@linkcode Scope} (signal creators bound to a namespace).
 *
 * @module
 */

import { type Clock, realClock } from "../util/clock.ts";
import {
  checkSampleRate,
  MinLevels,
  type MinLevelScope,
  NameFilter,
  type NameFilterLike,
} from "./filter.ts";
import { type Handler, type HandlerOptions, HandlerRunner, type HandlerStats } from "./handler.ts";
import { parseTraceparent, spanId, traceId } from "./ids.ts";
import { type Level, type LevelLike, LEVELS, levelValue } from "./levels.ts";
import { RateLimiter, type RateLimitSpec } from "./rate_limit.ts";
import type { Signal, SignalKind, TraceRef } from "./signal.ts";

/** A message, or a thunk evaluated only when the signal is allowed. */
export type Msg = string | (() => string);

/** Options shared by every signal creator. */
export interface SignalOptions {
  /** Callsite id, e.g. `"auth/login"`. */
  id?: string;
  /** Namespace; overrides the scope's. */
  ns?: string;
  /** Level; each creator has its own default. */
  level?: Level;
  /** Message (or a thunk). */
  msg?: Msg;
  /** Data, or a function returning it, called only when the signal is allowed. */
  data?: unknown;
  /** An error to attach. */
  error?: unknown;
  /** Context; overrides the context from {@linkcode Telemetry.withContext}. */
  ctx?: unknown;
  /** Sample rate in [0, 1]; recorded on the signal. */
  sample?: number;
  /** Rate limit for this callsite, kept per `id` (the first spec seen for an id is used). */
  limit?: RateLimitSpec;
  /** Key for a separate rate limit per value (e.g. a user id or IP). */
  limitBy?: string;
  /** Predicate checked before anything is built. */
  when?: () => boolean;
  /** Explicit parent trace signal (overrides the current trace). */
  parent?: TraceRef;
  /** Explicit root trace signal; its uid is the trace id. Defaults to `parent`. */
  root?: TraceRef;
  /** A W3C `traceparent` header to continue a remote trace (used when no `parent` is given). */
  traceparent?: string;
}

/** Options for {@linkcode Scope.signal}: any kind, any level. */
export interface GenericSignalOptions extends SignalOptions {
  /** Signal kind.
   * @default {"generic"} */
  kind?: SignalKind;
}

/**
 * Where trace and context state lives across `await`: an `AsyncLocalStorage` (from
 * `node:async_hooks`, available in Deno, Bun and Node) satisfies it.
 */
export interface ContextStorage {
  /** The current store. */
  getStore(): unknown;
  /** Runs `fn` with `store` current. */
  run<R>(store: unknown, fn: () => R): R;
}

/** Options for {@linkcode Telemetry}. */
export interface TelemetryOptions {
  /** Global minimum level.
   * @default {"info"} */
  minLevel?: LevelLike;
  /** Default namespace of signals made directly on the instance.
   * @default {undefined} */
  ns?: string;
  /** Time source for signal times, rate limits and flush timeouts.
   * @default {realClock} */
  clock?: Clock;
  /** Random source in [0, 1) for sampling.
   * @default {Math.random} */
  random?: () => number;
  /**
   * Carries trace nesting and context across `await` (pass `new AsyncLocalStorage()` on servers).
   * Without it, nesting follows the synchronous call stack only: `traceAsync` children started
   * after the first `await` need an explicit `parent`.
   * @default {undefined}
   */
  contextStorage?: ContextStorage;
}

interface Frame {
  ref: TraceRef;
  root: TraceRef;
}

interface Store {
  frame: Frame | undefined;
  ctx: unknown;
}

const MAX_LIMITERS = 1000;

/** Internal engine shared by a {@linkcode Telemetry} and its scopes. */
class Core {
  floor = Infinity;
  readonly clock: Clock;
  readonly random: () => number;
  readonly mins: MinLevels;
  nsFilter: NameFilter | undefined;
  idFilter: NameFilter | undefined;
  kindFilter: NameFilter | undefined;
  runners: HandlerRunner[] = [];
  readonly limiters = new Map<string, RateLimiter>();
  readonly als: ContextStorage | undefined;
  store: Store | undefined;

  constructor(o: TelemetryOptions) {
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
    this.mins = new MinLevels(o.minLevel ?? "info");
    this.als = o.contextStorage;
  }

  updateFloor(): void {
    if (this.runners.length === 0) {
      this.floor = Infinity;
      return;
    }
    let h = Infinity;
    for (const r of this.runners) h = Math.min(h, r.minLevel);
    this.floor = Math.max(this.mins.floor, h);
  }

  current(): Store | undefined {
    return this.als === undefined ? this.store : this.als.getStore() as Store | undefined;
  }

  run<T>(store: Store, fn: () => T): T {
    if (this.als !== undefined) return this.als.run(store, fn);
    const prev = this.store;
    this.store = store;
    try {
      return fn();
    } finally {
      this.store = prev;
    }
  }

  /** Call filters after the floor check; returns the sample rate passed, or 0 when rejected. */
  allow(
    kind: string,
    lv: number,
    id: string | undefined,
    ns: string | undefined,
    o: SignalOptions | undefined,
  ): number {
    if (lv < this.mins.minFor(kind, ns)) return 0;
    if (this.kindFilter !== undefined && !this.kindFilter.allows(kind)) return 0;
    if (this.nsFilter !== undefined && !this.nsFilter.allows(ns)) return 0;
    if (this.idFilter !== undefined && !this.idFilter.allows(id)) return 0;
    let rate = 1;
    if (o !== undefined) {
      if (o.when !== undefined && !o.when()) return 0;
      if (o.sample !== undefined) {
        rate = checkSampleRate(o.sample, "options.sample");
        if (!(this.random() < rate)) return 0;
      }
      if (o.limit !== undefined) {
        const key = id ?? "";
        let limiter = this.limiters.get(key);
        if (limiter === undefined) {
          if (this.limiters.size >= MAX_LIMITERS) this.limiters.clear();
          limiter = new RateLimiter(o.limit, { clock: this.clock });
          this.limiters.set(key, limiter);
        }
        if (!limiter.allow(o.limitBy ?? "")) return 0;
      }
    }
    return rate;
  }

  build(
    kind: SignalKind,
    level: Level,
    id: string | undefined,
    ns: string | undefined,
    msg: Msg | undefined,
    o: SignalOptions | undefined,
    rate: number,
    frame: Frame | undefined,
    store: Store | undefined,
  ): Signal {
    let error: unknown = o?.error;
    let data: unknown = o?.data;
    let m: string | undefined;
    try {
      if (typeof data === "function") data = data();
      m = typeof msg === "function" ? msg() : msg;
    } catch (e) {
      // A failing thunk must not break the caller; record what happened instead.
      error ??= e;
      if (typeof data === "function") data = undefined;
    }
    return {
      time: this.clock.now(),
      ns,
      kind,
      level,
      id,
      msg: m,
      data,
      error,
      ctx: o?.ctx ?? store?.ctx,
      uid: undefined,
      parent: frame?.ref,
      root: frame?.root,
      runNs: undefined,
      runValue: undefined,
      sample: rate,
    };
  }

  dispatch(s: Signal): void {
    const rs = this.runners;
    for (let i = 0; i < rs.length; i++) rs[i].offer(s);
  }

  /** Resolves the enclosing frame: explicit options first, then the current trace. */
  frameOf(o: SignalOptions | undefined, store: Store | undefined): Frame | undefined {
    if (o !== undefined) {
      if (o.parent !== undefined) return { ref: o.parent, root: o.root ?? o.parent };
      if (o.traceparent !== undefined) {
        const tp = parseTraceparent(o.traceparent);
        if (tp !== undefined) {
          return {
            ref: { id: undefined, uid: tp.spanId },
            root: { id: undefined, uid: tp.traceId },
          };
        }
      }
    }
    return store?.frame;
  }

  emit(
    kind: SignalKind,
    level: Level,
    id: string | undefined,
    ns: string | undefined,
    msg: Msg | undefined,
    o: SignalOptions | undefined,
  ): boolean {
    const lv = levelValue(level);
    if (lv < this.floor) return false;
    const rate = this.allow(kind, lv, id, ns, o);
    if (rate === 0) return false;
    const store = this.current();
    this.dispatch(this.build(kind, level, id, ns, msg, o, rate, this.frameOf(o, store), store));
    return true;
  }

  /** Starts a traced run; returns the state needed to finish it, or undefined when filtered out. */
  begin(
    kind: SignalKind,
    level: Level,
    id: string | undefined,
    ns: string | undefined,
    o: SignalOptions | undefined,
  ):
    | { rate: number; frame: Frame; parent: Frame | undefined; store: Store | undefined }
    | undefined {
    const lv = levelValue(level);
    if (lv < this.floor) return undefined;
    const rate = this.allow(kind, lv, id, ns, o);
    if (rate === 0) return undefined;
    const store = this.current();
    const parent = this.frameOf(o, store);
    let frame: Frame;
    if (parent === undefined) {
      const ref = { id, uid: traceId() };
      frame = { ref, root: ref };
    } else {
      frame = { ref: { id, uid: spanId() }, root: parent.root };
    }
    return { rate, frame, parent, store };
  }

  finish(
    kind: SignalKind,
    level: Level,
    id: string | undefined,
    ns: string | undefined,
    o: SignalOptions | undefined,
    st: { rate: number; frame: Frame; parent: Frame | undefined; store: Store | undefined },
    t0: number,
    value: unknown,
    error: unknown,
  ): void {
    const runNs = Math.round((performance.now() - t0) * 1e6);
    const s = this.build(kind, level, id, ns, o?.msg, o, st.rate, st.parent, st.store);
    s.uid = st.frame.ref.uid;
    s.root = st.frame.root;
    s.runNs = runNs;
    s.runValue = value;
    if (error !== undefined) s.error = error;
    this.dispatch(s);
  }
}

let coreOf: (s: Scope) => Core;

/**
 * Signal creators bound to a namespace. Get one with {@linkcode Telemetry.scope}; a
 * {@linkcode Telemetry} is itself the scope of its default namespace.
 *
 * Every creator checks the minimum level first (two number compares, nothing allocated), then the
 * namespace/id/kind filters, `when`, sampling and the rate limit, and only then evaluates thunks
 * and builds the signal.
 */
export class Scope {
  /** The namespace of signals made through this scope. */
  readonly ns: string | undefined;
  readonly #core: Core;

  static {
    coreOf = (s) => s.#core;
  }

  /** Creates a scope on `owner`'s engine; prefer {@linkcode Telemetry.scope}. */
  constructor(ns: string | undefined, owner: Scope | TelemetryOptions = {}) {
    this.ns = ns;
    this.#core = owner instanceof Scope ? owner.#core : new Core(owner);
  }

  /**
   * A scope for namespace `ns` sharing this instance's filters and handlers.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * const http = telemetry.scope("my-app.http");
   * http.event("http/request", { data: { path: "/" } });
   * ```
   */
  scope(ns: string): Scope {
    if (typeof ns !== "string") throw new TypeError(`ns must be a string, got ${String(ns)}`);
    return new Scope(ns, this);
  }

  /**
   * Whether a signal of this level (and kind, namespace) would pass the level filters.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * if (telemetry.enabled("debug")) telemetry.log("debug", JSON.stringify({ big: "state" }));
   * ```
   */
  enabled(level: Level, kind?: SignalKind, ns?: string): boolean {
    kind ??= "log";
    ns ??= this.ns;
    const lv = levelValue(level);
    const core = this.#core;
    return lv >= core.floor && lv >= core.mins.minFor(kind, ns);
  }

  /**
   * Records a log signal (kind `"log"`).
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.log("warn", "disk almost full", { data: { freeBytes: 1024 } });
   * ```
   */
  log(level: Level, msg: Msg, options?: SignalOptions): void {
    const core = this.#core;
    if (LEVELS[level] < core.floor) return;
    core.emit("log", level, options?.id, options?.ns ?? this.ns, msg, options);
  }

  /**
   * Records an event signal (kind `"event"`, default level `"info"`).
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.event("user/signed-in", { data: { uid: "alice" } });
   * ```
   */
  event(id: string, options?: Level | SignalOptions): void {
    const core = this.#core;
    if (typeof options === "string") {
      if (LEVELS[options] < core.floor) return;
      core.emit("event", options, id, this.ns, undefined, undefined);
      return;
    }
    const level = options?.level ?? "info";
    if (LEVELS[level] < core.floor) return;
    core.emit("event", level, id, options?.ns ?? this.ns, options?.msg, options);
  }

  /**
   * Records an error signal (kind `"error"`, default level `"error"`) and returns `error`, so
   * `throw telemetry.error(e)` works. `options` may be just the id.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * try {
   *   throw new Error("boom");
   * } catch (e) {
   *   telemetry.error(e, "request failed");
   * }
   * ```
   */
  error<E>(error: E, options?: string | SignalOptions): E {
    const core = this.#core;
    if (typeof options === "string") {
      if (LEVELS.error >= core.floor) {
        core.emit("error", "error", options, this.ns, undefined, { error });
      }
      return error;
    }
    const level = options?.level ?? "error";
    if (LEVELS[level] < core.floor) return error;
    const o = options === undefined ? { error } : { ...options, error };
    core.emit("error", level, options?.id, options?.ns ?? this.ns, options?.msg, o);
    return error;
  }

  /**
   * Records a signal of any kind; returns whether it was allowed.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.signal({ kind: "log", level: "info", msg: "generic signal" });
   * ```
   */
  signal(options: GenericSignalOptions): boolean {
    const level = options.level ?? "info";
    const core = this.#core;
    if (LEVELS[level] < core.floor) return false;
    return core.emit(
      options.kind ?? "generic",
      level,
      options.id,
      options.ns ?? this.ns,
      options.msg,
      options,
    );
  }

  #run<T>(
    kind: SignalKind,
    level: Level,
    id: string | undefined,
    fn: () => T,
    o?: SignalOptions,
  ): T {
    const core = this.#core;
    if (LEVELS[level] < core.floor) return fn();
    const ns = o?.ns ?? this.ns;
    const st = core.begin(kind, level, id, ns, o);
    if (st === undefined) return fn();
    const t0 = performance.now();
    let value: T;
    try {
      value = core.run({ frame: st.frame, ctx: st.store?.ctx }, fn);
    } catch (e) {
      core.finish(kind, level, id, ns, o, st, t0, undefined, e);
      throw e;
    }
    core.finish(kind, level, id, ns, o, st, t0, value, undefined);
    return value;
  }

  async #runAsync<T>(
    kind: SignalKind,
    level: Level,
    id: string | undefined,
    fn: () => T | Promise<T>,
    o?: SignalOptions,
  ): Promise<T> {
    const core = this.#core;
    if (LEVELS[level] < core.floor) return await fn();
    const ns = o?.ns ?? this.ns;
    const st = core.begin(kind, level, id, ns, o);
    if (st === undefined) return await fn();
    const t0 = performance.now();
    let value: T;
    try {
      value = await core.run({ frame: st.frame, ctx: st.store?.ctx }, fn);
    } catch (e) {
      core.finish(kind, level, id, ns, o, st, t0, undefined, e);
      throw e;
    }
    core.finish(kind, level, id, ns, o, st, t0, value, undefined);
    return value;
  }

  /**
   * Runs `fn` inside a trace span and records a `"trace"` signal (default level `"info"`) with its
   * value or error, its run time and its `parent`/`root`. Returns `fn`'s value or rethrows.
   * Signals made inside `fn` get this span as their parent.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * const rows = telemetry.trace("db/query", () => ["row"]); // a span with its duration
   * console.log(rows);
   * ```
   */
  trace<T>(id: string, fn: () => T, options?: SignalOptions): T {
    return this.#run("trace", options?.level ?? "info", id, fn, options);
  }

  /**
   * Like {@linkcode Scope.trace} for async work: timed until the promise settles.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * const n = await telemetry.traceAsync("job/run", async () => await Promise.resolve(42));
   * console.log(n);
   * ```
   */
  traceAsync<T>(id: string, fn: () => T | Promise<T>, options?: SignalOptions): Promise<T> {
    return this.#runAsync("trace", options?.level ?? "info", id, fn, options);
  }

  /**
   * Runs `fn` and records its value as a `"spy"` signal at `level` (traced like `trace`).
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * const value = telemetry.spy("debug", () => Math.sqrt(2));
   * console.log(value);
   * ```
   */
  spy<T>(level: Level, fn: () => T, options?: SignalOptions): T {
    return this.#run("spy", level, options?.id, fn, options);
  }

  /** Runs `fn` with `ctx` as the context of every signal made inside it (sync, or async with a
   * `contextStorage`).
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.withContext({ requestId: "r-1" }, () => telemetry.event("http/handled"));
   * ```
   */
  withContext<T>(ctx: unknown, fn: () => T): T {
    const core = this.#core;
    return core.run({ frame: core.current()?.frame, ctx }, fn);
  }
}

/**
 * One telemetry instance: filters, handlers and trace state. Instances are independent, so several
 * can live in one process (tests, multiple servers).
 *
 * - No handlers, no work: until a handler is added every signal creator returns after one compare.
 * - Handlers run in descending priority, each behind its own filter and bounded queue.
 * - Handler errors are counted and reported, never thrown to the caller.
 *
 * @example
 * ```ts
 * import { Telemetry, captureHandler } from "../../telemetry.ts";
 * const tel = new Telemetry({ minLevel: "debug" });
 * const capture = captureHandler();
 * tel.addHandler("capture", capture, { mode: "sync" });
 * tel.event("app/started", { data: { pid: 1 } });
 * console.assert(capture.signals[0].id === "app/started");
 * ```
 */
export class Telemetry extends Scope {
  /** Creates an instance with no handlers. */
  constructor(options?: TelemetryOptions) {
    super(options?.ns, options ?? {});
  }

  /** Sets the minimum level: globally, for one kind, for a namespace pattern, or both. Pass
   * `undefined` to remove a kind or namespace rule.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.setMinLevel("warn");
   * telemetry.setMinLevel("trace", { ns: "my-app.auth*" });
   * ```
   */
  setMinLevel(level: LevelLike | undefined, scope?: MinLevelScope): void {
    const core = coreOf(this);
    core.mins.set(level, scope);
    core.updateFloor();
  }

  /** The global minimum level value. */
  get minLevel(): number {
    return coreOf(this).mins.global;
  }

  /**
   * Sets (or with `undefined`, clears) the namespace allow/deny filter.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.setNsFilter({ allow: ["my-app.*", "sente-lite.*"] });
   * ```
   */
  setNsFilter(filter: NameFilterLike | undefined): void {
    coreOf(this).nsFilter = filter === undefined ? undefined : new NameFilter(filter, "filter");
  }

  /**
   * Sets (or with `undefined`, clears) the id allow/deny filter.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.setIdFilter({ deny: "sente-lite/ws-ping" });
   * ```
   */
  setIdFilter(filter: NameFilterLike | undefined): void {
    coreOf(this).idFilter = filter === undefined ? undefined : new NameFilter(filter, "filter");
  }

  /**
   * Sets (or with `undefined`, clears) the kind allow/deny filter.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.setKindFilter({ allow: ["log", "event"] });
   * ```
   */
  setKindFilter(filter: NameFilterLike | undefined): void {
    coreOf(this).kindFilter = filter === undefined ? undefined : new NameFilter(filter, "filter");
  }

  /**
   * Adds a handler under `id`, replacing (and stopping) any handler with the same id.
   *
   * @throws {TypeError} if `id` is not a non-empty string or `handler` is not a handler.
   * @throws {RangeError} if an option is out of range.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * import { consoleHandler } from "@sente-lite/sente-lite/telemetry";
   *
   * telemetry.addHandler("console", consoleHandler(), { minLevel: "info", mode: "dropping" });
   * ```
   */
  addHandler(id: string, handler: Handler, options?: HandlerOptions): void {
    if (typeof id !== "string" || id === "") {
      throw new TypeError(`id must be a non-empty string, got ${String(id)}`);
    }
    const core = coreOf(this);
    const runner = new HandlerRunner(id, handler, options, {
      clock: core.clock,
      random: core.random,
    });
    const old = core.runners.find((r) => r.id === id);
    core.runners = core.runners.filter((r) => r.id !== id);
    core.runners.push(runner);
    core.runners.sort((a, b) => b.priority - a.priority);
    core.updateFloor();
    if (old !== undefined) void old.stop();
  }

  /**
   * Removes the handler `id` and stops it (draining its queue). Resolves `false` if unknown.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.addHandler("print", (signal) => console.log(signal.id));
   * console.log(await telemetry.removeHandler("print")); // true
   * ```
   */
  async removeHandler(id: string, timeoutMs?: number): Promise<boolean> {
    timeoutMs ??= 5000;
    const core = coreOf(this);
    const runner = core.runners.find((r) => r.id === id);
    if (runner === undefined) return false;
    core.runners = core.runners.filter((r) => r !== runner);
    core.updateFloor();
    await runner.stop(timeoutMs);
    return true;
  }

  /**
   * Ids of the current handlers, in dispatch order.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.addHandler("print", (signal) => console.log(signal.id));
   * console.log(telemetry.handlerIds()); // ["print"]
   * ```
   */
  handlerIds(): string[] {
    return coreOf(this).runners.map((r) => r.id);
  }

  /**
   * Counters of every handler, by id.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.addHandler("print", (signal) => console.log(signal.id));
   * console.log(telemetry.stats().print);
   * ```
   */
  stats(): Record<string, HandlerStats> {
    const out: Record<string, HandlerStats> = {};
    for (const r of coreOf(this).runners) out[r.id] = r.stats();
    return out;
  }

  /**
   * Drains every handler's queue and flushes it; resolves `false` if any timed out.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.event("app/done");
   * await telemetry.flush(); // every handler has seen it
   * ```
   */
  async flush(timeoutMs?: number): Promise<boolean> {
    timeoutMs ??= 5000;
    const results = await Promise.all(coreOf(this).runners.map((r) => r.flush(timeoutMs)));
    return results.every(Boolean);
  }

  /**
   * Removes and stops every handler (drain, flush, `stop`); resolves `false` if any timed out.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * telemetry.addHandler("print", (signal) => console.log(signal.id));
   * await telemetry.stop(); // at exit: drain, flush and stop every handler
   * ```
   */
  async stop(timeoutMs?: number): Promise<boolean> {
    timeoutMs ??= 5000;
    const core = coreOf(this);
    const runners = core.runners;
    core.runners = [];
    core.updateFloor();
    const results = await Promise.all(runners.map((r) => r.stop(timeoutMs)));
    return results.every(Boolean);
  }

  /**
   * Runs `fn` with an extra synchronous capturing handler and returns the signals it saw (the
   * usual filters apply). For tests.
   *
   * @example
   * ```ts
   * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
   *
   * const telemetry = new Telemetry();
   * const signals = telemetry.withSignals(() => telemetry.log("info", "hi"));
   * console.log(signals[0].msg); // "hi"
   * ```
   */
  withSignals(fn: () => unknown): Signal[] {
    const core = coreOf(this);
    const signals: Signal[] = [];
    const runner = new HandlerRunner("\u0000withSignals", (s) => {
      signals.push(s);
    }, { mode: "sync" });
    core.runners = [...core.runners, runner];
    core.updateFloor();
    try {
      fn();
    } finally {
      core.runners = core.runners.filter((r) => r !== runner);
      core.updateFloor();
    }
    return signals;
  }
}
