// This module is browser compatible.
/**
 * Stream frames: binary WebSocket frames whose first byte is `0x10`–`0x15`, a range distinct from
 * the wire flags (`0x00`–`0x03`, `lib/wire/flags.ts`), so one connection carries both and a
 * receiver routes on the first byte alone. Every field is big-endian; every frame then has the
 * stream id (u32). Offsets and sizes are u64 written as two u32 (high, low) and must stay below
 * 2^53. Layouts (`docs/PROTOCOL.md` §9.2):
 *
 * ```
 * DATA    0x10 | id u32 | offset u64 | payload …                       (13-byte header)
 * OPEN    0x11 | id u32 | bits u8 | total u64 | name-len u16 | name utf-8 | meta …
 *              bits: 0x01 total is set, 0x02 END will carry a SHA-256
 * CREDIT  0x12 | id u32 | consumed u64 | limit u64
 * END     0x13 | id u32 | total u64 | [sha-256, 32 bytes]
 * CANCEL  0x14 | id u32 | code u8 | reason utf-8 …
 * RESUME  0x15 | id u32 | received u64 | consumed u64 | limit u64
 * ```
 *
 * {@linkcode decodeStreamFrame} checks every length and range and throws a `stream-protocol`
 * {@linkcode StreamError} on anything else; it never copies a DATA payload.
 *
 * @module
 */
import { STREAM_ERRORS, StreamError, streamErrorCodeOf } from "./errors.ts";
import type { StreamErrorCode } from "./errors.ts";

/** A chunk of the stream's bytes. */
export const FLAG_STREAM_DATA = 0x10;
/** The sender opens a stream. */
export const FLAG_STREAM_OPEN = 0x11;
/** The receiver grants credit. */
export const FLAG_STREAM_CREDIT = 0x12;
/** The sender's last frame; the receiver sends it back to confirm. */
export const FLAG_STREAM_END = 0x13;
/** Either side ends the stream with an error code. */
export const FLAG_STREAM_CANCEL = 0x14;
/** After a transport drop: where the receiver is (or, from the sender, "where are you?"). */
export const FLAG_STREAM_RESUME = 0x15;

/** Bytes of a DATA frame's header. */
export const DATA_HEADER_BYTES = 13;
/** The largest stream id. */
export const MAX_STREAM_ID = 0xffff_ffff;
/** Longest stream name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 256;
/** Longest reason in a CANCEL frame, in UTF-8 bytes (longer ones are cut). */
export const MAX_REASON_BYTES = 1024;

/** Whether a binary frame is a stream frame (first byte `0x10`–`0x1f`, the streams' range). */
export function isStreamFrame(frame: Uint8Array): boolean {
  return frame.byteLength > 0 && (frame[0] & 0xf0) === 0x10;
}

/** One decoded stream frame. */
export type StreamFrame =
  | { type: "data"; id: number; offset: number; data: Uint8Array }
  | {
    type: "open";
    id: number;
    name: string;
    total: number | undefined;
    integrity: boolean;
    meta: Uint8Array;
  }
  | { type: "credit"; id: number; consumed: number; limit: number }
  | { type: "end"; id: number; total: number; sha256: Uint8Array | undefined }
  | { type: "cancel"; id: number; code: StreamErrorCode; reason: string }
  | { type: "resume"; id: number; received: number; consumed: number; limit: number };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function header(flag: number, id: number, rest: number): [Uint8Array, DataView] {
  const out = new Uint8Array(5 + rest);
  const view = new DataView(out.buffer);
  out[0] = flag;
  view.setUint32(1, id);
  return [out, view];
}

function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, Math.floor(value / 2 ** 32));
  view.setUint32(at + 4, value >>> 0);
}

function getU64(view: DataView, at: number): number {
  const hi = view.getUint32(at);
  if (hi >= 2 ** 21) throw protocol(`an offset or size of 2^53 or more`);
  return hi * 2 ** 32 + view.getUint32(at + 4);
}

function protocol(message: string, streamId?: number): StreamError {
  return new StreamError("stream-protocol", message, { streamId });
}

/** A DATA frame: header and payload in one new buffer (the payload is copied once). */
export function encodeData(id: number, offset: number, payload: Uint8Array): Uint8Array {
  return encodeDataInto(
    new Uint8Array(DATA_HEADER_BYTES + payload.byteLength),
    id,
    offset,
    payload,
  );
}

/**
 * A DATA frame written into `buffer` (at least {@linkcode DATA_HEADER_BYTES} + the payload's
 * length): the frame is a view of its start. Lets a sender whose transport copies on `send`
 * reuse one buffer for every frame instead of allocating one per frame.
 */
export function encodeDataInto(
  buffer: Uint8Array,
  id: number,
  offset: number,
  payload: Uint8Array,
): Uint8Array {
  const length = DATA_HEADER_BYTES + payload.byteLength;
  if (buffer.byteLength < length) {
    throw new RangeError(`a DATA frame of ${length} bytes does not fit ${buffer.byteLength}`);
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, DATA_HEADER_BYTES);
  buffer[0] = FLAG_STREAM_DATA;
  view.setUint32(1, id);
  setU64(view, 5, offset);
  buffer.set(payload, DATA_HEADER_BYTES);
  return buffer.subarray(0, length);
}

