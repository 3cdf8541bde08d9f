// This module is browser compatible.
/**
 * Payload buffers a receiver owns: a DATA payload whose buffer is the transport's message for it
 * alone may move to a reader, or be detached once copied out so its memory goes back at once
 * instead of at the next GC (`ArrayBuffer.prototype.transfer`, where the runtime has it).
 *
 * @module
 */
import { DATA_HEADER_BYTES } from "./frames.ts";

/** Whether `chunk` ends its buffer and starts at most a DATA header in: a message of its own. */
export function ownsBuffer(chunk: Uint8Array): boolean {
  return chunk.buffer instanceof ArrayBuffer && chunk.byteOffset <= DATA_HEADER_BYTES &&
    chunk.byteOffset + chunk.byteLength === chunk.buffer.byteLength;
}

/** Frees a queued payload's buffer now (it was copied out), where the runtime can detach it. */
export function release(chunk: Uint8Array): void {
  const buffer = chunk.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  // `transfer(0)` detaches the buffer; its memory goes back now, not at the next GC.
  if (typeof buffer.transfer === "function" && !buffer.detached) buffer.transfer(0);
}
