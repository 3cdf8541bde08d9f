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

/**
 * JSON in text frames. A binary frame is read as UTF-8 JSON too, so a peer that sends bytes is
 * understood; invalid UTF-8 or JSON throws, and so does text nesting arrays and objects deeper
 * than {@linkcode MAX_JSON_DEPTH} (the EDN packer's default limit, so whatever one peer sends
 * every other packer can write).
 */
export const jsonPacker: Packer = {
  name: "json",
  binary: false,
  pack(value: unknown): Frame {
    return JSON.stringify(value);
  },
  unpack(frame: Frame): unknown {
    const text = typeof frame === "string" ? frame : decoder.decode(frame);
    checkJsonDepth(text, MAX_JSON_DEPTH);
    return JSON.parse(text);
  },
};