/** An OPEN frame. `name` must be at most {@linkcode MAX_NAME_BYTES} of UTF-8. */
export function encodeOpen(
  id: number,
  name: string,
  total: number | undefined,
  integrity: boolean,
  meta: Uint8Array,
): Uint8Array {
  const nameBytes = encoder.encode(name);
  if (nameBytes.byteLength > MAX_NAME_BYTES) {
    throw new RangeError(`a stream name is at most ${MAX_NAME_BYTES} bytes, got ${name}`);
  }
  const [out, view] = header(
    FLAG_STREAM_OPEN,
    id,
    1 + 8 + 2 + nameBytes.byteLength + meta.byteLength,
  );
  out[5] = (total !== undefined ? 0x01 : 0) | (integrity ? 0x02 : 0);
  setU64(view, 6, total ?? 0);
  view.setUint16(14, nameBytes.byteLength);
  out.set(nameBytes, 16);
  out.set(meta, 16 + nameBytes.byteLength);
  return out;
}

/** A CREDIT frame: the receiver's consumer read `consumed` bytes; send up to offset `limit`. */
export function encodeCredit(id: number, consumed: number, limit: number): Uint8Array {
  const [out, view] = header(FLAG_STREAM_CREDIT, id, 16);
  setU64(view, 5, consumed);
  setU64(view, 13, limit);
  return out;
}

/** An END frame, with the SHA-256 of the whole stream when integrity was announced. */
export function encodeEnd(id: number, total: number, sha256?: Uint8Array): Uint8Array {
  const [out, view] = header(FLAG_STREAM_END, id, 8 + (sha256 ? 32 : 0));
  setU64(view, 5, total);
  if (sha256) out.set(sha256, 13);
  return out;
}

/** A CANCEL frame; the reason is cut to {@linkcode MAX_REASON_BYTES}. */
export function encodeCancel(id: number, code: StreamErrorCode, reason: string): Uint8Array {
  let bytes = encoder.encode(reason);
  if (bytes.byteLength > MAX_REASON_BYTES) bytes = bytes.subarray(0, MAX_REASON_BYTES);
  const [out] = header(FLAG_STREAM_CANCEL, id, 1 + bytes.byteLength);
  out[5] = STREAM_ERRORS[code].wire;
  out.set(bytes, 6);
  return out;
}

/** A RESUME frame. */
export function encodeResume(
  id: number,
  received: number,
  consumed: number,
  limit: number,
): Uint8Array {
  const [out, view] = header(FLAG_STREAM_RESUME, id, 24);
  setU64(view, 5, received);
  setU64(view, 13, consumed);
  setU64(view, 21, limit);
  return out;
}

function need(frame: Uint8Array, bytes: number, exact: boolean, what: string): void {
  if (exact ? frame.byteLength !== bytes : frame.byteLength < bytes) {
    throw protocol(`a ${what} frame of ${frame.byteLength} bytes`);
  }
}

/** Decodes one stream frame; throws a `stream-protocol` {@linkcode StreamError} when malformed. */
export function decodeStreamFrame(frame: Uint8Array): StreamFrame {
  if (frame.byteLength < 5) throw protocol(`a stream frame of ${frame.byteLength} bytes`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const id = view.getUint32(1);
  switch (frame[0]) {
    case FLAG_STREAM_DATA:
      need(frame, DATA_HEADER_BYTES, false, "DATA");
      return { type: "data", id, offset: getU64(view, 5), data: frame.subarray(DATA_HEADER_BYTES) };
    case FLAG_STREAM_OPEN: {
      need(frame, 16, false, "OPEN");
      const bits = frame[5];
      if (bits & ~0x03) throw protocol(`unknown OPEN bits 0x${bits.toString(16)}`, id);
      const total = getU64(view, 6);
      const nameLength = view.getUint16(14);
      if (nameLength > MAX_NAME_BYTES || 16 + nameLength > frame.byteLength) {
        throw protocol(`an OPEN name of ${nameLength} bytes`, id);
      }
      let name: string;
      try {
        name = decoder.decode(frame.subarray(16, 16 + nameLength));
      } catch {
        throw protocol("an OPEN name that is not UTF-8", id);
      }
      return {
        type: "open",
        id,
        name,
        total: bits & 0x01 ? total : undefined,
        integrity: (bits & 0x02) !== 0,
        meta: frame.subarray(16 + nameLength),
      };
    }
    case FLAG_STREAM_CREDIT: {
      need(frame, 21, true, "CREDIT");
      const consumed = getU64(view, 5);
      const limit = getU64(view, 13);
      if (limit < consumed) {
        throw protocol(`a CREDIT limit ${limit} below consumed ${consumed}`, id);
      }
      return { type: "credit", id, consumed, limit };
    }
    case FLAG_STREAM_END:
      if (frame.byteLength !== 13 && frame.byteLength !== 45) need(frame, 13, true, "END");
      return {
        type: "end",
        id,
        total: getU64(view, 5),
        sha256: frame.byteLength === 45 ? frame.slice(13) : undefined,
      };
    case FLAG_STREAM_CANCEL: {
      need(frame, 6, false, "CANCEL");
      const reasonBytes = frame.subarray(6, 6 + MAX_REASON_BYTES);
      return {
        type: "cancel",
        id,
        code: streamErrorCodeOf(frame[5]),
        reason: new TextDecoder().decode(reasonBytes), // lenient: a reason is only shown
      };
    }
    case FLAG_STREAM_RESUME: {
      need(frame, 29, true, "RESUME");
      const received = getU64(view, 5);
      const consumed = getU64(view, 13);
      const limit = getU64(view, 21);
      if (consumed > received || limit < consumed) {
        throw protocol(
          `a RESUME with received ${received}, consumed ${consumed}, limit ${limit}`,
          id,
        );
      }
      return { type: "resume", id, received, consumed, limit };
    }
    default:
      throw protocol(`unknown stream frame type 0x${frame[0].toString(16)}`, id);
  }
}
