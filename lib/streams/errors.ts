// This module is browser compatible.
/**
 * The errors of streams, in one table: each code has a stable string and a one-byte number that
 * travels in `CANCEL` frames (`docs/PROTOCOL.md` §9.5 lists the same table). A stream error ends
 * one stream, on both sides; the connection goes on.
 *
 * @module
 */
import { SenteLiteError } from "../protocol/errors.ts";

/** What one stream error code means. */
export interface StreamErrorSpec {
  /** The code's number in a `CANCEL` frame (1–255). */
  readonly wire: number;
  /** One line on when it happens. */
  readonly description: string;
}

/** The table of stream error codes. */
export const STREAM_ERRORS = {
  "stream-refused": {
    wire: 1,
    description:
      "The receiver refused the stream before any byte flowed (authorization hook, no handler).",
  },
  "stream-limit": {
    wire: 2,
    description:
      "Over a cap on concurrent streams: the connection's `maxIncomingStreams`/`maxOutgoingStreams` or the shared `StreamBudget`.",
  },
  "stream-too-large": {
    wire: 3,
    description:
      "The announced total or the bytes sent exceed `maxStreamBytes` (default 1 GiB), or data goes past the announced total.",
  },
  "stream-cancelled": {
    wire: 4,
    description:
      "One side cancelled: the sender's `AbortSignal`, or the receiver cancelled its `ReadableStream`; the reason travels along.",
  },
  "stream-integrity": {
    wire: 5,
    description: "The SHA-256 announced in `END` differs from the one of the bytes received.",
  },
  "stream-resume-failed": {
    wire: 6,
    description:
      "The transport dropped and the stream could not continue: no new transport within `resumeTimeoutMs`, the peer lost the stream, or the body is a one-shot `ReadableStream` that cannot be re-read from the receiver's offset.",
  },
  "stream-protocol": {
    wire: 7,
    description:
      "A malformed stream frame, data beyond the granted credit or at the wrong offset, a credit that goes backwards, or an `END` whose total differs from the bytes received.",
  },
  "stream-source-failed": {
    wire: 8,
    description:
      "The sender's body failed: its `ReadableStream` errored, or it ended before (or ran past) the total it announced.",
  },
  "stream-idle": {
    wire: 9,
    description:
      "The stream made no progress for `idleTimeoutMs` (default 30 s) while it waited on the peer: no DATA although credit was granted, or no credit (or END confirmation) although bytes were ready.",
  },
} as const satisfies Record<string, StreamErrorSpec>;

/** A stable stream error code. */
export type StreamErrorCode = keyof typeof STREAM_ERRORS;

const BY_WIRE = new Map<number, StreamErrorCode>(
  (Object.keys(STREAM_ERRORS) as StreamErrorCode[]).map((code) => [STREAM_ERRORS[code].wire, code]),
);

/** The code for a `CANCEL` frame's number; an unknown number reads as `stream-protocol`. */
export function streamErrorCodeOf(wire: number): StreamErrorCode {
  return BY_WIRE.get(wire) ?? "stream-protocol";
}

/** Why a stream ended without completing, on this side or on the peer's. */
export class StreamError extends SenteLiteError {
  /** The stream concerned, when there is one. */
  readonly streamId: number | undefined;
  /** `true` when the peer reported it (a `CANCEL` frame), `false` when this side detected it. */
  readonly remote: boolean;
  /** Makes a stream error from the table. */
  constructor(
    code: StreamErrorCode,
    message: string,
    options?: ErrorOptions & { streamId?: number; remote?: boolean },
  ) {
    super(code, message, options);
    this.name = "StreamError";
    this.streamId = options?.streamId;
    this.remote = options?.remote ?? false;
  }

  /** The code, typed. */
  get streamCode(): StreamErrorCode {
    return this.code as StreamErrorCode;
  }
}

/** The table as Markdown rows (code, number, meaning), as `docs/PROTOCOL.md` §9.5 prints it. */
export function streamErrorTableMarkdown(): string {
  const rows = (Object.keys(STREAM_ERRORS) as StreamErrorCode[]).map((code) =>
    `| \`${code}\` | ${STREAM_ERRORS[code].wire} | ${STREAM_ERRORS[code].description} |`
  );
  return ["| code | number | when |", "|---|---|---|", ...rows].join("\n");
}
