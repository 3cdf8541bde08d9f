// This module is browser compatible.
/**
 * A handler that ships signals in batches over a sente-lite client (or anything with
 * `send(id, data)`), as event `"sente-lite/telemetry"` with data `{ signals: [...] }`.
 *
 * @module
 */

import { type Clock, realClock, type TimerHandle } from "../util/clock.ts";
import type { ConsoleLike } from "./console_handler.ts";
import { formatPretty } from "./console_handler.ts";
import { jsonSafe, type Signal, type SignalRecord, toRecord } from "./signal.ts";

/** The event id telemetry batches travel under. */
export const TELEMETRY_EVENT_ID = "sente-lite/telemetry";

/** What the remote handler needs from a client: a `send`, and optionally its connection state. */
export interface TelemetryTransport {
  /** Sends an event; may throw when the client is closed. */
  send(id: string, data: unknown): unknown;
  /** Connection state; when present, batches are held unless it is `"open"`. */
  readonly state?: string;
}

/** The data of one telemetry batch event. */
export interface TelemetryBatch {
  /** JSON-safe signal records, oldest first. */
  signals: SignalRecord[];
}

/** Where `pagehide`/`visibilitychange` come from (a browser `window`). */
export interface LifecycleTarget {
  /** Adds a listener. */
  addEventListener(type: string, listener: () => void): void;
  /** Removes a listener. */
  removeEventListener(type: string, listener: () => void): void;
}

/** Options for {@linkcode remoteHandler}. */
export interface RemoteHandlerOptions {
  /** Signals per batch; a full batch is sent at once.
   * @default {512} */
  maxBatch?: number;
  /** Longest time a signal waits for its batch, milliseconds.
   * @default {1000} */
  flushIntervalMs?: number;
  /** Signals held while disconnected; beyond it new signals go to `fallback`.
   * @default {2048} */
  maxBuffer?: number;
  /** Event id of batches.
   * @default {"sente-lite/telemetry"} */
  eventId?: string;
  /** Console that receives signals that could not be kept; `false` discards them.
   * @default {globalThis.console} */
  fallback?: ConsoleLike | false;
  /** Time source for the batching window.
   * @default {realClock} */
  clock?: Clock;
  /** Flushes on its `pagehide` and on `visibilitychange` to hidden.
   * @default {globalThis} (when it has `addEventListener` and a `document`) */
  lifecycle?: LifecycleTarget | false;
  /** Transforms (e.g. redacts) each record before it leaves; return `undefined` to skip it.
   * @default {undefined} */
  transform?: (record: SignalRecord) => SignalRecord | undefined;
}

const REMOTE_DEFAULTS = {
  maxBatch: 512,
  flushIntervalMs: 1000,
  maxBuffer: 2048,
  eventId: TELEMETRY_EVENT_ID,
  clock: realClock as Clock,
};

/** Counters of a remote handler. */
export interface RemoteHandlerStats {
  /** Signals sent. */
  sent: number;
  /** Batches sent. */
  batches: number;
  /** Signals waiting to be sent. */
  buffered: number;
  /** Signals that did not fit the buffer (given to the fallback console). */
  dropped: number;
  /** Failed `send` calls (the batch was kept for a retry). */
  sendErrors: number;
}

/** A remote handler. */
export interface RemoteHandler {
  /** Buffers one signal. */
  handle(signal: Signal): void;
  /** Sends every buffered signal now, if connected. */
  flush(): void;
  /** Sends what it can, gives the rest to the fallback, and removes its listeners. */
  stop(): void;
  /** Counters. */
  stats(): RemoteHandlerStats;
}

/**
 * Creates a handler that batches signals to `client`.
 *
 * - A batch goes out when it holds `maxBatch` signals, after `flushIntervalMs`, on `flush()` and
 *   when the page is hidden or unloaded.
 * - While `client.state` is present and not `"open"`, or `send` throws, signals stay buffered (up
 *   to `maxBuffer`) and are retried every `flushIntervalMs`.
 * - Records are JSON-safe (errors become `{name, message, stack}`).
 *
 * @throws {TypeError} if `client` has no `send` function.
 * @throws {RangeError} if a size or interval is out of range.
 *
 * @example
 * ```ts
 * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
 *
 * const telemetry = new Telemetry();
 * import { remoteHandler } from "@sente-lite/sente-lite/telemetry";
 * import { connect } from "@sente-lite/sente-lite/client";
 *
 * const client = connect("ws://127.0.0.1:3000/chsk");
 * telemetry.addHandler("server", remoteHandler(client, { maxBatch: 50 }));
 * ```
 */
