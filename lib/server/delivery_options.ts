/**
 * The settings of delivery (`ServerOptions.delivery`, `docs/delivery.md`): buffer bounds, TTL,
 * acknowledgement pacing, and the constants by which a client opts in to resume.
 *
 * @module
 */

/** The capability name announced in the handshake when resume is on for a connection. */
export const CAP_RESUME = "resume";
/** The upgrade query parameter by which a client opts in: `resume=<last server seq it has>`. */
export const RESUME_PARAM = "resume";
/**
 * Close code for a connection replaced by a newer one of the same session, which proved it holds
 * the session's resume token (an application "client error" code: a client that still reads it
 * stops instead of fighting for the session).
 */
export const CLOSE_SUPERSEDED = 4409;

/**
 * Bytes charged per buffered message on top of its size, for the entry and the event's objects in
 * memory (measured: ~160 B of heap for a 20-byte event), so `maxBytes` bounds memory also when
 * messages are tiny.
 */
export const ENTRY_BYTES = 128;

/** Buffering and resume settings (`ServerOptions.delivery`). */
export interface DeliveryOptions {
  /**
   * Messages one buffer keeps: the un-acknowledged messages of a session, or the messages held
   * for a uid without connections. The oldest go first. A backstop: `maxBytes` is the real bound
   * (size buffers by rate × (reconnect time + ack delay) × message size, docs/delivery.md).
   * @default {10000}
   */
  maxMessages?: number;
  /**
   * Bytes one buffer keeps: each message's packed frame size (JSON size for messages held offline)
   * plus {@linkcode ENTRY_BYTES}. All buffers together are bounded by `maxTotalBytes`.
   * @default {1048576}
   */
  maxBytes?: number;
  /**
   * Bytes all session and offline buffers keep together (counted like `maxBytes`): the memory
   * bound of delivery. A message that would pass it first trims the oldest messages of the
   * largest disconnected session or offline buffer (reported as `overflow`); only when those hold
   * nothing, the largest connected session's (already written to its socket).
   * @default {67108864}
   */
  maxTotalBytes?: number;
  /**
   * How long (ms) a disconnected session keeps its messages, and how long a message waits in a
   * uid's offline buffer.
   * @default {300000}
   */
  ttlMs?: number;
  /**
   * Sessions kept at most (connected, disconnected or expired), and separately offline buffers
   * kept at most; beyond it the least recently used is evicted (its messages reported).
   * @default {10000}
   */
  maxSessions?: number;
  /**
   * Disconnected sessions (parked: without a live connection, expired ones too) kept at most per
   * client IP (IPv6 by its /64, as the per-IP byte budget). Beyond it the IP's own oldest parked
   * session is evicted (reported as `evicted`, like `maxSessions`), never another IP's: a peer
   * that churns fresh resume sessions cannot push honest clients' sessions out of `maxSessions`.
   * Clients behind one NAT share it, and a blip of their network parks all of them at once: 256
   * covers an office of ~100 people with two or three tabs each (every tab is a session). Behind a
   * reverse proxy, pass the client's address to `server.handler(request, info)`, or raise this to
   * `maxSessions` (no per-IP cap), else every client shares the proxy's. Connections without a
   * known address are not capped.
   * @default {256}
   */
  maxParkedPerIp?: number;
  /**
   * Bytes (counted like `maxBytes`) of kept channel and broadcast messages one channel-seq
   * connection is replayed at most, over all its streams: a resumed session re-subscribing with
   * old cursors gets the newest that fit, the rest told as an `overflow` gap. Without it one
   * reconnect replayed every log it kept (up to `maxTotalBytes`, measured 128 ms of server CPU for
   * 60 kept channels), again on every reconnect. The default is `maxBytes`, what one session's
   * buffer keeps for a client that does not negotiate channel sequences.
   * @default {1048576}
   */
  maxReplayBytes?: number;
  /**
   * The server acknowledges a client's sequenced messages after this many.
   * @default {16}
   */
  ackEvery?: number;
  /**
   * …or this long (ms) after the first one not yet acknowledged.
   * @default {50}
   */
  ackDelayMs?: number;
}

/** The defaults of {@linkcode DeliveryOptions}. */
export const DELIVERY_DEFAULTS: Readonly<Required<DeliveryOptions>> = Object.freeze({
  maxMessages: 10_000,
  maxBytes: 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  ttlMs: 5 * 60_000,
  maxSessions: 10_000,
  maxParkedPerIp: 256,
  maxReplayBytes: 1024 * 1024,
  ackEvery: 16,
  ackDelayMs: 50,
});

/** Fills in defaults and range-checks; `false` stays `false` (no buffering, no resume). */
export function resolveDelivery(
  options: DeliveryOptions | false | undefined,
): Required<DeliveryOptions> | false {
  if (options === false) return false;
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`ServerOptions.delivery must be an object or false, got ${options}`);
  }
  const o = { ...DELIVERY_DEFAULTS, ...options };
  for (const k of Object.keys(DELIVERY_DEFAULTS) as (keyof DeliveryOptions)[]) {
    const v = o[k];
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`ServerOptions.delivery.${k} must be a positive integer, got ${v}`);
    }
  }
  return o;
}

/** Reads the `resume` upgrade parameter: the client's last server seq, or `null` (no resume). */
export function parseResumeParam(value: string | null): number | null {
  if (value === null || !/^[0-9]{1,15}$/.test(value)) return null;
  return Number(value);
}
