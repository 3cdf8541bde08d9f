// This module is browser compatible.
/**
 * The first byte of every binary frame on a connection that negotiated compression or chunking.
 *
 * `0x00` and `0x01` are the flags of Sente 1.21's gzip packer wrapper (`packers/gzip.cljc`), so a
 * Sente peer that negotiated gzip reads our frames. `0x02` and `0x03` are sente-lite's additions; a
 * Sente peer never sees them because it cannot negotiate deflate-raw or chunking. Text frames carry
 * no flag: they are always one plain packed value.
 *
 * @module
 */

/** The rest of the frame is the packed value, uncompressed (Sente's flag). */
export const FLAG_RAW = 0x00;
/** The rest of the frame is a gzip (RFC 1952) stream of the packed value (Sente's flag). */
export const FLAG_GZIP = 0x01;
/** The rest of the frame is a deflate-raw (RFC 1951) stream of the packed value (sente-lite). */
export const FLAG_DEFLATE_RAW = 0x02;
/** The frame is one chunk of a larger flagged payload (sente-lite, see `chunking.ts`). */
export const FLAG_CHUNK = 0x03;

/** A flagged payload kept as flag and body, so a large body never has to be copied to prepend one byte. */
export interface Payload {
  /** {@linkcode FLAG_RAW}, {@linkcode FLAG_GZIP} or {@linkcode FLAG_DEFLATE_RAW}. */
  readonly flag: number;
  /** The bytes after the flag. */
  readonly body: Uint8Array;
}

/** The bytes of a payload as one frame: the flag, then the body. */
export function payloadBytes(payload: Payload): Uint8Array {
  const out = new Uint8Array(payload.body.byteLength + 1);
  out[0] = payload.flag;
  out.set(payload.body, 1);
  return out;
}

/** The length of a payload's frame (flag included). */
export function payloadLength(payload: Payload): number {
  return payload.body.byteLength + 1;
}
