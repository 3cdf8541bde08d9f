// This module is browser compatible.
/**
 * Filters: name patterns (namespaces, ids, kinds) compiled once and cached per name, minimum-level
 * rules by kind and namespace, and {@linkcode SignalFilter}, the per-handler filter.
 *
 * @module
 */

import { type LevelLike, LEVELS, levelValue } from "./levels.ts";
import { RateLimiter, type RateLimitSpec } from "./rate_limit.ts";
import type { Signal } from "./signal.ts";
import type { Clock } from "../util/clock.ts";

/**
 * A name pattern: a string where `*` matches any run of characters (`"app.*"`, `"auth/*"`,
 * `"*"`), a `RegExp`, or a list of those (any may match).
 */
export type Pattern = string | RegExp | readonly (string | RegExp)[];

/** Allow and deny patterns; a name passes when it matches `allow` (if given) and not `deny`. */
export interface NameFilterSpec {
  /** Names to allow; all when absent. */
  allow?: Pattern;
  /** Names to deny; deny wins over allow. */
  deny?: Pattern;
}

/** A filter given either as a spec or as a bare pattern (meaning `{ allow: pattern }`). */
export type NameFilterLike = Pattern | NameFilterSpec;

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Compiles a pattern to a predicate.
 *
 * @throws {TypeError} if `pattern` is not a string, RegExp or list of them.
 */
export function compilePattern(pattern: Pattern, argName?: string): (name: string) => boolean {
  argName ??= "pattern";
  const parts = Array.isArray(pattern) ? pattern : [pattern];
  const sources: string[] = [];
  for (const p of parts) {
    if (typeof p === "string") {
      if (p === "*") return () => true;
      sources.push(`^${p.split("*").map(escapeRegExp).join(".*")}$`);
    } else if (p instanceof RegExp) {
      sources.push(`(?:${p.source})`);
    } else {
      throw new TypeError(`${argName} must be a string, RegExp or list of them, got ${String(p)}`);
    }
  }
  if (sources.length === 0) return () => false;
  const re = new RegExp(sources.join("|"));
  return (name) => re.test(name);
}

function isSpec(f: NameFilterLike): f is NameFilterSpec {
  return typeof f === "object" && f !== null && !Array.isArray(f) && !(f instanceof RegExp);
}

const CACHE_LIMIT = 1024;

/** A compiled allow/deny filter with a per-name result cache. `undefined` names test as `""`. */
export class NameFilter {
  readonly #allow: ((name: string) => boolean) | undefined;
  readonly #deny: ((name: string) => boolean) | undefined;
  readonly #cache = new Map<string, boolean>();

  /** Compiles `spec`. */
  constructor(spec: NameFilterLike, argName = "filter") {
    const s = isSpec(spec) ? spec : { allow: spec };
    this.#allow = s.allow === undefined ? undefined : compilePattern(s.allow, `${argName}.allow`);
    this.#deny = s.deny === undefined ? undefined : compilePattern(s.deny, `${argName}.deny`);
  }

  /** Whether `name` passes. */
  allows(name: string | undefined): boolean {
    const n = name ?? "";
    let r = this.#cache.get(n);
    if (r === undefined) {
      r = (this.#allow === undefined || this.#allow(n)) && !(this.#deny?.(n) ?? false);
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(n, r);
    }
    return r;
  }
}

/** Where a minimum level applies; both absent means everywhere. */
export interface MinLevelScope {
  /** Only signals of this kind. */
  kind?: string;
  /** Only signals whose namespace matches this pattern. */
  ns?: string;
}

interface NsRule {
  pattern: string;
  test: (ns: string) => boolean;
  level: number;
}

/**
 * Minimum levels: a global one, one per kind, and ones per namespace pattern (optionally per kind).
 *
 * Resolution for a (kind, ns) pair, most specific first: kind + namespace rule, namespace rule, kind
 * rule, global. Among matching namespace rules the longest pattern wins. Results are cached.
 */
export class MinLevels {
  #global: number;
  readonly #kinds = new Map<string, number>();
  // Rules with a namespace, keyed by `${kind ?? ""}\u0000${pattern}`.
  readonly #nsRules = new Map<string, NsRule & { kind: string | undefined }>();
  readonly #cache = new Map<string, Map<string, number>>();
  #floor: number;

  /** Starts with a global minimum. */
  constructor(global: LevelLike = "info") {
    this.#global = levelValue(global, "minLevel");
    this.#floor = this.#global;
  }

