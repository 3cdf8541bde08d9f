/**
 * A server plug-in that accepts `"sente-lite/telemetry"` batches from browsers, stamps each signal
 * with the sender's uid, client id and connection, rate-limits per connection, and appends them to
 * one JSON-lines file per session: `<dir>/<session>-<timestamp>.jsonl`.
 *
 * It depends only on a structural server (`on(eventId, handler)`), not on the sente-lite server.
 * Not browser compatible (it writes files).
 *
 * @module
 */

import { type Clock, realClock } from "../util/clock.ts";
import { JsonlWriter, type JsonlWriterOptions } from "./file_handler.ts";
import { TELEMETRY_EVENT_ID } from "./remote_handler.ts";
import { isoTime, safeStringify } from "./signal.ts";
import { TokenBucket } from "./rate_limit.ts";
import { utf8ByteLength } from "../util/utf8.ts";

/** The message a server handler receives. */
export interface TelemetryMessage {
  /** Event id. */
  id: string;
  /** Event data; a batch is `{ signals: [...] }`. */
  data: unknown;
  /** The sender's user id. */
  uid: string;
  /** The sender's client id (one per browser session). */
  clientId: string;
  /** The sender's connection id. */
  connId: string;
  /** Replies to the sender when it used a request. */
  reply?: (value: unknown) => boolean;
}

/** The part of a server the plug-in uses. */
export interface TelemetryServer {
  /** Registers a handler for `id`; returns a function that unregisters it. */
  on(id: string, handler: (msg: TelemetryMessage) => unknown): () => void;
}

/** The answer to a batch (sent with `msg.reply` when present). */
export type TelemetryReply =
  | { ok: true; accepted: number; dropped: number }
  | { ok: false; error: { code: TelemetryErrorCode; message: string }; dropped: number };

/** Error codes in a {@linkcode TelemetryReply}. */
export type TelemetryErrorCode =
  | "telemetry/bad-batch"
  | "telemetry/rate-limited"
  | "telemetry/quota-exceeded";

/** Options for {@linkcode telemetryPlugin}. */
export interface TelemetryPluginOptions {
  /** Directory of the per-session files.
   * @default {"logs/browser"} */
  dir?: string;
  /** Event id of batches.
   * @default {"sente-lite/telemetry"} */
  eventId?: string;
  /** Signals per second each connection may send (token bucket refill rate).
   * @default {200} */
  ratePerSec?: number;
  /** Largest burst of signals per connection (token bucket size).
   * @default {1000} */
  burst?: number;
  /** Largest batch accepted, in signals.
   * @default {1000} */
  maxBatch?: number;
  /** Session files kept open at once; the least recently used is closed beyond it.
   * @default {100} */
  maxOpenFiles?: number;
  /** Bytes the plug-in writes in its lifetime, all sessions together (client ids and
   * connections are free to make, so only a total bounds the disk); batches beyond it are
   * refused with `telemetry/quota-exceeded`.
   * @default {1_073_741_824} */
  maxTotalBytes?: number;
  /** Session files the plug-in creates in its lifetime (a session whose file was closed to stay
   * within `maxOpenFiles` gets a new one); new sessions beyond it are refused with
   * `telemetry/quota-exceeded`.
   * @default {100_000} */
  maxSessionFiles?: number;
  /** Time source for rate limits, timestamps and file names.
   * @default {realClock} */
  clock?: Clock;
  /** Options of each session file's writer.
   * @default {none} */
  writer?: JsonlWriterOptions;
}

const PLUGIN_DEFAULTS = {
  dir: "logs/browser",
  eventId: TELEMETRY_EVENT_ID,
  ratePerSec: 200,
  burst: 1000,
  maxBatch: 1000,
  maxOpenFiles: 100,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxSessionFiles: 100_000,
  clock: realClock as Clock,
  writer: {} as JsonlWriterOptions,
};

