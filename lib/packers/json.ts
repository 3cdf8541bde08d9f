// This module is browser compatible.
/**
 * The JSON packer: the default, and the one every sente-lite peer speaks.
 *
 * @module
 */
import type { Frame, Packer } from "./packer.ts";
import { checkJsonDepth, MAX_JSON_DEPTH } from "./_json_depth.ts";

export { MAX_JSON_DEPTH } from "./_json_depth.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

// `JSON.rawJSON` (V8, JavaScriptCore, SpiderMonkey 135+) writes a bigint's digits as they are.
const rawJSON = (JSON as { rawJSON?: (text: string) => unknown }).rawJSON;

/**
 * Writes a bigint as a JSON number: EDN (`1N`) and Transit (`~n`, 64-bit `~i`) peers send them,
 * and a channel or broadcast forwards them to JSON peers too.
 */
function bigintAsNumber(_key: string, value: unknown): unknown {
  if (typeof value !== "bigint") return value;
  return rawJSON ? rawJSON(value.toString()) : Number(value);
}

/**
 * JSON in text frames. A binary frame is read as UTF-8 JSON too, so a peer that sends bytes is
 * understood; invalid UTF-8 or JSON throws, and so does text nesting arrays and objects deeper
 * than {@linkcode MAX_JSON_DEPTH} (the EDN packer's default limit, so whatever one peer sends
 * every other packer can write). A bigint is written as a JSON number with all its digits (a
 * JavaScript reader gets the nearest double; without `JSON.rawJSON`, it is written as that double).
 */
export const jsonPacker: Packer = {
  name: "json",
  binary: false,
  pack(value: unknown): Frame {
    try {
      return JSON.stringify(value);
    } catch (error) {
      // Only bigints (and cycles, which throw again) fail; the common path pays no replacer.
      if (!(error instanceof TypeError)) throw error;
      return JSON.stringify(value, bigintAsNumber);
    }
  },
  unpack(frame: Frame): unknown {
    const text = typeof frame === "string" ? frame : decoder.decode(frame);
    checkJsonDepth(text, MAX_JSON_DEPTH);
    return JSON.parse(text);
  },
};
