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
import type { ClientStreams, ClientTelemetry, WireTransforms } from "./transforms.ts";
import { defaultTelemetrySlot } from "../telemetry/_default_slot.ts";
import {
  type BackoffOptions,
  resolveBackoffOptions,
  type ResolvedBackoffOptions,
} from "./backoff.ts";

/** A URL, or an (async) function giving one; functions are called on every connection attempt. */
export type UrlProvider = string | URL | (() => string | URL | Promise<string | URL>);

/**
 * The wire dialect the client speaks: `"sente-lite"` (our servers, with extensions) or `"sente"`
 * (a Clojure Sente 1.21 server, exactly as Sente's own client speaks it).
 */
export type ClientDialect = "sente-lite" | "sente";

/** An access token, or an (async) function giving one; called on every connection attempt. */
export type TokenProvider = string | (() => string | null | Promise<string | null>);

/** A CSRF token, or an (async) function giving one; functions are called on every connection attempt. */
export type CsrfTokenProvider = string | (() => string | Promise<string>);

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
   * The wire dialect. `"sente"` talks to a Clojure Sente 1.21 server: the upgrade URL carries
   * `client-id` and `csrf-token` but no `packer`, `packer` must be given, `Handshake.server` is
   * `null`, channels (`subscribe`, `unsubscribe`, `publish`) reject with `TypeError` and
   * `onRequest` handlers are never called (Sente has neither).
   * @default {"sente-lite"}
   */
  dialect?: ClientDialect;
  /**
   * Sent as the `csrf-token` upgrade parameter in the `"sente"` dialect (Sente's
   * `?csrf-token-or-fn`), re-evaluated on every attempt; ignored in the `"sente-lite"` dialect.
   * @default {undefined} (no `csrf-token` parameter)
   */
  csrfToken?: CsrfTokenProvider;
  /**
   * An access token for the server's `authenticate` hook (read there with `readToken`), or an
   * (async) function giving one, asked again on every connection attempt so a refreshed token is
   * used after a reconnect; `null` sends none. It travels in the `Sec-WebSocket-Protocol` header
   * (`sente-lite.token.<base64url>`), which browsers allow and servers do not log. Ignored in the
   * `"sente"` dialect (use `csrfToken`).
   * @default {undefined} (no token)
   */
  token?: TokenProvider;
  /**
   * The packer; its name is sent as the `packer` parameter. Required in the `"sente"` dialect
   * (`ednPacker()` from `./edn`, Sente's default, or `transitPacker()` from `./transit`), so the
   * core client bundle carries no Clojure codec.
   * @default {jsonPacker}
   */
  packer?: Packer;
  /**
   * Extra query parameters on the upgrade URL.
   * @default {none}
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
   * @default {initialDelayMs: 1000, maxDelayMs: 30000, factor: 2, jitter: 0.25, maxAttempts: Infinity, minUptimeMs: 5000}
   */
  reconnect?: ReconnectOptions | false;
  /**
   * Client-side liveness; `false` turns it off (the server's heartbeat still runs). The `"sente"`
   * dialect defaults to Sente's client keep-alive: a `[[:chsk/ws-ping] cb]` after 10 s idle
   * (`:ws-kalive-ms` 20000, halved), reconnecting 5 s later (`:ws-ping-timeout-ms`) if no frame came.
   * @default {intervalMs: 35000, timeoutMs: 50000 (dialect "sente": 10000 and 15000)}
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
  /**
   * Batching, compression and chunking to ask the server for (see docs/wire.md): the value of
   * `wireTransforms()` from `@sente-lite/sente-lite/client/wire`, which brings their code along;
   * `false` or absent for plain frames, so a client that does not use them does not ship them.
   * Ignored in the Sente dialect.
   * @default {false}
   */
  wire?: WireTransforms | false;
  /**
   * Streams (docs/streaming.md): `clientStreams()` from `@sente-lite/sente-lite/client/streams`
   * enables `upload()`, `download()` and `onStream()`. Ignored in the Sente dialect.
   * @default {false}
   */
  streams?: ClientStreams | false;
  /**
   * Where the client reports itself (state changes with close codes and reconnect delays,
   * protocol errors) under the namespace `sente-lite.client`: a `Telemetry` from `./telemetry`.
   * Without it the client reports to the default instance of `./telemetry` if that module is
   * loaded, and nowhere otherwise (so telemetry is not in a bundle that does not import it).
   * @default {the default instance of `./telemetry`, when loaded}
   */
  telemetry?: ClientTelemetry;
  /**
   * Resume across reconnects (docs/delivery.md), when the server offers it: server pushes are
   * numbered and acknowledged, so a reconnect gets exactly what was missed; `send()` events are
   * numbered too and re-sent until the server acknowledges them (it drops duplicates). `false`
   * turns it off. Ignored in the Sente dialect.
   * @default {ackEvery: 16, ackDelayMs: 100}
   */
  resume?: ClientResumeOptions | boolean;
}

