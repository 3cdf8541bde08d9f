// This module is browser compatible.
/**
 * The resume token (docs/PROTOCOL.md §8): the secret that lets a client resume its delivery
 * session. A client id is no credential (anyone can send any); only the token's holder resumes.
 *
 * - The server issues a new token in every handshake that has a `"resume"` entry; the client keeps
 *   the newest and offers it on its next upgrade.
 * - It travels as the subprotocol `sente-lite.resume.<token>` next to `sente-lite`, so it stays out
 *   of URLs and access logs (browsers cannot set other headers on an upgrade).
 * - Its form is 48 lowercase hex digits: 16 name the session (for the lookup), 32 are a 128-bit
 *   secret that the server compares in constant time. Clients treat it as opaque.
 *
 * @module
 */
import { randomHex } from "../util/ids.ts";
import { randomSecret } from "../util/secret.ts";
import { readProtocolEntry } from "./token.ts";

/** The prefix of the subprotocol entry that carries a resume token. */
export const RESUME_PROTOCOL_PREFIX = "sente-lite.resume.";
/** Hex digits of the session id at the head of a token. */
export const SESSION_ID_LENGTH = 16;

const TOKEN = /^[0-9a-f]{48}$/;

/** A session id and its secret, as read from a token. */
export interface ResumeToken {
  /** The session it names (not secret: only a lookup key). */
  readonly sessionId: string;
  /** The 128-bit secret, compared in constant time. */
  readonly secret: string;
}

/** A fresh random session id. */
export function newSessionId(): string {
  return randomHex(SESSION_ID_LENGTH);
}

/** A fresh token for `sessionId` (a new secret every call). */
export function newResumeToken(sessionId: string): ResumeToken {
  return { sessionId, secret: randomSecret() };
}

/** The wire form of a token: the session id followed by the secret. */
export function formatResumeToken(token: ResumeToken): string {
  return token.sessionId + token.secret;
}

/** Reads a token's wire form; `null` when it is not one. */
export function parseResumeToken(value: string): ResumeToken | null {
  if (!TOKEN.test(value)) return null;
  return { sessionId: value.slice(0, SESSION_ID_LENGTH), secret: value.slice(SESSION_ID_LENGTH) };
}

/** The subprotocol entry that offers `token` (its wire form) on an upgrade. */
export function resumeProtocol(token: string): string {
  return RESUME_PROTOCOL_PREFIX + token;
}

/** The resume token (wire form) among offered subprotocols, or `null` when none is well-formed. */
export function readResumeToken(protocols: readonly string[]): string | null {
  return readProtocolEntry(protocols, RESUME_PROTOCOL_PREFIX, isToken);
}

function isToken(value: string): boolean {
  return TOKEN.test(value);
}
