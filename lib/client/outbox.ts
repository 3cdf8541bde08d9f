// This module is browser compatible.
/**
 * The client's outbound buffers: the send queue (frames waiting for a socket while connecting or
 * reconnecting) and the resume outbox (numbered sends written and not yet acknowledged). Plain
 * arrays and functions over them; the client owns the arrays.
 *
 * Guarantees:
 * - The queue never grows past `maxQueuedMessages`; a full queue throws `QueueFullError`.
 * - After a drop, retried requests and unacknowledged sends go again in call order, before
 *   anything queued since.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import { ClosedError } from "../protocol/errors.ts";
import type { Event } from "../protocol/event.ts";
import type { ConnectionState } from "./session.ts";
import { QueueFullError, type SendResult } from "./types.ts";

/** A frame in the send queue or the outbox. */
export interface Queued {
  frame: Frame;
  /** Set when the request it belongs to settled before it was sent. */
  cancelled: boolean;
  /** The request's callback id, for requests. */
  cb?: string;
  /** The client seq of a numbered `send()` (resume). */
  seq?: number;
  /** The event of a numbered send, to send it plainly to a server without resume. */
  event?: Event;
  /** When it was last written (a counter), to re-send in call order after a drop. */
  order?: number;
}

/**
 * Queues `entry` while the client is `connecting` or `reconnecting`.
 * @throws {QueueFullError} when `max` entries are queued already.
 * @throws {ClosedError} in any other state, or when queueing is off (`max` 0).
 */
export function enqueue(
  queue: Queued[],
  entry: Queued,
  state: ConnectionState,
  max: number,
): SendResult {
  if (state === "connecting" || state === "reconnecting") {
    if (max === 0) throw new ClosedError(`the client is ${state} and queueing is off`);
    if (queue.length >= max) {
      throw new QueueFullError(`the client is ${state} and the send queue is full (${max})`);
    }
    queue.push(entry);
    return "queued";
  }
  throw new ClosedError(`the client is ${state}`);
}

/**
 * The queue after a drop: `again` (requests that retry, written on the lost socket) and the
 * unacknowledged `outbox` go first, in the order they were written.
 */
export function requeue(again: Queued[], outbox: Queued[], queue: Queued[]): Queued[] {
  if (outbox.length) {
    again.push(...outbox);
    again.sort((a, b) => a.order! - b.order!);
  }
  return again.length ? [...again, ...queue] : queue;
}
