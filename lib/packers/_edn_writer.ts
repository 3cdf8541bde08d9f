// This module is browser compatible.
/**
 * An EDN printer with ClojureScript `pr-str` output, byte for byte: map entries joined by `", "`,
 * vector and set items by a space, strings escaped as `quote-string` does.
 *
 * edn-data's `toEDNString` joins map entries with a bare space and escapes strings as JSON, so it
 * cannot reproduce Sente's frames.
 *
 * @module
 */

import { Keyword } from "./keyword.ts";
import { describe, isPlainObject, Uuid } from "./_values.ts";

/** How the printer treats values JavaScript cannot tag on its own. */
export interface EdnWriteOptions {
  /** Print plain-object keys that are valid keyword text as keywords. */
  keywordizeKeys: boolean;
  /** Deepest nesting printed before giving up (also catches cycles). */
  maxDepth: number;
}

// The characters ClojureScript's quote-string escapes; everything else is printed raw.
const STRING_ESCAPES = /[\\"\b\f\n\r\t]/g;
const ESCAPED: Record<string, string> = {
  "\\": "\\\\",
  '"': '\\"',
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/**
 * Prints `value` as EDN.
 *
 * @throws {TypeError} For values EDN cannot carry (functions, symbols, binary, class instances),
 * invalid dates, and nesting deeper than `maxDepth`.
 */
export function writeEdn(value: unknown, options: EdnWriteOptions): string {
  return write(value, options, 0);
}

/** Prints a string literal the way ClojureScript `pr-str` does. */
export function quoteString(text: string): string {
  return `"${text.replace(STRING_ESCAPES, (c) => ESCAPED[c])}"`;
}

/** Prints a number the way ClojureScript `pr-str` does, keeping `-0` as `-0.0`. */
export function printNumber(n: number): string {
  if (Number.isNaN(n)) return "##NaN";
  if (n === Infinity) return "##Inf";
  if (n === -Infinity) return "##-Inf";
  if (Object.is(n, -0)) return "-0.0";
  return String(n);
}

function write(value: unknown, options: EdnWriteOptions, depth: number): string {
  switch (typeof value) {
    case "string":
      return quoteString(value);
    case "number":
      return printNumber(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return `${value}N`;
    case "undefined":
      return "nil";
  }
  if (value === null) return "nil";
  if (typeof value !== "object") throw new TypeError(`Cannot write ${describe(value)} as EDN`);
  if (value instanceof Keyword) return `:${value.fqn}`;
  if (depth >= options.maxDepth) {
    throw new TypeError(`Cannot write EDN nested deeper than ${options.maxDepth} (a cycle?)`);
  }
  const next = depth + 1;
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      out += (i === 0 ? "" : " ") + write(value[i], options, next);
    }
    return out + "]";
  }
  if (isPlainObject(value)) {
    let out = "{";
    let first = true;
    for (const key in value) {
      const item = value[key];
      if (item === undefined || !Object.hasOwn(value, key)) continue;
      const printedKey = options.keywordizeKeys && Keyword.isValid(key)
        ? `:${key}`
        : quoteString(key);
      out += (first ? "" : ", ") + printedKey + " " + write(item, options, next);
      first = false;
    }
    return out + "}";
  }
  if (value instanceof Map) {
    let out = "{";
    let first = true;
    for (const [key, item] of value) {
      out += (first ? "" : ", ") + write(key, options, next) + " " + write(item, options, next);
      first = false;
    }
    return out + "}";
  }
  if (value instanceof Set) {
    let out = "#{";
    let first = true;
    for (const item of value) {
      out += (first ? "" : " ") + write(item, options, next);
      first = false;
    }
    return out + "}";
  }
  if (value instanceof Date) return `#inst ${quoteString(instText(value))}`;
  if (value instanceof Uuid) return `#uuid ${quoteString(value.value)}`;
  throw new TypeError(`Cannot write ${describe(value)} as EDN`);
}

/** RFC 3339 text as ClojureScript prints a `js/Date`: UTC with a `-00:00` offset. */
function instText(date: Date): string {
  const time = date.getTime();
  if (Number.isNaN(time)) throw new TypeError("Cannot write an invalid Date as EDN");
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) {
    throw new TypeError(`Cannot write a Date outside years 0–9999 as EDN: ${date.toISOString()}`);
  }
  return date.toISOString().replace(/Z$/, "-00:00");
}
