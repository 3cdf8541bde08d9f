// This module is browser compatible.
/**
 * The UUID wrapper of the Clojure-data packers: a value that travels as a Clojure UUID.
 *
 * @module
 */

/** UUID text: 8-4-4-4-12 hex digits, any case. */
export const UUID_TEXT: RegExp = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A UUID that travels as a Clojure UUID (`#uuid "…"` in EDN, `"~u…"` in Transit) instead of a
 * string. Unpacking returns these only with `uuids: "uuid"`.
 *
 * @example Usage
 * ```ts
 * import { Uuid } from "./uuid.ts";
 *
 * const id = new Uuid("6f1c2d3e-0000-4000-8000-000000000000");
 * console.log(String(id)); // "6f1c2d3e-0000-4000-8000-000000000000"
 * ```
 */
export class Uuid {
  /** The canonical text, e.g. `"6f1c2d3e-0000-4000-8000-000000000000"`. */
  readonly value: string;

  /**
   * Wraps UUID text (8-4-4-4-12 hex digits, any case; kept as given).
   *
   * @throws {TypeError} When `value` is not UUID text.
   */
  constructor(value: string) {
    if (typeof value !== "string" || !UUID_TEXT.test(value)) {
      throw new TypeError(`Cannot make a UUID from text: ${JSON.stringify(value)}`);
    }
    this.value = value;
  }

  /**
   * Whether `other` is a UUID with the same text, ignoring case.
   *
   * @example
   * ```ts
   * import { Uuid } from "@sente-lite/sente-lite/edn";
   *
   * const id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
   * console.log(new Uuid(id).equals(new Uuid(id))); // true
   * ```
   */
  equals(other: unknown): boolean {
    return other instanceof Uuid && other.value.toLowerCase() === this.value.toLowerCase();
  }

  /**
   * The UUID text.
   *
   * @example
   * ```ts
   * import { Uuid } from "@sente-lite/sente-lite/edn";
   *
   * console.log(String(new Uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8")));
   * ```
   */
  toString(): string {
    return this.value;
  }

  /**
   * The UUID text, so a `Uuid` passes through the JSON packer as a string.
   *
   * @example
   * ```ts
   * import { Uuid } from "@sente-lite/sente-lite/edn";
   *
   * console.log(JSON.stringify(new Uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8")));
   * ```
   */
  toJSON(): string {
    return this.value;
  }
}
