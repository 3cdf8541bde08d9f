/**
 * Public types of the server: event messages, handlers, connection info and stats.
 *
 * @module
 */
import type { ServerStreamStats } from "./streams.ts";
import type { Event } from "../protocol/event.ts";
import type { DeliveryCounters } from "./delivery.ts";
import type { WireTotals } from "./wire.ts";

/** A connection as applications see it. */
export interface ConnectionInfo {
  /** Server-made connection id (unique per server). */
  readonly id: string;
  /** The user id from `authenticate`, or `"sente/nil-uid"`. */
  readonly uid: string;
  /**
   * The client id the client sent (kept across its reconnects). Self-declared: any peer can send
   * any, so it identifies nothing on its own (use `uid`).
   */
  readonly clientId: string;
  /** The packer name of this connection. */
  readonly packer: string;
  /**
   * The client's address, as the server's `clientIp` resolved it (the TCP peer's by default;
   * behind a proxy, what `forwardedClientIp` read); `null` when the runtime did not say.
   */
  readonly remoteIp: string | null;
  /** When the handshake was sent (clock ms). */
  readonly openedAt: number;
  /**
   * The upgrade request's URL (query included) as a Request without headers or body: the
   * runtime's Request is not kept for the connection's life. Read headers in `authenticate` or
   * `handshakeData`.
   */
  readonly request: Request;
}

