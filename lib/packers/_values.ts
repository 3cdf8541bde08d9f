// This module is browser compatible.
/**
 * Shared pieces of the Clojure-data packers (Transit and EDN): the options both accept, and the
 * rules that turn read values into plain JavaScript.
 *
 * @module
 */

import { Keyword } from "./keyword.ts";
import { Uuid, UUID_TEXT } from "./uuid.ts";

export { Uuid } from "./uuid.ts";
import type { EnvelopeShape } from "./_keywordize.ts";

/**
 * Options shared by the Transit and EDN packers: which values are written as keywords, and what
 * Clojure values become when read.
 *
 * Writing: a {@linkcode Keyword} is always a keyword; the event-id positions of `envelope` are
 * keywords; plain-object keys are keywords when `keywordizeKeys` is on and the key is valid
 * keyword text (`Keyword.isValid`); every other string stays a string. `Map` keys are written as
 * given, so a `Map` is the way to send string keys.
 */
export interface ClojureDataOptions {
  /**
   * The envelope whose event-id positions are written as keywords:
   * - `"sente"`: Sente 1.21 `[payload, cb]` frames. The id of an event payload `[id, data?]`, of
   *   each event in a push batch `[[id, data?], …]`, a payload that is one of the reserved
   *   sentinels (`"chsk/ws-ping"`, `"chsk/timeout"`, `"chsk/closed"`, `"chsk/error"`,
   *   `"chsk/dummy-cb-200"`, …), the handshake uid `"sente/nil-uid"`, and the Ajax cb `"ajax"`.
   * - `"event"`: bare `[id, data?]` frames of the original sente-lite.
   * - `"none"`: only `Keyword` values (and object keys) are keywords.
   *
   * An array payload is taken as an event when its first element is namespaced keyword text, so
   * a reply value shaped like `["a/b", …]` is written as an event too; use `Keyword`s with
   * `"none"` when a layer above knows better.
   *
   * @default {"sente"}
   */
  envelope?: EnvelopeShape;
  /**
   * Write plain-object keys that are valid keyword text as keywords (`{:ok? true}`); other keys,
   * and all keys when off, are written as strings.
   *
   * @default {true}
   */
  keywordizeKeys?: boolean;
  /**
   * What keywords read as: `"string"` gives the text without the colon (`"ns/name"`), matching
   * the JSON packer; `"keyword"` gives `Keyword` objects, so `pack(unpack(frame))` is exact even
   * for keywords inside data.
   *
   * @default {"string"}
   */
  keywords?: "string" | "keyword";
  /**
   * What sets read as: arrays (in the order received) or `Set`s.
   *
   * @default {"array"}
   */
  sets?: "array" | "set";
  /**
   * What UUIDs read as: their text, or `Uuid` objects.
   *
   * @default {"string"}
   */
  uuids?: "string" | "uuid";
  /**
   * What maps read as. `"object"` gives plain objects: keyword, symbol and string keys become
   * their text; number, bigint and boolean keys become `String(key)`; any other key (nil, a
   * vector, a map, …) throws a `TypeError`, since it has no faithful object key. `"map"` gives
   * `Map`s with the keys as read. Later duplicates win.
   *
   * @default {"object"}
   */
  maps?: "object" | "map";
}

/**
 * Most digits of a bigint read by the EDN (`123N`) and Transit (`~n`) packers. Parsing a bigint
 * is superlinear (1 MiB of digits takes ~100 ms), and no protocol value needs more.
 */
export const MAX_BIGINT_DIGITS = 4096;

/** {@linkcode ClojureDataOptions} with every default filled in. */
export type ResolvedClojureDataOptions = Required<ClojureDataOptions>;

const CLOJURE_DATA_DEFAULTS: ResolvedClojureDataOptions = {
  envelope: "sente",
  keywordizeKeys: true,
  keywords: "string",
  sets: "array",
  uuids: "string",
  maps: "object",
};

const ALLOWED: { [K in keyof ResolvedClojureDataOptions]: readonly unknown[] } = {
  envelope: ["sente", "event", "none"],
  keywordizeKeys: [true, false],
  keywords: ["string", "keyword"],
  sets: ["array", "set"],
  uuids: ["string", "uuid"],
  maps: ["object", "map"],
};

/** Fills in defaults and rejects unknown values with a `RangeError` naming the option. */
export function resolveClojureDataOptions(
  options: ClojureDataOptions = {},
): ResolvedClojureDataOptions {
  const resolved = { ...CLOJURE_DATA_DEFAULTS };
  for (const key of Object.keys(ALLOWED) as (keyof ResolvedClojureDataOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!ALLOWED[key].includes(value)) {
      throw new RangeError(
        `Invalid option ${key}: ${JSON.stringify(value)} (expected one of ${
          ALLOWED[key].map((v) => JSON.stringify(v)).join(", ")
        })`,
      );
    }
    (resolved as Record<string, unknown>)[key] = value;
  }
  return resolved;
}

/** Builds maps, keywords, sets and UUIDs as the read options ask. */
export interface ValueBuilder {
  keyword(fqn: string): string | Keyword;
  /** @throws {SyntaxError} When `text` is not UUID text. */
  uuid(text: string): string | Uuid;
  set(items: unknown[]): unknown[] | Set<unknown>;
  /** Builds a map from alternating keys and values. */
  map(entries: unknown[]): Record<string, unknown> | Map<unknown, unknown>;
}

/** Makes the {@linkcode ValueBuilder} for `options`. */
export function valueBuilder(options: ResolvedClojureDataOptions): ValueBuilder {
  return {
    keyword: options.keywords === "keyword" ? (fqn) => new Keyword(fqn) : (fqn) => fqn,
    uuid: options.uuids === "uuid" ? (text) => new Uuid(checkUuid(text)) : checkUuid,
    set: options.sets === "set" ? (items) => new Set(items) : (items) => items,
    map: options.maps === "map" ? mapFromEntries : objectFromEntries,
  };
}

function checkUuid(text: string): string {
  if (typeof text !== "string" || !UUID_TEXT.test(text)) {
    throw new SyntaxError(`Invalid UUID ${JSON.stringify(text)}`);
  }
  return text;
}

function mapFromEntries(entries: unknown[]): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>();
  for (let i = 0; i < entries.length; i += 2) map.set(entries[i], entries[i + 1]);
  return map;
}

function objectFromEntries(entries: unknown[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let i = 0; i < entries.length; i += 2) {
    const key = objectKey(entries[i]);
    if (key === "__proto__") {
      // A plain assignment would replace the prototype instead of adding a key.
      Object.defineProperty(object, key, {
        value: entries[i + 1],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      object[key] = entries[i + 1];
    }
  }
  return object;
}

function objectKey(key: unknown): string {
  switch (typeof key) {
    case "string":
      return key;
    case "number":
    case "bigint":
    case "boolean":
      return String(key);
  }
  if (key instanceof Keyword) return key.fqn;
  if (key instanceof Uuid) return key.value;
  throw new TypeError(
    `Cannot use map key ${describe(key)} as an object key; unpack with maps: "map" to keep it`,
  );
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "nil";
  if (Array.isArray(value)) return `a vector of ${value.length}`;
  if (typeof value === "object") return `a ${value.constructor?.name ?? "null-prototype object"}`;
  return `${typeof value} ${String(value)}`;
}

/** Whether `value` is a plain object (written as a map with keywordized keys). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
