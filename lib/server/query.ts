/**
 * The upgrade query, read once per upgrade: a plain query (no `%`, no `+`, no leading `?`: what
 * our clients send) is split by hand into name/value pairs; any other goes through
 * `URLSearchParams`, which decodes it. Either way a name reads as `URLSearchParams.get` reads it (the first value, or `null`).
 * Building a `URLSearchParams` was a measurable part of a handshake's CPU (bench/connrate.ts).
 *
 * @example
 * ```ts
 * import { parseQuery } from "./query.ts";
 * const query = parseQuery("client-id=abc&packer=json&cseq=");
 * console.assert(query.get("packer") === "json" && query.get("cseq") === "" && !query.has("wire"));
 * ```
 *
 * @module
 */

/** The part of `URLSearchParams` the upgrade checks read. */
export interface QueryParams {
  /** The first value of `name`, or `null` when it is absent. */
  get(name: string): string | null;
  /** Whether `name` is present. */
  has(name: string): boolean;
}

/** A query without escapes: its names and values in order, as they stand. */
class PlainQuery implements QueryParams {
  /** Name, value, name, value, … */
  readonly #pairs: string[];
  constructor(pairs: string[]) {
    this.#pairs = pairs;
  }
  get(name: string): string | null {
    const pairs = this.#pairs;
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === name) return pairs[i + 1];
    return null;
  }
  has(name: string): boolean {
    return this.get(name) !== null;
  }
}

/**
 * The parameters of `query` (a URL's query without its `?`), read as `URLSearchParams` reads
 * them: empty pieces between `&` skipped, a piece without `=` is a name with the value `""`.
 * Values of a plain query are slices of it: copy one that is kept (`ownCopy`, lib/util/own_copy.ts).
 */
export function parseQuery(query: string): QueryParams {
  if (query.includes("%") || query.includes("+") || query.startsWith("?")) {
    return new URLSearchParams(query);
  }
  const pairs: string[] = [];
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf("&", start);
    if (end < 0) end = query.length;
    if (end > start) {
      const eq = query.indexOf("=", start);
      if (eq >= 0 && eq < end) pairs.push(query.slice(start, eq), query.slice(eq + 1, end));
      else pairs.push(query.slice(start, end), "");
    }
    start = end + 1;
  }
  return new PlainQuery(pairs);
}