/** Counters of the plug-in. */
export interface TelemetryPluginStats {
  /** Batches received. */
  batches: number;
  /** Signals written. */
  accepted: number;
  /** Signals dropped by the rate limit, the quotas, or because they were not objects. */
  dropped: number;
  /** Batches rejected as malformed. */
  rejected: number;
  /** Session files currently open. */
  openFiles: number;
  /** Bytes written (counts against `maxTotalBytes`). */
  bytes: number;
  /** Session files created (counts against `maxSessionFiles`). */
  sessionFiles: number;
}

/** The plug-in returned by {@linkcode telemetryPlugin}. */
export interface TelemetryPlugin {
  /** Registers the batch handler on `server`; returns a function that unregisters it. */
  install(server: TelemetryServer): () => void;
  /** Handles one message (what the installed handler calls); never throws. */
  handle(msg: TelemetryMessage): TelemetryReply;
  /** The file a session writes to, once it has sent something. */
  fileOf(clientId: string): string | undefined;
  /** Writes buffered lines of every session file. */
  flush(): void;
  /** Flushes and closes every session file. */
  close(): void;
  /** Counters. */
  stats(): TelemetryPluginStats;
}

const SAFE_SESSION = /^[A-Za-z0-9_-]{1,64}$/;

/** A file-name-safe session name: the client id if it is already safe, else a cleaned copy. */
export function sessionName(clientId: string): string {
  if (SAFE_SESSION.test(clientId)) return clientId;
  const cleaned = String(clientId).replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
  return cleaned === "" ? "anonymous" : cleaned;
}

