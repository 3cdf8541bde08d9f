// This module is browser compatible.
/**
 * The dialect interface: the shape of frames on one connection (envelope or bare events, how
 * errors are told), between the Hub's logical messages and the packer's bytes.
 *
 * @module
 */
import type { ClientEvent, ServerMessage } from "../protocol/envelope.ts";
import type { ProtocolError } from "../protocol/errors.ts";

/** How the server reads and writes one kind of peer. */
export interface ServerDialect {
  /** The dialect's name, e.g. `"sente-lite"`. */
  readonly name: string;
  /**
   * Reads one unpacked client frame.
   * @throws {ProtocolError} when the value is not a valid message of this dialect.
   */
  decode(value: unknown): ClientEvent;
  /** The values (each packed into one frame) that carry `message` to the peer. */
  encode(message: ServerMessage): unknown[];
  /** The message that tells the peer about a non-fatal error, or `null` when it has no way to. */
  errorMessage(error: ProtocolError): ServerMessage | null;
  /**
   * The answer to an event no handler took, instead of the `no-handler` error (the original
   * sente-lite's echo); absent or `null` keeps the error.
   */
  unhandled?(event: ClientEvent, connId: string, now: number): ServerMessage | null;
}
