// This module is browser compatible.
/**
 * The client → server batch frame, a sente-lite extension event:
 *
 * ```
 * [["sente-lite/batch", [envelope, envelope, …]], null]
 * e.g. [["sente-lite/batch", [[["app/a",1],null], [["app/b",{"x":2}],"c1f00d"]]], null]
 * ```
 *
 * Each entry is exactly the envelope `[event, cbId | null]` the client would otherwise have sent
 * as its own frame, so the server decodes each with the dialect's own `decode` (same validation,
 * same errors, requests keep their callback ids) and any packer carries the batch. It is an
 * ordinary `sente-lite/` event, so a peer that did not negotiate batching never receives one.
 *
 * Server → client batches need no extension: they are Sente's push batch
 * `[[event, event, …], null]`, made by {@linkcode mergePushes}.
 *
 * @module
 */
import type { ServerMessage } from "../protocol/envelope.ts";
import type { Event } from "../protocol/event.ts";
import { ProtocolError } from "../protocol/errors.ts";

/** The event id of a client → server batch. */
export const BATCH_EVENT_ID = "sente-lite/batch";

/** The most entries a server accepts in one batch frame. */
export const MAX_BATCH_ENTRIES = 1000;

/** The envelope value of a client → server batch of `envelopes`. */
export function clientBatchEnvelope(envelopes: readonly unknown[]): unknown[] {
  return [[BATCH_EVENT_ID, envelopes], null];
}

/**
 * The entries of a client → server batch, or `null` when `value` is not a batch (decode it as a
 * single envelope then). Each entry must then go through the dialect's `decode`.
 * @throws {ProtocolError} `bad-request` when it is a batch of the wrong shape, or nested.
 */
export function decodeClientBatch(value: unknown): unknown[] | null {
  if (!Array.isArray(value) || !Array.isArray(value[0]) || value[0][0] !== BATCH_EVENT_ID) {
    return null;
  }
  const cbId = value.length > 1 ? value[1] : null;
  const entries = value[0][1];
  if (cbId !== null || !Array.isArray(entries) || entries.length === 0) {
    throw new ProtocolError(
      "bad-request",
      `${BATCH_EVENT_ID} takes a non-empty array of envelopes and no cbId`,
    );
  }
  if (entries.length > MAX_BATCH_ENTRIES) {
    throw new ProtocolError(
      "bad-request",
      `${BATCH_EVENT_ID} carries ${entries.length} entries, over ${MAX_BATCH_ENTRIES}`,
    );
  }
  for (const entry of entries) {
    if (Array.isArray(entry) && Array.isArray(entry[0]) && entry[0][0] === BATCH_EVENT_ID) {
      throw new ProtocolError("bad-request", `${BATCH_EVENT_ID} may not be nested`);
    }
  }
  return entries;
}

/** One Sente push batch carrying the events of `pushes`, in order. */
export function mergePushes(pushes: readonly Event[][]): ServerMessage {
  return { type: "push", events: pushes.flat() };
}
