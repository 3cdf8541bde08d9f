/**
 * The per-connection and per-IP rate limits (`ServerOptions.rateLimit`) and their defaults.
 *
 * @module
 */
import type { Rate } from "./rate_limit.ts";

/** Per-connection rate limits (token buckets). */
export interface RateLimitOptions {
  /**
   * Inbound messages per connection: a frame, or each entry of a client batch
   * (`sente-lite/batch`, refused whole when its entries are over the budget).
   * @default {perSecond: 2000, burst: 4000}
   */
  messages?: Rate;
  /**
   * Inbound messages per remote IP, across all its connections (counted as `messages` is), and
   * outliving them until refilled, so reconnecting does not buy a fresh budget. Without it one
   * address could send `messages` on each of its `maxConnectionsPerIp` connections (1000 × 2000 a
   * second). Past it any of the IP's connections gets `rate-limited` for the frame (and 4029
   * after `maxViolations`), as over its own rate. IPv6 addresses count by their /64; connections
   * without a known address are not limited; at most 10,000 IPs without connections are kept.
   * Behind a proxy every client has the proxy's IP: raise it or use `false`. `false`: none.
   * @default {perSecond: 20000, burst: 40000}
   */
  messagesPerIp?: Rate | false;
  /**
   * Inbound bytes per connection.
   * @default {perSecond: 16777216, burst: 33554432}
   */
  bytes?: Rate;
  /**
   * Inflated bytes per remote IP, across all its connections and outliving them, so reconnecting
   * does not buy a fresh budget; charged alongside `bytes`. While the IP is in debt its compressed
   * messages are refused (`rate-limited`) before inflating; raw frames are not affected. IPv6
   * addresses count by their /64. At most 10,000 IPs are tracked (least recently charged dropped
   * first, and any once refilled). `false`: none. Behind a proxy every client has the proxy's IP.
   * @default {perSecond: 16777216, burst: 67108864}
   */
  bytesPerIp?: Rate | false;
  /**
   * Subscriptions to presence channels (the `presence` option) per remote IP, across all its
   * connections and outliving them: each join, and the leave that follows it, is one push to
   * every other subscriber of the channel, in the whole cluster, so a client allowed only to
   * subscribe made the server push at its frame rate (measured: 2000 frames → 400,000 pushes to
   * 200 listeners). A `sente-lite/presence` request (the member list, as long as the channel)
   * takes a token too. Past it the subscribe or request is answered `{"success": false, "error":
   * "rate-limited"}` (counted `rate-limited`). IPv6 by its /64; connections without a known
   * address are not limited. `false`: none.
   * @default {perSecond: 20, burst: 200}
   */
  presenceJoinsPerIp?: Rate | false;
  /**
   * WebSocket upgrades (handshakes) per remote IP, counted as they arrive, before any other check:
   * each costs handshake CPU (store calls on a cluster) and a resumed session's replay (up to
   * `delivery.maxReplayBytes`), and nothing else limits how often one address reconnects. Past it
   * the upgrade is answered HTTP 429 with `Retry-After` (counted `too-many-upgrades`). The burst
   * covers a page opening many sockets, a test suite on 127.0.0.1, and an office behind one NAT
   * reconnecting after a restart; our client's reconnect backoff stays far below the rate. IPv6
   * by its /64; at most 10,000 IPs tracked (least recently used dropped first, any once
   * refilled); connections without a known address are not limited. Behind a proxy every client
   * has the proxy's IP: raise it or use `false`. `false`: none.
   * @default {perSecond: 20, burst: 500}
   */
  upgradesPerIp?: Rate | false;
  /**
   * Frames refused (each answered with a `rate-limited` error event) before the connection is
   * closed with 4029. The count starts again only once the peer backed off: `backoffMs` without a
   * refused frame; frames accepted in between do not reset it (a peer sending at full speed gets
   * one frame through per refill and would otherwise never be closed).
   * @default {50}
   */
  maxViolations?: number;
  /**
   * How long (ms) a peer must send nothing over the rate before its refusal count is reset.
   * @default {1000}
   */
  backoffMs?: number;
}

/** The defaults of {@linkcode RateLimitOptions}. */
export const RATE_LIMIT_DEFAULTS: Required<RateLimitOptions> = {
  messages: { perSecond: 2000, burst: 4000 },
  messagesPerIp: { perSecond: 20_000, burst: 40_000 },
  bytes: { perSecond: 16 * 1024 * 1024, burst: 32 * 1024 * 1024 },
  bytesPerIp: { perSecond: 16 * 1024 * 1024, burst: 64 * 1024 * 1024 },
  presenceJoinsPerIp: { perSecond: 20, burst: 200 },
  upgradesPerIp: { perSecond: 20, burst: 500 },
  maxViolations: 50,
  backoffMs: 1000,
};

/** Fills in defaults and range-checks. */
export function resolveRateLimit(options: RateLimitOptions): Required<RateLimitOptions> {
  const o = { ...RATE_LIMIT_DEFAULTS, ...options };
  positiveInt("rateLimit.maxViolations", o.maxViolations);
  positiveInt("rateLimit.backoffMs", o.backoffMs);
  return o;
}

function positiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`ServerOptions.${name} must be a positive integer, got ${value}`);
  }
}
