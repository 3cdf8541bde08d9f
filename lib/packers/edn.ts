// This module is browser compatible.
/**
 * The EDN packer: Sente's default packer and the only format of the original sente-lite.
 *
 * Frames are text, printed exactly as ClojureScript `pr-str` prints them and read with Clojure
 * `read-string` semantics (first form only, trailing text ignored, unknown tags rejected).
 *
 * @module
 */

import type { Frame, Packer } from "./packer.ts";
import { keywordizeEnvelope } from "./_keywordize.ts";
import { writeEdn } from "./_edn_writer.ts";
import { readEdn } from "./_edn_reader.ts";
import { frameText } from "./_frame_text.ts";
import {
  type ClojureDataOptions,
  resolveClojureDataOptions,
  type ResolvedClojureDataOptions,
  valueBuilder,
} from "./_values.ts";

/** Options for {@linkcode ednPacker}; see {@linkcode ClojureDataOptions} for the shared ones. */
export interface EdnPackerOptions extends ClojureDataOptions {
  /**
   * Deepest nesting of collections (and of `#_` discards and tags) unpacked; deeper input throws
   * instead of exhausting the stack. Packing allows 8 more levels, so a value read at the limit
   * can be sent on inside a server envelope. Must be an integer from 1 to 10000.
   *
   * @default {512}
   */
  maxDepth?: number;
}

const EDN_DEFAULTS = { maxDepth: 512 } as const;

/**
 * Levels a server adds around data it forwards: a Sente push `[[[id {:data X}]] nil]` holds `X`
 * four levels deep, a server→client request six.
 */
const ENVELOPE_HEADROOM = 8;

/**
 * Makes the EDN packer (name `"edn"`, text frames).
 *
 * Writing: `null`/`undefined` → `nil`; booleans; numbers (`##NaN`, `##Inf`, `-0.0`); bigint →
 * `123N`; strings; {@linkcode Keyword} → `:ns/name`; arrays → vectors; plain objects and `Map`s →
 * maps; `Set` → `#{}`; `Date` → `#inst`; `Uuid` → `#uuid`. Keyword positions follow the
 * `envelope` and `keywordizeKeys` options. Object properties that are `undefined` are left out,
 * as `JSON.stringify` does.
 *
 * Reading: nil, booleans, numbers (`N` → bigint, `M` and ratios → number), strings, characters
 * (→ one-character strings), symbols (→ their text), lists and vectors (→ arrays), maps, sets,
 * keywords, `#inst` (→ `Date`) and `#uuid` as the options ask. Anything else throws a
 * `SyntaxError` naming the offset. A binary frame is read as UTF-8 text.
 *
 * @example Usage
 * ```ts
 * import { ednPacker } from "./edn.ts";
 *
 * const edn = ednPacker();
 * const frame = edn.pack([["my-app/some-req", { data: "data" }], "3f2c1a"]);
 * console.log(frame); // [[:my-app/some-req {:data "data"}] "3f2c1a"]
 * console.log(edn.unpack(frame)); // [["my-app/some-req", { data: "data" }], "3f2c1a"]
 * ```
 *
 * @param options How keywords are written and what Clojure values read as.
 * @returns The packer.
 * @throws {RangeError} When an option has an unknown value.
 */
export function ednPacker(options?: EdnPackerOptions): Packer {
  options ??= {};
  const data: ResolvedClojureDataOptions = resolveClojureDataOptions(options);
  const maxDepth = options.maxDepth ?? EDN_DEFAULTS.maxDepth;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 10_000) {
    throw new RangeError(`Invalid option maxDepth: ${maxDepth} (expected an integer 1–10000)`);
  }
  const writeOptions = {
    keywordizeKeys: data.keywordizeKeys,
    maxDepth: maxDepth + ENVELOPE_HEADROOM,
  };
  const readOptions = { builder: valueBuilder(data), maxDepth };
  return {
    name: "edn",
    binary: false,
    pack(value: unknown): Frame {
      return writeEdn(keywordizeEnvelope(value, data.envelope), writeOptions);
    },
    unpack(frame: Frame): unknown {
      return readEdn(frameText(frame), readOptions);
    },
  };
}
