// This module is browser compatible.
/**
 * The JSON packer: the default, and the one every sente-lite peer speaks.
 *
 * @module
 */
import type { Frame, Packer } from "./packer.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * JSON in text frames. A binary frame is read as UTF-8 JSON too, so a peer that sends bytes is
 * understood; invalid UTF-8 or JSON throws.
 */
export const jsonPacker: Packer = {
  name: "json",
  binary: false,
  pack(value: unknown): Frame {
    return JSON.stringify(value);
  },
  unpack(frame: Frame): unknown {
    return JSON.parse(typeof frame === "string" ? frame : decoder.decode(frame));
  },
};