  /** Sets (or with `undefined`, removes) the minimum level for a scope. */
  set(level: LevelLike | undefined, scope?: MinLevelScope): void {
    const { kind, ns } = scope ?? {};
    const value = level === undefined ? undefined : levelValue(level);
    if (kind === undefined && ns === undefined) {
      if (value === undefined) throw new TypeError("level must be given for the global minimum");
      this.#global = value;
    } else if (ns === undefined) {
      if (value === undefined) this.#kinds.delete(kind!);
      else this.#kinds.set(kind!, value);
    } else {
      if (typeof ns !== "string") throw new TypeError(`ns must be a string, got ${String(ns)}`);
      const key = `${kind ?? ""}\u0000${ns}`;
      if (value === undefined) this.#nsRules.delete(key);
      else {this.#nsRules.set(key, {
          pattern: ns,
          test: compilePattern(ns, "ns"),
          level: value,
          kind,
        });}
    }
    this.#cache.clear();
    let floor = this.#global;
    for (const v of this.#kinds.values()) floor = Math.min(floor, v);
    for (const r of this.#nsRules.values()) floor = Math.min(floor, r.level);
    this.#floor = floor;
  }

  /** The lowest minimum of all rules: anything below it is filtered out everywhere. */
  get floor(): number {
    return this.#floor;
  }

  /** The global minimum. */
  get global(): number {
    return this.#global;
  }

  /** The effective minimum for a kind and namespace. */
  minFor(kind: string, ns: string | undefined): number {
    let byNs = this.#cache.get(kind);
    if (byNs === undefined) {
      byNs = new Map();
      this.#cache.set(kind, byNs);
    }
    const n = ns ?? "";
    let v = byNs.get(n);
    if (v === undefined) {
      v = this.#resolve(kind, n);
      if (byNs.size >= CACHE_LIMIT) byNs.clear();
      byNs.set(n, v);
    }
    return v;
  }

  #resolve(kind: string, ns: string): number {
    let best: NsRule | undefined;
    let bestKinded = false;
    for (const r of this.#nsRules.values()) {
      if (r.kind !== undefined && r.kind !== kind) continue;
      if (!r.test(ns)) continue;
      const kinded = r.kind !== undefined;
      if (
        best === undefined || (kinded && !bestKinded) ||
        (kinded === bestKinded && r.pattern.length >= best.pattern.length)
      ) {
        best = r;
        bestKinded = kinded;
      }
    }
    if (best !== undefined) return best.level;
    return this.#kinds.get(kind) ?? this.#global;
  }
}

/** Options for {@linkcode SignalFilter} (a handler's own filter, applied after the call filters). */
export interface SignalFilterOptions {
  /** Minimum level.
   * @default {undefined} (no minimum beyond the call filters) */
  minLevel?: LevelLike;
  /** Kinds to allow/deny.
   * @default {undefined} */
  kind?: NameFilterLike;
  /** Namespaces to allow/deny.
   * @default {undefined} */
  ns?: NameFilterLike;
  /** Ids to allow/deny.
   * @default {undefined} */
  id?: NameFilterLike;
  /** Predicate on the signal, checked after the name filters.
   * @default {undefined} */
  when?: (signal: Signal) => boolean;
  /** Sample rate in [0, 1]; multiplies the call's rate, and the product is recorded on the signal.
   * @default {1} */
  sample?: number;
  /** Rate limit, counted per `limitBy(signal)` (by default per signal id).
   * @default {undefined} */
  limit?: RateLimitSpec;
  /** The rate-limit key.
   * @default {(s) => s.id ?? ""} */
  limitBy?: (signal: Signal) => string;
}

/**
 * Outcome of {@linkcode SignalFilter.check}: `0` passes, `1` filtered (level, kind, namespace, id
 * or `when`), `2` sampled out, `3` rate-limited.
 */
export type FilterResult = 0 | 1 | 2 | 3;

/**
 * Validates a sample rate.
 *
 * @throws {RangeError} if `rate` is not a number in [0, 1].
 */
export function checkSampleRate(rate: number, argName?: string): number {
  argName ??= "sample";
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    throw new RangeError(`${argName} must be a number in [0, 1], got ${String(rate)}`);
  }
  return rate;
}

/** A compiled handler filter. Checks run cheapest first; the rate limit counts only what passed. */
export class SignalFilter {
  /** The minimum level value (`-Infinity` when none). */
  readonly minLevel: number;
  /** The sample rate. */
  readonly sample: number;
  readonly #kind: NameFilter | undefined;
  readonly #ns: NameFilter | undefined;
  readonly #id: NameFilter | undefined;
  readonly #when: ((signal: Signal) => boolean) | undefined;
  readonly #limiter: RateLimiter | undefined;
  readonly #limitBy: (signal: Signal) => string;
  readonly #random: () => number;

  /** Compiles `options`; `clock` and `random` are injectable for tests. */
  constructor(options: SignalFilterOptions, clock?: Clock, random: () => number = Math.random) {
    this.minLevel = options.minLevel === undefined
      ? -Infinity
      : levelValue(options.minLevel, "minLevel");
    this.sample = options.sample === undefined ? 1 : checkSampleRate(options.sample);
    this.#kind = options.kind === undefined ? undefined : new NameFilter(options.kind, "kind");
    this.#ns = options.ns === undefined ? undefined : new NameFilter(options.ns, "ns");
    this.#id = options.id === undefined ? undefined : new NameFilter(options.id, "id");
    this.#when = options.when;
    this.#limiter = options.limit === undefined
      ? undefined
      : new RateLimiter(options.limit, clock ? { clock } : {});
    this.#limitBy = options.limitBy ?? ((s) => s.id ?? "");
    this.#random = random;
  }

  /** Checks a signal. */
  check(s: Signal): FilterResult {
    if (LEVELS[s.level] < this.minLevel) return 1;
    if (this.#kind !== undefined && !this.#kind.allows(s.kind)) return 1;
    if (this.#ns !== undefined && !this.#ns.allows(s.ns)) return 1;
    if (this.#id !== undefined && !this.#id.allows(s.id)) return 1;
    if (this.#when !== undefined && !this.#when(s)) return 1;
    if (this.sample < 1 && !(this.#random() < this.sample)) return 2;
    if (this.#limiter !== undefined && !this.#limiter.allow(this.#limitBy(s))) {
      return 3;
    }
    return 0;
  }
}
