/**
 * A message as the delivery store and the channel logs keep it: the event and the ids it skips,
 * in the backplane's payload codec (lib/backplane/codec.ts).
 *
 * @module
 */
import { decodePayload } from "../backplane/codec.ts";
import type { Event } from "../protocol/event.ts";

/** A stored message: the event and whom it skips (connection and session ids). */
export interface StoredEvent {
  /** The event. */
  e: Event;
  /** The ids it skips, if any. */
  x?: string[];
}

/** The stored message in `payload`, or `null` when it is not one (not JSON, or no event). */
export function parseStored(payload: string): StoredEvent | null {
  try {
    const v = decodePayload(payload) as StoredEvent;
    return Array.isArray(v?.e) ? v : null;
  } catch {
    return null;
  }
}
