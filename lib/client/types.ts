// This module is browser compatible.
/**
 * The client's public types: handshake, state changes, handlers and their contexts, request
 * options, stats, the lifecycle event ids and the queue error.
 *
 * @module
 */
import { SenteLiteError } from "../protocol/errors.ts";
import type { Event } from "../protocol/event.ts";
import type { EventData } from "../protocol/event_map.ts";
import type { ResumeGap, ServerInfo } from "../protocol/handshake.ts";
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

/**
 * Handles a server push; `T` is the event's data type (from an `EventMap`, or `unknown`).
 *
 * @example
 * ```ts
 * import type { PushHandler } from "@sente-lite/sente-lite/client";
 *
 * const onNotice: PushHandler<string> = (text, { id }) => console.log(id, text.toUpperCase());
 * onNotice("hello", { id: "chat/notice", event: ["chat/notice", "hello"] });
 * ```
 */
export type PushHandler<T = unknown> = (data: T, context: PushContext) => void;

/**
 * Answers a server→client request; the return (or resolved) value is the reply. `T` and `R` are
 * the event's data and reply types (from an `EventMap`, or `unknown`).
 *
 * @example
 * ```ts
 * import type { RequestHandler } from "@sente-lite/sente-lite/client";
 *
 * const confirm: RequestHandler<{ question: string }, boolean> = ({ question }) => question !== "";
 * console.log(confirm({ question: "ok?" }, { id: "app/confirm", event: ["app/confirm", null] }));
 * ```
 */
export type RequestHandler<T = unknown, R = unknown> = (
  data: T,
  context: PushContext,
) => R | Promise<R>;

/** Context given to channel handlers. */
export interface ChannelContext {
  /** The channel id. */
  readonly channel: string;
  /** Connection id of the publisher, or `null` when the server published. */
  readonly from: string | null;
}

/**
 * Handles a channel message; `T` is the channel's data type (from an `EventMap`, or `unknown`).
 *
 * @example
 * ```ts
 * import type { ChannelHandler } from "@sente-lite/sente-lite/client";
 *
 * const onLine: ChannelHandler<{ text: string }> = ({ text }, { channel }) => console.log(channel, text);
 * onLine({ text: "hi" }, { channel: "room/1", from: null });
 * ```
 */
export type ChannelHandler<T = unknown> = (data: T, context: ChannelContext) => void;

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

/**
 * What {@linkcode Client.on} handlers of `id` receive: the lifecycle events' own types
 * ({@linkcode Handshake}, {@linkcode StateChange}, {@linkcode ResubscribeFailure}, `ResumeGap`),
 * else the data of the server→client event `K` of the event map `E`.
 *
 * @example
 * ```ts
 * import type { PushData, StateChange } from "@sente-lite/sente-lite/client";
 *
 * const change: PushData<unknown, "chsk/state"> = { from: "open", to: "closed", reason: "test" };
 * console.log((change satisfies StateChange).to);
 * ```
 */
export type PushData<E, K extends string> = K extends typeof HANDSHAKE_EVENT ? Handshake
  : K extends typeof STATE_EVENT ? StateChange
  : K extends typeof RESUBSCRIBE_FAILED_EVENT ? ResubscribeFailure
  : K extends "sente-lite/gap" ? ResumeGap
  : EventData<E, "serverToClient", K>;
