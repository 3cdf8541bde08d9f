/**
 * The backplane's payload encoding: JSON that keeps the types the Clojure-data packers (EDN,
 * Transit) write — so an event sent by one node reaches another node's EDN or Transit connection,
 * or a resume through the store, with the same types it had at the origin.
 *
 * Plain JSON data is encoded as plain JSON (one `JSON.stringify`; decoding is one `JSON.parse`
 * plus a substring check). Values JSON cannot carry become two-element arrays headed by a tag:
 *
 * | Value                       | Encoded                        |
 * | --------------------------- | ------------------------------ |
 * | `Keyword`                   | `["~#k", "ns/name"]`           |
 * | `Uuid`                      | `["~#u", "…"]`                 |
 * | `Date`                      | `["~#d", ms]` (`null`: invalid) |
 * | `Map`                       | `["~#m", [k, v, k, v, …]]`     |
 * | `Set`                       | `["~#s", [v, …]]`              |
 * | bigint                      | `["~#n", "123"]`               |
 * | `Uint8Array`                | `["~#b", "<base64>"]`          |
 * | `NaN`, `±Infinity`          | `["~#f", "NaN"]`               |
 * | an array whose head is a string starting with `~#` | `["~#a", [...]]` (escaped) |
 *
 * `undefined` and other objects follow JSON's rules (`toJSON`, own enumerable properties), as
 * before. Decoding never assigns through `__proto__` (a key named so stays an own property).
 *
 * @module
 */
import { Keyword } from "../packers/keyword.ts";
import { Uuid } from "../packers/uuid.ts";

const TAG = "~#";

/** Whether `value` holds anything plain JSON would lose or a tag would be confused with. */
function needsTags(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "number":
      return !Number.isFinite(value);
    case "bigint":
      return true;
    case "object":
      break;
    default:
      return false;
  }
  if (value === null) return false;
  if (depth > 512) return true; // the tagged walk reports it (JSON would overflow too)
  if (Array.isArray(value)) {
    const head = value[0];
    if (typeof head === "string" && head.startsWith(TAG)) return true;
    for (const v of value) if (needsTags(v, depth + 1)) return true;
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    // Keyword, Uuid, Date, Map, Set, Uint8Array; other classes keep JSON's rules.
    return value instanceof Keyword || value instanceof Uuid || value instanceof Date ||
      value instanceof Map || value instanceof Set || value instanceof Uint8Array;
  }
  for (const k in value as Record<string, unknown>) {
    if (needsTags((value as Record<string, unknown>)[k], depth + 1)) return true;
  }
  return false;
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function unbase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The JSON-able form of `value` with tags. */
function tag(value: unknown, depth: number): unknown {
  if (depth > 512) throw new RangeError("value nested deeper than 512 levels");
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? value : [`${TAG}f`, String(value)];
    case "bigint":
      return [`${TAG}n`, value.toString()];
    case "object":
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (Array.isArray(value)) {
    const out = value.map((v) => tag(v, depth + 1));
    const head = value[0];
    return typeof head === "string" && head.startsWith(TAG) ? [`${TAG}a`, out] : out;
  }
  if (value instanceof Keyword) return [`${TAG}k`, value.fqn];
  if (value instanceof Uuid) return [`${TAG}u`, value.value];
  if (value instanceof Date) {
    const t = value.getTime();
    return [`${TAG}d`, Number.isNaN(t) ? null : t];
  }
  if (value instanceof Map) {
    const flat: unknown[] = [];
    for (const [k, v] of value) flat.push(tag(k, depth + 1), tag(v, depth + 1));
    return [`${TAG}m`, flat];
  }
  if (value instanceof Set) return [`${TAG}s`, [...value].map((v) => tag(v, depth + 1))];
  if (value instanceof Uint8Array) return [`${TAG}b`, base64(value)];
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // JSON's rules
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    // defineProperty: a key named `__proto__` stays an own property.
    Object.defineProperty(out, k, {
      value: tag(v, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * Encodes a payload (the logical message: event, routing fields) as text.
 * @throws {RangeError} for data nested deeper than 512 levels.
 * @throws {TypeError} for data JSON cannot encode (a cycle).
 */
export function encodePayload(value: unknown): string {
  return JSON.stringify(needsTags(value, 0) ? tag(value, 0) : value);
}

/** Turns tags back into values, in place where the structure is unchanged. */
function untag(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const head = value[0];
    if (value.length === 2 && typeof head === "string" && head.startsWith(TAG)) {
      const v = value[1];
      switch (head) {
        case "~#k":
          if (typeof v === "string") {
            try {
              return new Keyword(v);
            } catch {
              return v;
            }
          }
          break;
        case "~#u":
          if (typeof v === "string") {
            try {
              return new Uuid(v);
            } catch {
              return v;
            }
          }
          break;
        case "~#d":
          if (v === null || typeof v === "number") return new Date(v === null ? NaN : v);
          break;
        case "~#m":
          if (Array.isArray(v)) {
            const m = new Map<unknown, unknown>();
            for (let i = 0; i + 1 < v.length; i += 2) m.set(untag(v[i]), untag(v[i + 1]));
            return m;
          }
          break;
        case "~#s":
          if (Array.isArray(v)) return new Set(v.map(untag));
          break;
        case "~#n":
          if (typeof v === "string" && /^-?\d{1,10000}$/.test(v)) return BigInt(v);
          break;
        case "~#b":
          if (typeof v === "string") {
            try {
              return unbase64(v);
            } catch {
              return v;
            }
          }
          break;
        case "~#f":
          if (v === "NaN" || v === "Infinity" || v === "-Infinity") return Number(v);
          break;
        case "~#a":
          if (Array.isArray(v)) {
            for (let i = 0; i < v.length; i++) v[i] = untag(v[i]);
            return v;
          }
          break;
      }
    }
    for (let i = 0; i < value.length; i++) value[i] = untag(value[i]);
    return value;
  }
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    const u = untag(v);
    if (u !== v) {
      Object.defineProperty(obj, k, {
        value: u,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return obj;
}

/**
 * Decodes what {@linkcode encodePayload} made.
 * @throws {SyntaxError} when `text` is not JSON.
 */
export function decodePayload(text: string): unknown {
  const v = JSON.parse(text);
  return text.includes(`"${TAG}`) ? untag(v) : v;
}