function stamp(ms: number): string {
  return isoTime(ms).replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Creates the telemetry plug-in.
 *
 * - Each signal is stored as the client sent it plus `uid`, `clientId`, `connId` and `recvTime`
 *   (these server-side fields overwrite any the client sent).
 * - Each connection has a token bucket of `burst` signals refilled at `ratePerSec`; a batch larger
 *   than what is left is cut, and the reply says how many were dropped.
 * - Malformed batches are answered with `{ ok: false, error: { code: "telemetry/bad-batch" } }`.
 * - Past `maxTotalBytes` written or `maxSessionFiles` created, batches (of new sessions, for the
 *   latter) are refused with `telemetry/quota-exceeded`; nothing is written.
 *
 * @throws {RangeError} if a rate or size is out of range.
 *
 * @example
 * ```ts
 * import { createServer } from "@sente-lite/sente-lite/server";
 * import { telemetryPlugin } from "@sente-lite/sente-lite/telemetry";
 *
 * const server = createServer();
 * const plugin = telemetryPlugin({ dir: "logs/clients" });
 * const uninstall = plugin.install(server); // browser batches → one JSONL file per client
 * uninstall();
 * ```
 */
export function telemetryPlugin(options?: TelemetryPluginOptions): TelemetryPlugin {
  options ??= {};
  const o = { ...PLUGIN_DEFAULTS, ...options };
  if (!Number.isInteger(o.maxBatch) || o.maxBatch < 1) {
    throw new RangeError(`maxBatch must be a positive integer, got ${o.maxBatch}`);
  }
  for (const key of ["maxOpenFiles", "maxTotalBytes", "maxSessionFiles"] as const) {
    if (!Number.isSafeInteger(o[key]) || o[key] < 1) {
      throw new RangeError(`${key} must be a positive integer, got ${o[key]}`);
    }
  }
  const clock = o.clock;
  const buckets = new TokenBucket({ ratePerSec: o.ratePerSec, burst: o.burst, clock });
  const files = new Map<string, JsonlWriter>();
  const paths = new Map<string, string>();
  const stats = { batches: 0, accepted: 0, dropped: 0, rejected: 0, bytes: 0, sessionFiles: 0 };
  const dir = o.dir.replace(/[\/\\]+$/, "") || ".";

  /** The session's open writer, or `null` when opening one would exceed `maxSessionFiles`. */
  const writerFor = (clientId: string): JsonlWriter | null => {
    const session = sessionName(clientId);
    let w = files.get(session);
    if (w !== undefined) {
      files.delete(session);
      files.set(session, w);
      return w;
    }
    if (stats.sessionFiles >= o.maxSessionFiles) return null;
    if (files.size >= o.maxOpenFiles) {
      const [oldest, ow] = files.entries().next().value as [string, JsonlWriter];
      files.delete(oldest);
      ow.close();
    }
    const path = `${dir}/${session}-${stamp(clock.now())}.jsonl`;
    w = new JsonlWriter(path, { clock, ...o.writer });
    stats.sessionFiles++;
    files.set(session, w);
    paths.set(session, path);
    return w;
  };

  const bad = (message: string, dropped = 0): TelemetryReply => {
    stats.rejected++;
    return { ok: false, error: { code: "telemetry/bad-batch", message }, dropped };
  };

  const process = (msg: TelemetryMessage): TelemetryReply => {
    if (!isPlainObject(msg)) return bad("message must be an object");
    const data = msg.data;
    if (!isPlainObject(data) || !Array.isArray(data.signals)) {
      return bad('data must be { signals: [...] } with "signals" an array');
    }
    const signals = data.signals as unknown[];
    if (signals.length > o.maxBatch) {
      stats.dropped += signals.length;
      return bad(
        `batch holds ${signals.length} signals, more than maxBatch ${o.maxBatch}`,
        signals.length,
      );
    }
    stats.batches++;
    if (signals.length === 0) return { ok: true, accepted: 0, dropped: 0 };
    const connId = String(msg.connId);
    const available = Math.floor(buckets.available(connId));
    const n = Math.min(signals.length, available);
    if (n === 0) {
      stats.dropped += signals.length;
      return {
        ok: false,
        error: {
          code: "telemetry/rate-limited",
          message: `connection ${connId} exceeded ${o.ratePerSec} signals/s`,
        },
        dropped: signals.length,
      };
    }
    buckets.take(connId, n);
    const recvTime = isoTime(clock.now());
    const stampFields = { uid: msg.uid, clientId: msg.clientId, connId: msg.connId, recvTime };
    let chunk = "";
    let accepted = 0;
    for (let i = 0; i < n; i++) {
      const s = signals[i];
      if (!isPlainObject(s)) continue;
      chunk += safeStringify({ ...s, ...stampFields }) + "\n";
      accepted++;
    }
    if (accepted > 0) {
      const bytes = utf8ByteLength(chunk);
      const writer = stats.bytes + bytes <= o.maxTotalBytes
        ? writerFor(String(msg.clientId))
        : null;
      if (writer === null) {
        stats.dropped += signals.length;
        const what = stats.bytes + bytes > o.maxTotalBytes
          ? `maxTotalBytes ${o.maxTotalBytes}`
          : `maxSessionFiles ${o.maxSessionFiles}`;
        return {
          ok: false,
          error: {
            code: "telemetry/quota-exceeded",
            message: `telemetry storage is full (${what})`,
          },
          dropped: signals.length,
        };
      }
      writer.append(chunk);
      stats.bytes += bytes;
    }
    const dropped = signals.length - accepted;
    stats.accepted += accepted;
    stats.dropped += dropped;
    return { ok: true, accepted, dropped };
  };

  const handle = (msg: TelemetryMessage): TelemetryReply => {
    let reply: TelemetryReply;
    try {
      reply = process(msg);
    } catch (e) {
      reply = bad(`could not store batch: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      if (isPlainObject(msg) && typeof msg.reply === "function") msg.reply(reply);
    } catch {
      // a failed reply must not break the server
    }
    return reply;
  };

  return {
    install(server) {
      return server.on(o.eventId, handle);
    },
    handle,
    fileOf(clientId) {
      return paths.get(sessionName(clientId));
    },
    flush() {
      for (const w of files.values()) w.flush();
    },
    close() {
      for (const w of files.values()) w.close();
      files.clear();
    },
    stats() {
      return { ...stats, openFiles: files.size };
    },
  };
}
