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

/** A URL, or an (async) function giving one; functions are called on every connection attempt. */
export type UrlProvider = string | URL | (() => string | URL | Promise<string | URL>);

/** The WebSocket constructor the client uses (the standard one by default). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

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
   * Time source for timeouts.
   * @default {realClock}
   */
  clock?: Clock;
}

/** Options with every default filled in. */
export type ResolvedClientOptions = Required<ClientOptions>;

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
  if (typeof o.WebSocket !== "function") {
    throw new TypeError("no WebSocket constructor: pass options.WebSocket");
  }
  return o;
}
