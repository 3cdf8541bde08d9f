// This module is browser compatible.
/**
 * The stream session name (docs/streaming.md §12): the random name under which the server keeps a
 * client's streams across reconnects. Whoever presents it (with the same user and client id)
 * takes the session's streams over, so it is treated as a secret.
 *
 * - It travels as the subprotocol `sente-lite.streams.<name>` next to `sente-lite`, like the resume
 *   token, so it stays out of URLs and access logs. The server selects `sente-lite` and never
 *   echoes the name.
 * - The `streams=<name>` query parameter of older clients is still read (deprecated: it leaks the
 *   name into URLs).
 * - A name is 1 to 64 token characters (RFC 7230 `tchar`, as a subprotocol entry must be); our
 *   client sends 32 lowercase hex digits (128 random bits).
 *
 * @module
 */
import { readProtocolEntry } from "./token.ts";

/** The prefix of the subprotocol entry that names the stream session. */
export const STREAMS_PROTOCOL_PREFIX = "sente-lite.streams.";
/** The longest stream session name a server accepts. */
export const MAX_STREAM_SESSION_LENGTH = 64;

const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

/** The subprotocol entry that offers the stream session `name` on an upgrade. */
export function streamsProtocol(name: string): string {
  return STREAMS_PROTOCOL_PREFIX + name;
}

/** The stream session name among offered subprotocols, or `null` when none is well-formed. */
export function readStreamSession(protocols: readonly string[]): string | null {
  return readProtocolEntry(protocols, STREAMS_PROTOCOL_PREFIX, isName);
}

function isName(value: string): boolean {
  return NAME.test(value);
}
