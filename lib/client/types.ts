// This module is browser compatible.
/**
 * The client's public types: handshake, state changes, handlers and their contexts, request
 * options, stats, the lifecycle event ids and the queue error.
 *
 * @module
 */
import { SenteLiteError } from "../protocol/errors.ts";
import type { Event } from "../protocol/event.ts";
import type { ServerInfo } from "../protocol/handshake.ts";
import type { ConnectionState } from "./session.ts";

/** What the server said in its handshake. */
export interface Handshake {
  /** The uid the server gave this connection (`"sente/nil-uid"` when anonymous). */
  readonly uid: string;
  /** The application's handshake data (without the `sente-lite` entry). */
  readonly data: Record<string, unknown> | null;
  /** sente-lite server facts, or `null` for a plain Sente server. */
  readonly server: ServerInfo | null;
  /** `true` for the first handshake of this client (Sente's `first-handshake?`); `false` on reconnects. */
  readonly first: boolean;
}

/** A state change. */
export interface StateChange {
  /** The previous state. */
  readonly from: ConnectionState;
  /** The new state. */
  readonly to: ConnectionState;
  /** Why (e.g. `"handshake"`, `"close 1001 going away"`, `"close() called"`). */
  readonly reason: string;
  /** The close code, when a close caused the change. */
  readonly code?: number;
  /** When entering or staying in `reconnecting`: the delay before the next attempt, in ms. */
  readonly retryInMs?: number;
  /** When entering or staying in `reconnecting`: the number of the next attempt (1 for the first). */
  readonly attempt?: number;
}

/** A channel the client could not subscribe to again after a reconnect. */
export interface ResubscribeFailure {
  /** The channel id; its handlers have been dropped. */
  readonly channel: string;
  /** Why the server refused. */
  readonly error: Error;
}

/** Context given to push handlers. */
export interface PushContext {
  /** The event id. */
  readonly id: string;
  /** The event `[id, data]`. */
  readonly event: Event;
}

/** Handles a server push. */
export type PushHandler = (data: unknown, context: PushContext) => void;

/** Answers a server→client request; the return (or resolved) value is the reply. */
export type RequestHandler = (data: unknown, context: PushContext) => unknown;

/** Context given to channel handlers. */
export interface ChannelContext {
  /** The channel id. */
  readonly channel: string;
  /** Connection id of the publisher, or `null` when the server published. */
  readonly from: string | null;
}

/** Handles a channel message. */
export type ChannelHandler = (data: unknown, context: ChannelContext) => void;

/** Options of {@linkcode Client.request}. */
export interface ClientRequestOptions {
  /** Reject with `TimeoutError` after this many ms (default: `requestTimeoutMs`). */
  timeoutMs?: number;
  /** Aborting rejects the request with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Send again after a reconnect if the connection drops before the reply (default:
   * `retryRequests`). Only for idempotent requests.
   */
  retry?: boolean;
}

/** Whether a send went out now or waits in the queue for the connection to open. */
export type SendResult = "sent" | "queued";

/** Client counters. */
export interface ClientStats {
  /** Frames received. */
  messagesIn: number;
  /** Frames sent. */
  messagesOut: number;
  /** Replies that arrived after their request had settled. */
  lateReplies: number;
  /** Connection attempts made (the first included). */
  attempts: number;
  /** Handshakes received after the first. */
  reconnects: number;
  /** Numbered server pushes dropped as duplicates (resume). */
  duplicatesDropped: number;
  /** `send()` events sent again after a reconnect because the server had not acknowledged them. */
  resent: number;
}

/** A send that found the queue full while the client was not open. */
export class QueueFullError extends SenteLiteError {
  /** Makes the error. */
  constructor(message: string) {
    super("queue-full", message);
    this.name = "QueueFullError";
  }
}

/** Events delivered by {@linkcode Client.on} besides server pushes. */
export const HANDSHAKE_EVENT = "chsk/handshake";
/** The state-change event id (data: {@linkcode StateChange}). */
export const STATE_EVENT = "chsk/state";
/** Reported when a channel could not be re-subscribed after a reconnect (data: {@linkcode ResubscribeFailure}). */
export const RESUBSCRIBE_FAILED_EVENT = "chsk/resubscribe-failed";