export function remoteHandler(
  client: TelemetryTransport,
  options?: RemoteHandlerOptions,
): RemoteHandler {
  options ??= {};
  if (client === null || typeof client !== "object" || typeof client.send !== "function") {
    throw new TypeError(`client must have a send(id, data) function, got ${String(client)}`);
  }
  const o = { ...REMOTE_DEFAULTS, ...options };
  if (!Number.isInteger(o.maxBatch) || o.maxBatch < 1) {
    throw new RangeError(`maxBatch must be a positive integer, got ${o.maxBatch}`);
  }
  if (!Number.isInteger(o.maxBuffer) || o.maxBuffer < o.maxBatch) {
    throw new RangeError(`maxBuffer must be an integer >= maxBatch, got ${o.maxBuffer}`);
  }
  if (!(o.flushIntervalMs > 0)) {
    throw new RangeError(`flushIntervalMs must be > 0, got ${o.flushIntervalMs}`);
  }
  const fallback = o.fallback === undefined ? globalThis.console : o.fallback;
  const clock = o.clock;
  let buffer: SignalRecord[] = [];
  let timer: TimerHandle | undefined;
  let stopped = false;
  const stats = { sent: 0, batches: 0, dropped: 0, sendErrors: 0 };

  const connected = () => client.state === undefined || client.state === "open";

  const schedule = () => {
    if (timer === undefined && buffer.length > 0 && !stopped) {
      timer = clock.setTimeout(() => {
        timer = undefined;
        send();
      }, o.flushIntervalMs);
    }
  };

  const send = () => {
    if (timer !== undefined) {
      clock.clearTimeout(timer);
      timer = undefined;
    }
    while (buffer.length > 0 && connected()) {
      const batch = buffer.length <= o.maxBatch ? buffer : buffer.slice(0, o.maxBatch);
      try {
        client.send(o.eventId, { signals: batch } satisfies TelemetryBatch);
      } catch {
        stats.sendErrors++;
        break;
      }
      buffer = batch === buffer ? [] : buffer.slice(batch.length);
      stats.sent += batch.length;
      stats.batches++;
    }
    schedule();
  };

  const toFallback = (s: Signal) => {
    if (fallback) fallback.warn("[telemetry:unsent]", formatPretty(s), s.data ?? "");
  };

  const onPagehide = () => send();
  const onVisibility = () => {
    const doc = (globalThis as { document?: { visibilityState?: string } }).document;
    if (doc?.visibilityState === "hidden") send();
  };
  let lifecycle: LifecycleTarget | undefined;
  if (o.lifecycle === undefined) {
    const g = globalThis as unknown as Partial<LifecycleTarget> & { document?: unknown };
    if (typeof g.addEventListener === "function" && g.document !== undefined) {
      lifecycle = g as LifecycleTarget;
    }
  } else if (o.lifecycle !== false) lifecycle = o.lifecycle;
  lifecycle?.addEventListener("pagehide", onPagehide);
  lifecycle?.addEventListener("visibilitychange", onVisibility);

  return {
    handle(s) {
      if (stopped) return;
      if (buffer.length >= o.maxBuffer) {
        stats.dropped++;
        toFallback(s);
        return;
      }
      let record: SignalRecord | undefined = jsonSafe(toRecord(s)) as SignalRecord;
      if (o.transform !== undefined) record = o.transform(record);
      if (record === undefined) return;
      buffer.push(record);
      if (buffer.length >= o.maxBatch) send();
      else schedule();
    },
    flush: send,
    stop() {
      if (stopped) return;
      send();
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      lifecycle?.removeEventListener("pagehide", onPagehide);
      lifecycle?.removeEventListener("visibilitychange", onVisibility);
      if (buffer.length > 0 && fallback) {
        for (const r of buffer) fallback.warn("[telemetry:unsent]", JSON.stringify(r));
      }
      stats.dropped += buffer.length;
      buffer = [];
    },
    stats() {
      return { ...stats, buffered: buffer.length };
    },
  };
}
