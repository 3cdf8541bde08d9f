// This module is browser compatible.
/**
 * The Transit packer: Transit-JSON (non-verbose) over transit-js, the library transit-cljs wraps,
 * so frames match Sente 1.21's `:json` Transit packer byte for byte, `^0` cache codes and
 * `["^ ", …]` maps included.
 *
 * @module
 */

import transitJs from "transit-js";
import type { Frame, Packer } from "./packer.ts";
import { Keyword } from "./keyword.ts";
import { keywordizeEnvelope } from "./_keywordize.ts";
import { frameText } from "./_frame_text.ts";
import { checkJsonDepth, MAX_JSON_DEPTH } from "./_json_depth.ts";
import type {
  TransitBuilder,
  TransitModule,
  TransitReadCache,
  TransitReaderOptions,
  TransitWriteHandler,
} from "./_transit_types.ts";
import {
  type ClojureDataOptions,
  describe,
  isPlainObject,
  MAX_BIGINT_DIGITS,
  resolveClojureDataOptions,
  Uuid,
  type ValueBuilder,
  valueBuilder,
} from "./_values.ts";

const transit = transitJs as TransitModule;

/** Options for {@linkcode transitPacker}; see {@linkcode ClojureDataOptions} for the shared ones. */
export interface TransitPackerOptions extends ClojureDataOptions {
  /**
   * Write `^N` cache codes for repeated keywords and map keys, as Sente does. `false` writes
   * every occurrence in full, which any Transit reader also accepts.
   *
   * @default {true}
   */
  cache?: boolean;
}

const TRANSIT_DEFAULTS = { cache: true } as const;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Makes the Transit packer (name `"transit"`, text frames).
 *
 * Writing: `null`/`undefined` → nil; booleans; numbers (NaN and ±Infinity as `~z`); bigint →
 * `~i` within 64 bits, else `~n`; strings; {@linkcode Keyword} → `~:`; arrays; plain objects and
 * `Map`s → maps; `Set` → `~#set`; `Date` → `~m`; `Uuid` → `~u`. Keyword positions follow the
 * `envelope` and `keywordizeKeys` options. Object properties that are `undefined` are left out.
 *
 * Reading: keywords, sets, UUIDs and maps as the options ask; `~m`/`~t` → `Date`; 64-bit integers
 * beyond `Number.MAX_SAFE_INTEGER` and `~n` → bigint; `~f` → number; symbols, characters and URIs
 * → their text; lists → arrays; binary → `Uint8Array`. An unknown tag, a bad cache code,
 * invalid JSON or JSON arrays and objects nested deeper than 512 throw a `SyntaxError`.
 *
 * @example Usage
 * ```ts
 * import { transitPacker } from "./transit.ts";
 *
 * const transit = transitPacker();
 * const frame = transit.pack([[["my-app/alert", { n: 1 }], ["my-app/alert", { n: 2 }]], null]);
 * console.log(frame); // [[["~:my-app/alert",["^ ","~:n",1]],["^0",["^ ","~:n",2]]],null]
 * console.log(transit.unpack(frame)); // [[["my-app/alert", { n: 1 }], ["my-app/alert", { n: 2 }]], null]
 * ```
 *
 * @param options How keywords are written and what Clojure values read as.
 * @returns The packer.
 * @throws {RangeError} When an option has an unknown value.
 */
