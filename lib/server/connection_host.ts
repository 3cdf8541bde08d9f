/**
 * What the connections of one Hub share, and what a connection makes only on first use: the
 * interfaces {@linkcode Connection} (lib/server/connection.ts) is wired with, and `Rare`.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
import type { Connection } from "./connection.ts";
import type { Held } from "./backpressure.ts";

/** A server→client request waiting for its reply. */
export interface PendingRequest {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: TimerHandle;
  cleanup(): void;
}

/**
 * What every connection of one Hub shares (kept once, not per connection): its clock and close
 * timeout, where its socket's events go, and the answers to its slow consumer and close timeout.
 */
export interface ConnectionHost {
  /** The Hub's clock (bounds the flush before a close). */
  readonly clock: Clock;
  /** How long a close may take before the socket is dropped, in ms. */
  readonly closeTimeoutMs: number;
  /** One frame arrived on `conn`'s socket. */
  received(conn: Connection, frame: Frame): void;
  /** The runtime reported `conn`'s socket closed. */
  socketClosed(conn: Connection, code: number, reason: string): void;
  /** The connection is a slow consumer under the `"close"` policy. */
  closeSlow(conn: Connection): void;
  /** A close was not done within `closeTimeoutMs` (the Hub cleans up). */
  closeTimedOut(conn: Connection): void;
}

/**
 * What few connections ever need, made on first use (protocol errors, rate-limit refusals,
 * server→client requests, subscriptions, a close in progress): an idle connection holds none.
 */
export class Rare {
  protocolErrors = 0;
  violations = 0;
  lastViolationAt = 0;
  nextCbId = 1;
  closeCode: number | null = null;
  closeTimer: TimerHandle | null = null;
  channels: Set<string> | null = null;
  pending: Map<string, PendingRequest> | null = null;
  /** What the backpressure gate holds while the socket is full (lib/server/backpressure.ts). */
  held: Held | null = null;
}

/** The per-server fan-out queue, as a connection sees it (lib/server/fanout.ts). */
export interface FanOutBacklog {
  /** The number of the last queued fan-out; 0 while none waits. */
  readonly lastSeq: number;
  /** Sends `conn` every queued fan-out it is owed, in order. */
  settle(conn: Connection): void;
  /** Whether `conn` must wait to join `variant`'s native topics (it is joined when it may). */
  deferJoin(conn: Connection, variant: string): boolean;
  /** `conn` joined its variant's native topics. */
  nativeJoined(conn: Connection): void;
  /** `conn` left its variant's native topics. */
  nativeLeft(conn: Connection, variant: string): void;
  /** `conn` subscribed to `channel` (after it is in `conn.channels`). */
  channelJoined(conn: Connection, channel: string): void;
  /** `conn` is no longer subscribed to `channel` (`variant`: its variant then, if any). */
  channelLeft(conn: Connection, channel: string, variant: string | null): void;
}
