// This module is browser compatible.
/**
 * Clojure keywords for the Transit and EDN packers.
 *
 * JavaScript strings cannot tell a keyword (`:my-app/alert`) from a string (`"my-app/alert"`), so a
 * value that must travel as a keyword is wrapped in a {@linkcode Keyword}. The packers also write
 * the event-id positions of an envelope as keywords on their own (see `lib/packers/_keywordize.ts`),
 * so most application code never needs this wrapper.
 *
 * @module
 */

// Characters that end a token in the Clojure reader, plus whitespace and `/`.
const REST = String.raw`[^\s/";@^\x60~()\[\]{}\\,]`;
// A segment may not start like a number, a `:` (auto-resolved keyword) or a dispatch `#`/`%`/`'`.
const START = String.raw`[^\s\d:/"';@^\x60~()\[\]{}\\,#%+-]`;
const SIGNED = String.raw`[+-](?:[^\s\d/"';@^\x60~()\[\]{}\\,#%]${REST}*)?`;
const SEGMENT = `(?:${START}${REST}*|${SIGNED})`;
const KEYWORD_TEXT = new RegExp(`^(?:${SEGMENT}/)?${SEGMENT}$`);
const NAMESPACED_TEXT = new RegExp(`^${SEGMENT}/${SEGMENT}$`);

/**
 * A Clojure keyword such as `:chsk/handshake` or `:ok?`.
 *
 * Guarantees:
 * - Immutable; two keywords are interchangeable when their {@linkcode Keyword.fqn} is equal
 *   (use {@linkcode Keyword.equals}, not `===`: keywords are not interned, so untrusted input
 *   cannot grow a global table).
 * - `JSON.stringify` writes the protocol's plain-string form, `"ns/name"`, so a `Keyword` can also
 *   pass through the JSON packer.
 * - The text is always readable back by the Clojure reader (see {@linkcode Keyword.isValid}).
 *
 * @example Usage
 * ```ts
 * import { Keyword } from "./keyword.ts";
 *
 * const k = new Keyword("my-app/alert");
 * console.log(k.namespace, k.name, String(k)); // "my-app" "alert" ":my-app/alert"
 * ```
 */
export class Keyword {
  /** The full text without the leading colon, e.g. `"my-app/alert"` or `"ok?"`. */
  readonly fqn: string;

  /**
   * Creates a keyword from its text, with or without the leading colon.
   *
   * @param text The keyword text, e.g. `"ns/name"` or `":ns/name"`.
   * @throws {TypeError} When `text` is not a string a Clojure reader reads back as a keyword.
   */
  constructor(text: string) {
    const fqn = typeof text === "string" && text.startsWith(":") ? text.slice(1) : text;
    if (!Keyword.isValid(fqn)) {
      throw new TypeError(`Cannot make a keyword from text: ${JSON.stringify(text)}`);
    }
    this.fqn = fqn;
  }

  /** The namespace, e.g. `"my-app"` for `:my-app/alert`, or `null` when there is none. */
  get namespace(): string | null {
    const slash = this.fqn.indexOf("/");
    return slash === -1 ? null : this.fqn.slice(0, slash);
  }

  /** The name after the namespace, e.g. `"alert"` for `:my-app/alert`. */
  get name(): string {
    return this.fqn.slice(this.fqn.indexOf("/") + 1);
  }

  /**
   * Whether `other` is a keyword with the same text.
   *
   * @example
   * ```ts
   * import { Keyword } from "@sente-lite/sente-lite/edn";
   *
   * console.log(new Keyword("user/id").equals(new Keyword("user/id"))); // true
   * ```
   */
  equals(other: unknown): boolean {
    return other instanceof Keyword && other.fqn === this.fqn;
  }

  /**
   * The Clojure printed form, e.g. `":my-app/alert"`.
   *
   * @example
   * ```ts
   * import { Keyword } from "@sente-lite/sente-lite/edn";
   *
   * console.log(String(new Keyword("user/id"))); // ":user/id"
   * ```
   */
  toString(): string {
    return `:${this.fqn}`;
  }

  /**
   * The protocol's plain-string form used by the JSON packer, e.g. `"my-app/alert"`.
   *
   * @example
   * ```ts
   * import { Keyword } from "@sente-lite/sente-lite/edn";
   *
   * console.log(JSON.stringify({ k: new Keyword("user/id") }));
   * ```
   */
  toJSON(): string {
    return this.fqn;
  }

  /**
   * Whether `text` (without a leading colon) reads back as one keyword: at most one `/` with
   * non-empty sides, no whitespace or reader delimiters, not starting like a number.
   *
   * @example
   * ```ts
   * import { Keyword } from "@sente-lite/sente-lite/edn";
   *
   * console.log(Keyword.isValid("user/id"), Keyword.isValid("")); // true false
   * ```
   */
  static isValid(text: unknown): text is string {
    return typeof text === "string" && KEYWORD_TEXT.test(text);
  }

  /**
   * Whether `text` is valid keyword text with a namespace, e.g. `"chsk/ws-ping"` (an event id).
   *
   * @example
   * ```ts
   * import { Keyword } from "@sente-lite/sente-lite/edn";
   *
   * console.log(Keyword.isNamespaced("user/id")); // true
   * ```
   */
  static isNamespaced(text: unknown): text is string {
    return typeof text === "string" && NAMESPACED_TEXT.test(text);
  }
}

/**
 * Makes a {@linkcode Keyword}; shorthand for `new Keyword(text)`.
 *
 * @example Usage
 * ```ts
 * import { keyword } from "./keyword.ts";
 *
 * const reason = keyword("error/max-subscribers-reached");
 * console.log(String(reason)); // ":error/max-subscribers-reached"
 * ```
 *
 * @param text The keyword text, with or without the leading colon.
 * @returns The keyword.
 * @throws {TypeError} When `text` is not valid keyword text.
 */
export function keyword(text: string): Keyword {
  return new Keyword(text);
}
