// This module is browser compatible.
/**
 * Client options and their defaults, in one place.
 *
 * @module
 */
import type { Packer } from "../packers/packer.ts";
import { jsonPacker } from "../packers/json.ts";
import type { Clock } from "../util/clock.ts";
import { realClock } from "../util/clock.ts";
import {
  type BackoffOptions,
  resolveBackoffOptions,
  type ResolvedBackoffOptions,
} from "./backoff.ts";

/** A URL, or an (async) function giving one; functions are called on every connection attempt. */
export type UrlProvider = string | URL | (() => string | URL | Promise<string | URL>);

/** The WebSocket constructor the client uses (the standard one by default). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/** When and how the client reconnects after losing its connection. */
export interface ReconnectOptions extends BackoffOptions {
  /**
   * Reconnect attempts after a loss before the client gives up and goes to `failed`.
   * @default {Infinity}
   */
  maxAttempts?: number;
  /**
   * A connection must stay open this long (ms) before the attempt counter starts again from 0,
   * so a server that accepts and drops at once still meets a growing backoff.
   * @default {5000}
   */
  minUptimeMs?: number;
}

/** Client-side liveness: detects a half-open connection without help from the server. */
export interface ClientHeartbeatOptions {
  /**
   * After this long (ms) without a received frame the client sends its own ping. 0 never pings.
   * @default {35000}
   */
  intervalMs?: number;
  /**
   * After this long (ms) without a received frame the connection counts as dead: it is closed
   * with 4008 and the client reconnects. 0 never times out.
   * @default {50000}
   */
  timeoutMs?: number;
}

/** Options of {@linkcode connect}. */
export interface ClientOptions {
  /**
   * This client's id, sent as `client-id`; kept across reconnects.
   * @default {crypto.randomUUID()}
   */
  clientId?: string;
  /**
   * The packer; its name is sent as the `packer` parameter.
   * @default {jsonPacker}
   */
  packer?: Packer;
  /**
   * Extra query parameters on the upgrade URL.
   * @default {{}}
   */
  params?: Record<string, string>;
  /**
   * Default timeout of `request()`, in ms.
   * @default {10000}
   */
  requestTimeoutMs?: number;
  /**
   * Messages queued while not open (flushed in order after the handshake); 0 disables the
   * queue, so sends while not open throw `ClosedError`.
   * @default {1000}
   */
  maxQueuedMessages?: number;
  /**
   * Called with errors the server reports without a request to reject (`sente-lite/error`
   * frames) and with errors thrown by handlers.
   * @default {console.warn}
   */
  onError?: (error: Error) => void;
  /**
   * The WebSocket constructor.
   * @default {globalThis.WebSocket}
   */
  WebSocket?: WebSocketConstructor;
  /**
   * Time source for timeouts, backoff and liveness.
   * @default {realClock}
   */
  clock?: Clock;
  /**
   * Reconnection after an unexpected close; `false` never reconnects (a lost connection goes to
   * `failed`).
   * @default {{ initialDelayMs: 1000, maxDelayMs: 30000, factor: 2, jitter: 0.25, maxAttempts: Infinity, minUptimeMs: 5000 }}
   */
  reconnect?: ReconnectOptions | false;
  /**
   * Client-side liveness; `false` turns it off (the server's heartbeat still runs).
   * @default {{ intervalMs: 35000, timeoutMs: 50000 }}
   */
  heartbeat?: ClientHeartbeatOptions | false;
  /**
   * An attempt that has no handshake after this long (ms) is abandoned and retried.
   * @default {10000}
   */
  connectTimeoutMs?: number;
  /**
   * Requests in flight when the connection drops are sent again after the next handshake instead
   * of rejecting with `ClosedError` (their timeout keeps running). Per call: `request(…, { retry })`.
   * Only for idempotent requests: the server may have handled the first copy.
   * @default {false}
   */
  retryRequests?: boolean;
  /**
   * Source of randomness for the backoff jitter, returning numbers in [0, 1).
   * @default {Math.random}
   */
  random?: () => number;
}

