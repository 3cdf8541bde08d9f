// This module is browser compatible.
/**
 * The typed errors callers catch. The protocol error codes, with a line on each, are the table
 * `PROTOCOL_ERRORS` in `error_table.ts`.
 *
 * @module
 */

import type { ProtocolErrorCode } from "./error_table.ts";

/**
 * The close code of each fatal protocol error; a code not listed is not fatal. The same as
 * `fatal`/`closeCode` in `PROTOCOL_ERRORS` (a test compares them), kept here so that a
 * `ProtocolError` does not need the table and its descriptions (the client bundle).
 */
const FATAL_CLOSE_CODES: { readonly [code in ProtocolErrorCode]?: number } = {
  "too-large": 1009,
  "rate-limit-exceeded": 4029,
  "too-many-errors": 1008,
};

/** Base class of every error sente-lite throws on purpose; `code` is stable across versions. */
export class SenteLiteError extends Error {
  /** A stable, machine-readable code. */
  readonly code: string;
  /** Makes an error with a code and an optional cause. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SenteLiteError";
    this.code = code;
  }
}

/** Bad input seen by the protocol layer; `closeCode` is set when it ends the connection. */
export class ProtocolError extends SenteLiteError {
  /** The close code to send when fatal. */
  readonly closeCode: number | undefined;
  /** Whether the connection must be closed. */
  readonly fatal: boolean;
  /** The callback id of the request this error answers, when known. */
  readonly cbId: string | null;
  /** Makes a protocol error from the table. */
  constructor(code: ProtocolErrorCode, message: string, cbId: string | null = null) {
    super(code, message);
    this.name = "ProtocolError";
    const closeCode = FATAL_CLOSE_CODES[code];
    this.fatal = closeCode !== undefined;
    this.closeCode = closeCode;
    this.cbId = cbId;
  }
}

/** A request got no reply within its timeout (or the peer answered `chsk/timeout`). */
export class TimeoutError extends SenteLiteError {
  /** Makes a timeout error. */
  constructor(message: string) {
    super("timeout", message);
    this.name = "TimeoutError";
  }
}

/** The connection is closed, or closed while the request was pending (`chsk/closed`). */
export class ClosedError extends SenteLiteError {
  /** Makes a closed error. */
  constructor(message: string, options?: ErrorOptions) {
    super("closed", message, options);
    this.name = "ClosedError";
  }
}

/** The peer answered a request with an error: a `sente-lite/error` frame or `chsk/error`. */
export class ServerError extends SenteLiteError {
  /** Makes an error from the peer's code and message. */
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "ServerError";
  }
}
