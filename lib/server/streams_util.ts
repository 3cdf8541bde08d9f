/**
 * Helpers of server streams: stream bodies, stream metadata packed with the connection's packer,
 * and the sums of mux counters.
 *
 * @module
 */
import type { Packer } from "../packers/packer.ts";
import type { StreamBody } from "../streams/body.ts";
import type { StreamMuxStats } from "../streams/mux.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `value` as a stream body, or `null`. */
export function asStreamBody(value: unknown): StreamBody | null {
  if (value instanceof Uint8Array) return value;
  if (typeof Blob !== "undefined" && value instanceof Blob) return value;
  if (typeof ReadableStream !== "undefined" && value instanceof ReadableStream) return value;
  return null;
}

/** Packs stream metadata with the connection's packer. */
export function packMeta(packer: Packer, value: unknown): Uint8Array {
  const frame = packer.pack(value);
  return typeof frame === "string" ? encoder.encode(frame) : frame;
}

/** Unpacks stream metadata; `undefined` when empty or unreadable. */
export function unpackMeta(packer: Packer, bytes: Uint8Array): Record<string, unknown> {
  if (bytes.byteLength === 0) return {};
  try {
    const v = packer.unpack(packer.binary ? bytes : decoder.decode(bytes));
    return v !== null && typeof v === "object" ? v as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

/** Adds `add` to `total`; the gauges (`outgoing`, `incoming`) only when `live`. */
export function addStats(total: StreamMuxStats, add: StreamMuxStats, live: boolean): void {
  for (const k of Object.keys(total) as (keyof StreamMuxStats)[]) {
    if (live || (k !== "outgoing" && k !== "incoming")) total[k] += add[k];
  }
}
