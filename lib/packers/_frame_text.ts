// This module is browser compatible.
/**
 * Text of a frame for the text packers, which also accept UTF-8 binary frames (a peer or a
 * frame transform may deliver text as bytes).
 *
 * @module
 */

import type { Frame } from "./packer.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Returns `frame` as text.
 *
 * @throws {TypeError} When `frame` is bytes that are not valid UTF-8, or not a frame at all.
 */
export function frameText(frame: Frame): string {
  if (typeof frame === "string") return frame;
  if (frame instanceof Uint8Array) return decoder.decode(frame);
  throw new TypeError(`Cannot unpack a frame of type ${typeof frame}`);
}
