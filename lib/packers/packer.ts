// This module is browser compatible.
/**
 * The packer interface: how one logical value becomes the bytes of one WebSocket frame.
 *
 * Packers are synchronous and stateless between calls so the hot path stays a plain function call;
 * frame transforms that need async work (compression) live in `lib/wire/`, not here.
 *
 * @module
 */

/** What a WebSocket frame carries: text (string) or binary (bytes). */
export type Frame = string | Uint8Array;

/**
 * Turns envelope values into frames and back.
 *
 * Guarantees:
 * - `unpack(pack(v))` is structurally equal to `v` for every value the packer supports.
 * - `unpack` throws (any error) on input it cannot read; the caller turns that into a protocol error.
 */
export interface Packer {
  /** The name sent as the `packer` upgrade parameter, e.g. `"json"`. */
  readonly name: string;
  /** `true` when `pack` returns bytes (binary frames), `false` for text frames. */
  readonly binary: boolean;
  /** Packs one envelope value into one frame. */
  pack(value: unknown): Frame;
  /** Unpacks one frame into one envelope value; throws on malformed input. */
  unpack(frame: Frame): unknown;
}