/** How the client acknowledges numbered server pushes. */
export interface ClientResumeOptions {
  /**
   * Acknowledge after this many pushes…
   * @default {16}
   */
  ackEvery?: number;
  /**
   * …or this long (ms) after the first one not yet acknowledged.
   * @default {100}
   */
  ackDelayMs?: number;
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
  & Required<
    Omit<
      ClientOptions,
      "reconnect" | "heartbeat" | "csrfToken" | "token" | "resume" | "wire" | "streams"
    >
  >
  & {
    wire: WireTransforms | null;
    streams: ClientStreams | null;
    resume: Required<ClientResumeOptions> | false;
    reconnect: ResolvedReconnectOptions;
    heartbeat: Required<ClientHeartbeatOptions>;
    csrfToken: CsrfTokenProvider | undefined;
    token: TokenProvider | undefined;
  };

/** Sente's client keep-alive (`:ws-kalive-ms` 20000 halved, then `:ws-ping-timeout-ms` 5000). */
const SENTE_HEARTBEAT: Required<ClientHeartbeatOptions> = { intervalMs: 10_000, timeoutMs: 15_000 };

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
  defaults: Required<ClientHeartbeatOptions> = { intervalMs: 35_000, timeoutMs: 50_000 },
): Required<ClientHeartbeatOptions> {
  if (options === false) return { intervalMs: 0, timeoutMs: 0 };
  const o = {
    intervalMs: options?.intervalMs ?? defaults.intervalMs,
    timeoutMs: options?.timeoutMs ?? defaults.timeoutMs,
  };
  nonNegative("heartbeat.intervalMs", o.intervalMs);
  nonNegative("heartbeat.timeoutMs", o.timeoutMs);
  if (o.timeoutMs > 0 && o.intervalMs >= o.timeoutMs) {
    throw new RangeError(
      `heartbeat.intervalMs (${o.intervalMs}) must be below heartbeat.timeoutMs (${o.timeoutMs})`,
    );
  }
  return o;
}

function resolveResume(
  options: ClientResumeOptions | boolean | undefined,
): Required<ClientResumeOptions> | false {
  if (options === false) return false;
  const r = options === true || options === undefined ? {} : options;
  const o = { ackEvery: r.ackEvery ?? 16, ackDelayMs: r.ackDelayMs ?? 100 };
  if (!Number.isInteger(o.ackEvery) || o.ackEvery < 1) {
    throw new RangeError(`resume.ackEvery must be a positive integer, got ${o.ackEvery}`);
  }
  nonNegative("resume.ackDelayMs", o.ackDelayMs);
  return o;
}

/** Telemetry that records nothing: no `./telemetry` loaded and none given. */
const NO_TELEMETRY: ClientTelemetry = { scope: () => ({ event() {} }) };

function resolveWire(wire: WireTransforms | false | undefined): WireTransforms | null {
  if (wire === undefined || wire === false) return null;
  if (typeof wire !== "object" || wire === null || typeof wire.open !== "function") {
    // Before 0.2 `wire` took the options object itself; the code now comes with the value.
    throw new TypeError(
      "wire must be wireTransforms(options) from @sente-lite/sente-lite/client/wire, or false",
    );
  }
  return wire;
}

/** Fills in defaults and range-checks. */
export function resolveClientOptions(options: ClientOptions = {}): ResolvedClientOptions {
  const dialect = options.dialect ?? "sente-lite";
  if (dialect !== "sente-lite" && dialect !== "sente") {
    throw new TypeError(`dialect must be "sente-lite" or "sente", got ${JSON.stringify(dialect)}`);
  }
  const sente = dialect === "sente";
  if (sente && options.packer === undefined) {
    // Sente's default is EDN, but defaulting to it would put the EDN codec in every client bundle.
    throw new TypeError(
      'dialect "sente" needs a packer: ednPacker() from ./edn (Sente\'s default) or transitPacker() from ./transit',
    );
  }
  const csrfToken = options.csrfToken;
  if (csrfToken !== undefined && typeof csrfToken !== "string" && typeof csrfToken !== "function") {
    throw new TypeError(`csrfToken must be a string or a function, got ${typeof csrfToken}`);
  }
  const token = options.token;
  if (
    token !== undefined && token !== null && typeof token !== "string" &&
    typeof token !== "function"
  ) {
    throw new TypeError(`token must be a string or a function, got ${typeof token}`);
  }
  const o: ResolvedClientOptions = {
    clientId: options.clientId ?? crypto.randomUUID(),
    dialect,
    csrfToken,
    token: token ?? undefined,
    packer: options.packer ?? jsonPacker,
    params: options.params ?? {},
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    maxQueuedMessages: options.maxQueuedMessages ?? 1000,
    onError: options.onError ?? ((e) => console.warn("sente-lite client:", e)),
    WebSocket: options.WebSocket ?? globalThis.WebSocket,
    clock: options.clock ?? realClock,
    reconnect: resolveReconnect(options.reconnect),
    heartbeat: resolveHeartbeat(options.heartbeat, sente ? SENTE_HEARTBEAT : undefined),
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    retryRequests: options.retryRequests ?? false,
    random: options.random ?? Math.random,
    wire: resolveWire(options.wire),
    streams: options.streams || null,
    telemetry: options.telemetry ?? defaultTelemetrySlot.current ?? NO_TELEMETRY,
    resume: resolveResume(sente ? false : options.resume),
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
