// This module is browser compatible.
/**
 * The sente-lite dialect: Sente 1.21's envelope plus `sente-lite/*` extension events
 * (`docs/PROTOCOL.md`).
 *
 * @module
 */
import { decodeClientEnvelope, serverEnvelope, type ServerMessage } from "../protocol/envelope.ts";
import type { ProtocolError } from "../protocol/errors.ts";
import type { ServerDialect } from "./dialect.ts";

/** The `sente-lite/error` push for a protocol error (with `cb-id` when it answers a request). */
export function errorEvent(error: ProtocolError): ServerMessage {
  const body: Record<string, unknown> = { code: error.code, message: error.message };
  if (error.cbId !== null) body["cb-id"] = error.cbId;
  return { type: "push", events: [["sente-lite/error", body]] };
}

/** Our own dialect: one envelope per frame, errors as `sente-lite/error` events. */
export const senteLiteDialect: ServerDialect = {
  name: "sente-lite",
  decode: decodeClientEnvelope,
  encode: (message) => [serverEnvelope(message)],
  errorMessage: errorEvent,
};
