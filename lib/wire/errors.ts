// This module is browser compatible.
/**
 * The errors of the frame transforms (compression, chunking, flagged binary frames), in one table
 * shaped like `PROTOCOL_ERRORS` in `lib/protocol/error_table.ts` so the two can be merged.
 *
 * A fatal wire error closes the connection with its close code; the others drop the one message
 * they concern, are reported, and the connection goes on.
 *
 * @module
 */
import { SenteLiteError } from "../protocol/errors.ts";
import type { ProtocolErrorSpec } from "../protocol/error_table.ts";

/** The table of wire error codes (listed in `docs/wire.md` §6). */
export const WIRE_ERRORS = {
  "bad-frame": {
    fatal: false,
    description:
      "A binary frame is empty, has an unknown flag byte, or uses a transform that was not negotiated.",
  },
  "decompress-failed": {
    fatal: false,
    description: "A compressed frame is not a valid deflate-raw or gzip stream.",
  },
  "decompression-bomb": {
    fatal: true,
    closeCode: 1009,
    description:
      "A compressed message inflates beyond its limit: `maxMessageBytes` (default 1 MiB) for a single frame, `maxAssembledBytes` (default 64 MiB) for a chunked one. Inflation stops at the limit.",
  },
  "inflate-rate-limited": {
    fatal: false,
    description:
      "A compressed frame inflates to more bytes than the connection's byte rate allows (inflated bytes are charged); the message is dropped and answered like `rate-limited`.",
  },
  "inflate-backlog": {
    fatal: true,
    closeCode: 4029,
    description:
      "More than `maxQueuedInflations` (default 32) compressed messages of one connection wait to be inflated.",
  },
  "bad-chunk": {
    fatal: false,
    description:
      "A chunk header is malformed or disagrees with earlier chunks of its message; the message is dropped.",
  },
  "assembled-too-large": {
    fatal: true,
    closeCode: 1009,
    description: "A chunked message announces more than `maxAssembledBytes` (default 64 MiB).",
  },
  "chunk-timeout": {
    fatal: false,
    description:
      "An incomplete chunked message got no chunk for `reassemblyTimeoutMs`, or fell behind `reassemblyMinRate` after `reassemblyGraceMs`; dropped and its reservation released.",
  },
  "chunk-evicted": {
    fatal: false,
    description:
      "Not sent after 0.1.0 (admitted messages are never evicted; a new one is refused with `reassembly-busy`). Kept so the code stays stable.",
  },
  "reassembly-busy": {
    fatal: false,
    description:
      "A new chunked message was refused: its announced size does not fit its connection's bound (`maxBufferedBytes`, `maxPendingMessages`) or what is left of the server-wide `totalReassemblyBytes`. Later chunks of it are ignored; send it again later.",
  },
} as const satisfies Record<string, ProtocolErrorSpec>;

/** A stable wire error code. */
export type WireErrorCode = keyof typeof WIRE_ERRORS;

/**
 * Bad input seen by a frame transform. Has the same `fatal`/`closeCode`/`cbId` fields as
 * `ProtocolError`, so the Hub can treat both alike.
 */
export class WireError extends SenteLiteError {
  /** The close code to send when fatal. */
  readonly closeCode: number | undefined;
  /** Whether the connection must be closed. */
  readonly fatal: boolean;
  /** Always `null`: a wire error never answers a request. */
  readonly cbId: null = null;
  /** The chunked message concerned, when there is one. */
  readonly messageId: number | undefined;
  /** Makes a wire error from the table. */
  constructor(
    code: WireErrorCode,
    message: string,
    options?: ErrorOptions & { messageId?: number },
  ) {
    super(code, message, options);
    this.name = "WireError";
    const spec: ProtocolErrorSpec = WIRE_ERRORS[code];
    this.fatal = spec.fatal;
    this.closeCode = spec.closeCode;
    this.messageId = options?.messageId;
  }
}

/** A compressed frame would inflate beyond the allowed size; decompression was stopped early. */
export class DecompressionBombError extends WireError {
  /** The limit that was exceeded, in bytes. */
  readonly maxBytes: number;
  /** Makes the error for a limit of `maxBytes`. */
  constructor(maxBytes: number) {
    super(
      "decompression-bomb",
      `a compressed frame inflates beyond the limit of ${maxBytes} bytes`,
    );
    this.name = "DecompressionBombError";
    this.maxBytes = maxBytes;
  }
}