/** Reconnect options with every default filled in. */
export interface ResolvedReconnectOptions extends ResolvedBackoffOptions {
  /** See {@linkcode ReconnectOptions.maxAttempts}. */
  maxAttempts: number;
  /** See {@linkcode ReconnectOptions.minUptimeMs}. */
  minUptimeMs: number;
}

/** Options with every default filled in. */
export type ResolvedClientOptions =
  & Required<Omit<ClientOptions, "reconnect" | "heartbeat">>
  & { reconnect: ResolvedReconnectOptions; heartbeat: Required<ClientHeartbeatOptions> };

function nonNegative(name: string, value: number): void {
  if (!(value >= 0)) throw new RangeError(`${name} must be >= 0, got ${value}`);
}

function resolveReconnect(options: ReconnectOptions | false | undefined): ResolvedReconnectOptions {
  const r = options === false ? { maxAttempts: 0 } : options ?? {};
  const o: ResolvedReconnectOptions = {
    ...resolveBackoffOptions(r),
    maxAttempts: r.maxAttempts ?? Infinity,
    minUptimeMs: r.minUptimeMs ?? 5000,
  };
  if (!(o.maxAttempts === Infinity || (Number.isInteger(o.maxAttempts) && o.maxAttempts >= 0))) {
    throw new RangeError(`reconnect.maxAttempts must be an integer >= 0, got ${o.maxAttempts}`);
  }
  nonNegative("reconnect.minUptimeMs", o.minUptimeMs);
  return o;
}

function resolveHeartbeat(
  options: ClientHeartbeatOptions | false | undefined,
): Required<ClientHeartbeatOptions> {
  if (options === false) return { intervalMs: 0, timeoutMs: 0 };
  const o = { intervalMs: options?.intervalMs ?? 35_000, timeoutMs: options?.timeoutMs ?? 50_000 };
  nonNegative("heartbeat.intervalMs", o.intervalMs);
  nonNegative("heartbeat.timeoutMs", o.timeoutMs);
  if (o.timeoutMs > 0 && o.intervalMs >= o.timeoutMs) {
    throw new RangeError(
      `heartbeat.intervalMs (${o.intervalMs}) must be below heartbeat.timeoutMs (${o.timeoutMs})`,
    );
  }
  return o;
}

/** Fills in defaults and range-checks. */
export function resolveClientOptions(options: ClientOptions = {}): ResolvedClientOptions {
  const o: ResolvedClientOptions = {
    clientId: options.clientId ?? crypto.randomUUID(),
    packer: options.packer ?? jsonPacker,
    params: options.params ?? {},
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    maxQueuedMessages: options.maxQueuedMessages ?? 1000,
    onError: options.onError ?? ((e) => console.warn("sente-lite client:", e)),
    WebSocket: options.WebSocket ?? globalThis.WebSocket,
    clock: options.clock ?? realClock,
    reconnect: resolveReconnect(options.reconnect),
    heartbeat: resolveHeartbeat(options.heartbeat),
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    retryRequests: options.retryRequests ?? false,
    random: options.random ?? Math.random,
  };
  if (typeof o.clientId !== "string" || o.clientId.trim() === "" || o.clientId.length > 128) {
    throw new TypeError(`clientId must be a non-blank string of at most 128 characters`);
  }
  if (!(o.requestTimeoutMs > 0)) {
    throw new RangeError(`requestTimeoutMs must be > 0, got ${o.requestTimeoutMs}`);
  }
  if (!Number.isInteger(o.maxQueuedMessages) || o.maxQueuedMessages < 0) {
    throw new RangeError(`maxQueuedMessages must be an integer >= 0, got ${o.maxQueuedMessages}`);
  }
  if (!(o.connectTimeoutMs > 0)) {
    throw new RangeError(`connectTimeoutMs must be > 0, got ${o.connectTimeoutMs}`);
  }
  if (typeof o.WebSocket !== "function") {
    throw new TypeError("no WebSocket constructor: pass options.WebSocket");
  }
  return o;
}
