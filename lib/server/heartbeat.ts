/**
 * The server's per-connection heartbeat: Sente's application-level ping frame
 * (`["chsk/ws-ping", null]`) after `intervalMs` without a received frame, and a close with 4008
 * after `timeoutMs` without one. Any received frame counts (the Hub records `lastSeen` on every
 * frame), so busy connections are never pinged.
 *
 * The runtimes' own keepalives stay off (Deno `idleTimeout: 0`, Bun `idleTimeout: 0` and
 * `sendPings: false`): protocol-level pings reach browsers' JavaScript, which WebSocket control
 * frames never do, so both ends see the same liveness, and the timings live in one place, run on
 * the Hub's clock, and are tested in virtual time.
 *
 * @module
 */
import { Liveness } from "../util/liveness.ts";
import { CLOSE_HEARTBEAT_TIMEOUT } from "../protocol/close_codes.ts";
import type { ServerMessage } from "../protocol/envelope.ts";
import type { Clock } from "../util/clock.ts";

/** Server heartbeat timings. */
export interface HeartbeatOptions {
  /**
   * Send a ping after this long (ms) without a frame from the client.
   * @default {30000}
   */
  intervalMs?: number;
  /**
   * Close the connection (4008) and clean it up after this long (ms) without a frame.
   * @default {60000}
   */
  timeoutMs?: number;
}

/** The defaults of {@linkcode HeartbeatOptions}. */
export const HEARTBEAT_DEFAULTS: Required<HeartbeatOptions> = {
  intervalMs: 30_000,
  timeoutMs: 60_000,
};

/** Fills in defaults and range-checks; `false` stays `false` (no heartbeat). */
export function resolveHeartbeatOptions(
  options: HeartbeatOptions | false | undefined,
): Required<HeartbeatOptions> | false {
  if (options === false) return false;
  const o = {
    intervalMs: options?.intervalMs ?? HEARTBEAT_DEFAULTS.intervalMs,
    timeoutMs: options?.timeoutMs ?? HEARTBEAT_DEFAULTS.timeoutMs,
  };
  if (!Number.isInteger(o.intervalMs) || o.intervalMs < 1) {
    throw new RangeError(
      `ServerOptions.heartbeat.intervalMs must be a positive integer, got ${o.intervalMs}`,
    );
  }
  if (!Number.isInteger(o.timeoutMs) || o.timeoutMs <= o.intervalMs) {
    throw new RangeError(
      `ServerOptions.heartbeat.timeoutMs must be an integer > intervalMs (${o.intervalMs}), got ${o.timeoutMs}`,
    );
  }
  return o;
}

/** The part of a connection the heartbeat needs. */
export interface HeartbeatTarget {
  /** Clock time of the last received frame. */
  readonly lastSeen: number;
  /** Encodes, packs and sends one message. */
  send(message: ServerMessage): boolean;
  /** Closes the socket. */
  close(code: number, reason: string): void;
}

/** A running heartbeat; stop it when the connection closes. */
export interface Heartbeat {
  /** Stops the timer. */
  stop(): void;
}

/**
 * Starts the heartbeat of one connection. On timeout it closes the socket with 4008 and calls
 * `timedOut` at once, so the Hub cleans up without waiting for a dead peer's close handshake.
 */
export function startHeartbeat(
  clock: Clock,
  timing: Required<HeartbeatOptions>,
  target: HeartbeatTarget,
  timedOut: () => void,
): Heartbeat {
  const ping: ServerMessage = { type: "ping" };
  const liveness = new Liveness(clock, timing, {
    lastSeen: () => target.lastSeen,
    ping: () => void target.send(ping),
    dead: () => {
      target.close(CLOSE_HEARTBEAT_TIMEOUT, "heartbeat timeout");
      timedOut();
    },
  });
  liveness.start();
  return { stop: () => liveness.stop() };
}