/** Options of sends that expect a reply. */
export interface RequestOptions {
  /** Reject with `TimeoutError` after this many ms. */
  timeoutMs?: number;
  /** Abort the wait (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * What a handler receives for one inbound event (Sente's server event-msg).
 *
 * - `reply` exists only when the client sent a callback id; the first reply wins, later ones are
 *   ignored (and counted in `stats().repliesIgnored`). A handler may also just return (or resolve)
 *   a value: it is sent as the reply.
 */
export interface EventMessage<T = unknown, R = unknown> {
  /** `[id, data]`. */
  readonly event: Event<T>;
  /** The event id. */
  readonly id: string;
  /** The event data. */
  readonly data: T;
  /** The sender's uid. */
  readonly uid: string;
  /** The sender's client id (self-declared: not a credential). */
  readonly clientId: string;
  /** The sender's connection id. */
  readonly connId: string;
  /** The sender's connection. */
  readonly connection: ConnectionInfo;
  /** Replies to a request; returns `false` if already replied or the connection closed. */
  readonly reply?: (value: R) => boolean;
  /**
   * The idempotency key of a numbered client event: present for every `send()` of a sente-lite
   * client that resumes (its events are numbered), `undefined` for everything else (requests,
   * Sente and original peers, `resume: false`, `delivery: false`). The same event has the same
   * key on every node of a cluster, also when a node died after running the handler and the
   * client re-sent it to another node: use it to make the handler's effect happen once.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const done = new Set<string>(); // in production: the database the effect goes to
   * const server = createServer();
   * server.on("order/place", (msg) => {
   *   const key = msg.delivery?.key;
   *   if (key !== undefined && done.has(key)) return; // handled before, maybe on another node
   *   // …the effect, and `key` recorded with it (one transaction, or `SET key 1 NX`)…
   *   if (key !== undefined) done.add(key);
   * });
   * ```
   */
  readonly delivery?: EventDelivery;
  /**
   * Pushes an event to the sender's connection. Untyped even with an `EventMap` (so handlers can
   * keep the plain `EventMessage` type); for a typed push use `server.sendTo(msg.connId, …)`.
   */
  send(id: string, data?: unknown): boolean;
}

/**
 * Where a numbered client event sits in its client's resume session (docs/delivery.md,
 * "Exactly-once effects"): `key` names the event across the whole cluster and for as long as the
 * session lives. No part of it is secret: `session` is the lookup half of the resume token,
 * never the secret that opens the session.
 */
export interface EventDelivery {
  /**
   * `"<session>:<seq>"`, e.g. `"3f9c0a7e5b21d4c8:42"`. Made by the server (a client picks only its
   * seq, inside its own session), so no client can make another session's key.
   */
  readonly key: string;
  /** The resume session's id: 16 hex digits, random (64 bits), the same on every node. */
  readonly session: string;
  /** The event's number in the session: 1, 2, 3… in the order the client called `send()`. */
  readonly seq: number;
}

/**
 * An event handler. Its return value (or resolved value), if not `undefined`, is the reply. `T`
 * and `R` are the event's data and reply types (from an `EventMap`, or `unknown`).
 *
 * @example
 * ```ts
 * import type { EventHandler } from "@sente-lite/sente-lite/server";
 *
 * const echo: EventHandler<{ text: string }, string> = (msg) => msg.data.text;
 * console.log(typeof echo);
 * ```
 */
export type EventHandler<T = unknown, R = unknown> = (
  message: EventMessage<T, R>,
) => R | void | undefined | Promise<R | void | undefined>;

/** Counters of one server (the delivery counters are described in docs/delivery.md). */
export interface ServerStats extends DeliveryCounters {
  /** Batching, compression and chunking counters (docs/wire.md); zero when nothing negotiated. */
  wire: WireTotals;
  /** Stream counters (docs/streaming.md), absent when streams are off. */
  streams?: ServerStreamStats;
  /** Open connections. */
  connections: number;
  /**
   * Upgrades admitted (past the connection limits) whose socket has not opened yet; they count
   * against `maxConnections` and `maxConnectionsPerIp` like open connections.
   */
  pendingUpgrades: number;
  /** Connected uids. */
  uids: number;
  /** Channels with at least one subscriber. */
  channels: number;
  /** Frames received. */
  messagesIn: number;
  /** Frames sent. */
  messagesOut: number;
  /** Bytes received (UTF-8 for text frames). */
  bytesIn: number;
  /** Bytes sent. */
  bytesOut: number;
  /** Replies ignored because one had already been sent. */
  repliesIgnored: number;
  /** Inbound frames of at least `largeMessageBytes`. */
  largeMessages: number;
  /** Protocol errors by code. */
  errors: Record<string, number>;
  /** Bytes queued in the runtime's sockets and not yet written (the send queue depth). */
  bufferedBytes: number;
  /** Bytes held by sente-lite's backpressure queues (policy `"drop-oldest"`). */
  queuedBytes: number;
  /**
   * Fan-outs (broadcasts, channel publishes, pushes to a uid) waiting in the queue for their turn:
   * past `fanOutSlice` recipients, or past `nativeTurnMs` of native publishes in one event-loop
   * turn, the rest go out in the next turns (docs/wire.md §9).
   */
  fanOutsQueued: number;
  /** Frames dropped for slow consumers (policy `"drop-oldest"`). */
  droppedFrames: number;
  /** Connections closed as slow consumers (policy `"close"`, code 1013). */
  slowConsumerCloses: number;
  /**
   * Bytes held by delivery buffers (resume sessions and offline buffers, counted like
   * `delivery.maxBytes`); at most `delivery.maxTotalBytes`.
   */
  deliveryBytes: number;
  /**
   * Numbered pushes written to open connections and not yet acknowledged by their clients
   * (`sente-lite/ack`, resume sessions on this node; 0 on a node of a cluster, whose books are the
   * store's). A graceful drain waits for 0 before closing, so no acknowledgement crosses the close.
   */
  unacknowledged: number;
}

/**
 * Watches a server for metrics (see the `./lifecycle` entrypoint); add one with `observe()`.
 * Every method is optional; one that throws is reported to `onError`.
 */
export interface ServerObserver {
  /** A connection sent its handshake. */
  open?(connection: ConnectionInfo): void;
  /** A connection closed and was cleaned up. */
  close?(connection: ConnectionInfo, code: number, reason: string): void;
  /** An event with a callback id reached its handlers. */
  request?(connection: ConnectionInfo, id: string): void;
  /** The first reply to a request was sent, `latencyMs` (clock ms) after it arrived. */
  reply?(connection: ConnectionInfo, id: string, latencyMs: number): void;
}