export function transitPacker(options?: TransitPackerOptions): Packer {
  options ??= {};
  const data = resolveClojureDataOptions(options);
  const cache = options.cache ?? TRANSIT_DEFAULTS.cache;
  if (typeof cache !== "boolean") {
    throw new RangeError(`Invalid option cache: ${JSON.stringify(cache)} (expected a boolean)`);
  }
  const writer = transit.writer("json", {
    handlers: WRITE_HANDLERS,
    transform: data.keywordizeKeys ? transformKeywordizing : transformPlain,
    // transit-js takes a truthy `cache` as the cache object itself, so only ever pass `false`.
    ...(cache ? {} : { cache: false }),
  });
  const readCache = new StrictReadCache();
  const reader = transit.reader("json", { ...readerOptions(valueBuilder(data)), cache: readCache });
  return {
    name: "transit",
    binary: false,
    pack(value: unknown): Frame {
      return writer.write(keywordizeEnvelope(value, data.envelope));
    },
    unpack(frame: Frame): unknown {
      const text = frameText(frame);
      // transit-js decodes recursively: a deep frame would end in a stack overflow.
      checkJsonDepth(text, MAX_JSON_DEPTH, "Transit frame");
      try {
        readCache.clear();
        return fix(reader.read(text));
      } catch (error) {
        if (!(error instanceof Error) || error instanceof TypeError) throw error;
        if (error instanceof SyntaxError && error.message.startsWith("Invalid Transit")) {
          throw error;
        }
        throw new SyntaxError(`Invalid Transit frame: ${error.message}`, { cause: error });
      }
    },
  };
}

function handler<T>(
  tag: (value: T) => string,
  rep: (value: T) => unknown,
  stringRep: (value: T) => string | null = () => null,
): TransitWriteHandler<never> {
  return { tag, rep, stringRep } as TransitWriteHandler<T> as TransitWriteHandler<never>;
}

const WRITE_HANDLERS = new Map<unknown, TransitWriteHandler<never>>([
  [Keyword, handler<Keyword>(() => ":", (k) => k.fqn, (k) => k.fqn)],
  [Uuid, handler<Uuid>(() => "u", (u) => u.value, (u) => u.value)],
  // transit-js writes any object with forEach as a map, `["^ ", …]` when every key is stringable.
  [Map, handler<Map<unknown, unknown>>(() => "map", (m) => m)],
  [Set, handler<Set<unknown>>(() => "set", (s) => [...s])],
  [
    BigInt,
    handler<bigint>((n) => (n >= INT64_MIN && n <= INT64_MAX ? "i" : "n"), String, String),
  ],
  [Date, handler<Date>(() => "m", dateMillis, (d) => String(dateMillis(d)))],
]);

function dateMillis(date: Date): number {
  const time = date.getTime();
  if (Number.isNaN(time)) throw new TypeError("Cannot write an invalid Date as Transit");
  return time;
}

function transformKeywordizing(value: unknown): unknown {
  return transform(value, true);
}

function transformPlain(value: unknown): unknown {
  return transform(value, false);
}

/** Runs before every value is written: plain objects become `Map`s with keyword keys. */
function transform(value: unknown, keywordizeKeys: boolean): unknown {
  if (value === undefined) return null;
  if (typeof value === "function" || typeof value === "symbol") {
    throw new TypeError(`Cannot write ${describe(value)} as Transit`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  if (isPlainObject(value)) {
    const map = new Map<unknown, unknown>();
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (item === undefined) continue;
      map.set(keywordizeKeys && Keyword.isValid(key) ? new Keyword(key) : key, item);
    }
    return map;
  }
  if (
    value instanceof Keyword || value instanceof Map || value instanceof Set ||
    value instanceof Date || value instanceof Uuid
  ) {
    return value;
  }
  throw new TypeError(`Cannot write ${describe(value)} as Transit`);
}

// transit-js's cache-code alphabet: 44 digits from "0", so codes "^0" to "^~~" (1936 entries).
const CACHE_DIGITS = 44;
const CACHE_BASE = 48;

/**
 * A read cache that only resolves codes written earlier in the same frame. transit-js's own cache
 * keeps entries from earlier frames, so a malformed `^N` would read another frame's keyword.
 * transit-js reads and rewinds `idx` itself when it re-decodes a tagged array's first element.
 */
class StrictReadCache implements TransitReadCache {
  idx = 0;
  #entries: unknown[] = [];

  write(value: unknown): unknown {
    // The writer starts its codes over after this many entries; mirror it.
    if (this.idx === CACHE_DIGITS * CACHE_DIGITS) this.idx = 0;
    this.#entries[this.idx++] = value;
    return value;
  }

  read(code: string): unknown {
    const index = code.length === 2
      ? code.charCodeAt(1) - CACHE_BASE
      : (code.charCodeAt(1) - CACHE_BASE) * CACHE_DIGITS + code.charCodeAt(2) - CACHE_BASE;
    if (!(index >= 0 && index < this.idx) || code.length > 3) {
      throw new SyntaxError(
        `Invalid Transit frame: cache code ${JSON.stringify(code)} not defined`,
      );
    }
    return this.#entries[index];
  }

  clear(): void {
    this.idx = 0;
  }
}

/** Replaces transit-js's 64-bit `Long` with a bigint; rejects values of unknown tags. */
function fix(value: unknown): unknown {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    if (transit.isInteger(value)) return BigInt(String(value));
    if (transit.isTaggedValue(value)) {
      throw new SyntaxError(`Invalid Transit frame: unknown tag ${JSON.stringify(value.tag)}`);
    }
  }
  return value;
}

function fixAll(items: unknown[]): unknown[] {
  for (let i = 0; i < items.length; i++) items[i] = fix(items[i]);
  return items;
}

function asArray(tag: string, rep: unknown): unknown[] {
  if (!Array.isArray(rep)) throw new SyntaxError(`Invalid Transit frame: ~#${tag} needs an array`);
  return fixAll(rep);
}

function asString(tag: string, rep: unknown): string {
  if (typeof rep !== "string") throw new SyntaxError(`Invalid Transit frame: ~${tag} needs text`);
  return rep;
}

function readerOptions(build: ValueBuilder): TransitReaderOptions {
  const arrayBuilder: TransitBuilder = {
    init: () => [],
    add: (acc, item) => (acc.push(fix(item)), acc),
    finalize: (acc) => acc,
    fromArray: fixAll,
  };
  const mapBuilder: TransitBuilder = {
    init: () => [],
    add: (acc, key, value) => (acc.push(fix(key), fix(value)), acc),
    finalize: (acc) => build.map(acc),
    fromArray: (items) => build.map(fixAll(items)),
  };
  return {
    handlers: {
      ":": (rep) => build.keyword(asString(":", rep)),
      "$": (rep) => asString("$", rep),
      "c": (rep) => asString("c", rep),
      "r": (rep) => asString("r", rep),
      "u": (rep) => build.uuid(asString("u", rep)),
      "n": (rep) => readBigint(asString("n", rep)),
      "f": (rep) => Number(asString("f", rep)),
      "m": (rep) => readDate(Number(rep), rep),
      "t": (rep) => readDate(Date.parse(asString("t", rep)), rep),
      "set": (rep) => build.set(asArray("set", rep)),
      "list": (rep) => asArray("list", rep),
      "cmap": (rep) => build.map(asArray("cmap", rep)),
      "link": () => {
        throw new SyntaxError("Invalid Transit frame: links are not supported");
      },
    },
    defaultHandler: (tag) => {
      throw new SyntaxError(`Invalid Transit frame: unknown tag ${JSON.stringify(tag)}`);
    },
    mapBuilder,
    arrayBuilder,
    preferBuffers: false,
  };
}

function readBigint(text: string): bigint {
  if (text.length > MAX_BIGINT_DIGITS + 1) {
    throw new SyntaxError(`Invalid Transit frame: ~n of more than ${MAX_BIGINT_DIGITS} digits`);
  }
  return BigInt(text);
}

function readDate(time: number, rep: unknown): Date {
  if (!Number.isFinite(time)) {
    throw new SyntaxError(`Invalid Transit frame: bad date ${JSON.stringify(rep)}`);
  }
  return new Date(time);
}
