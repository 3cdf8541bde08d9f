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
import { ipKey } from "../server/ip_budget.ts";

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
  /**
   * The sender's connection: its client address (`remoteIp`, as the server's `clientIp` resolved
   * it) counts the per-address quotas; without one only the totals apply.
   */
  connection?: { readonly remoteIp?: string | null };
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
  /** Bytes the senders of one client address (an IPv6 one by its /64) may have written of
   * `maxTotalBytes`, so that one address's connections cannot use the whole quota up and leave
   * telemetry refused for everyone; past it, that address's batches are refused with
   * `telemetry/quota-exceeded`. Behind a reverse proxy, set the server's `clientIp`, or every
   * client shares the proxy's address.
   * @default {maxTotalBytes / 8} */
  maxBytesPerIp?: number;
  /** Session files the senders of one client address may have created of `maxSessionFiles`, as
   * `maxBytesPerIp` for bytes.
   * @default {maxSessionFiles / 8} */
  maxSessionFilesPerIp?: number;
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
  /** Client addresses that have written (each counted against the per-address quotas). */
  addresses: number;
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

/** What one client address has written. */
interface Share {
  /** Its `ipKey`. */
  readonly key: string;
  bytes: number;
  files: number;
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
 *   latter) are refused with `telemetry/quota-exceeded`; nothing is written. So are those of a
 *   client address past its share, `maxBytesPerIp` or `maxSessionFilesPerIp`.
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
  const maxBytesPerIp = options.maxBytesPerIp ?? Math.max(1, Math.floor(o.maxTotalBytes / 8));
  const maxFilesPerIp = options.maxSessionFilesPerIp ??
    Math.max(1, Math.floor(o.maxSessionFiles / 8));
  const sizes = {
    maxOpenFiles: o.maxOpenFiles,
    maxTotalBytes: o.maxTotalBytes,
    maxSessionFiles: o.maxSessionFiles,
    maxBytesPerIp,
    maxSessionFilesPerIp: maxFilesPerIp,
  };
  for (const [key, value] of Object.entries(sizes)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`${key} must be a positive integer, got ${value}`);
    }
  }
  const clock = o.clock;
  const buckets = new TokenBucket({ ratePerSec: o.ratePerSec, burst: o.burst, clock });
  const files = new Map<string, JsonlWriter>();
  const paths = new Map<string, string>();
  const stats = { batches: 0, accepted: 0, dropped: 0, rejected: 0, bytes: 0, sessionFiles: 0 };
  const dir = o.dir.replace(/[\/\\]+$/, "") || ".";
  /**
   * What each client address has written (`ipKey`), kept from its first write on: at most
   * `maxSessionFiles` addresses (past that, a new address's batches are refused).
   */
  const shares = new Map<string, Share>();
  const NO_SHARE: Share = { key: "", bytes: 0, files: 0 }; // no address known: the totals only

  /**
   * The session's open writer, or why none: opening one would exceed `maxSessionFiles` or the
   * address's `maxSessionFilesPerIp`.
   */
  const writerFor = (clientId: string, share: Share): JsonlWriter | string => {
    const session = sessionName(clientId);
    let w = files.get(session);
    if (w !== undefined) {
      files.delete(session);
      files.set(session, w);
      return w;
    }
    if (stats.sessionFiles >= o.maxSessionFiles) return `maxSessionFiles ${o.maxSessionFiles}`;
    if (share !== NO_SHARE && share.files >= maxFilesPerIp) {
      return `maxSessionFilesPerIp ${maxFilesPerIp} of this address`;
    }
    if (files.size >= o.maxOpenFiles) {
      const [oldest, ow] = files.entries().next().value as [string, JsonlWriter];
      files.delete(oldest);
      ow.close();
    }
    const path = `${dir}/${session}-${stamp(clock.now())}.jsonl`;
    w = new JsonlWriter(path, { clock, ...o.writer });
    stats.sessionFiles++;
    if (share !== NO_SHARE) share.files++;
    files.set(session, w);
    paths.set(session, path);
    return w;
  };

  /**
   * The sender's address's share (a new one is kept once it writes), `NO_SHARE` when no address
   * is known, or why it may not write.
   */
  const shareOf = (msg: TelemetryMessage): Share | string => {
    const ip = msg.connection?.remoteIp;
    if (typeof ip !== "string" || ip === "") return NO_SHARE;
    const key = ipKey(ip);
    const share = shares.get(key);
    if (share !== undefined) return share;
    if (shares.size >= o.maxSessionFiles) return `maxSessionFiles ${o.maxSessionFiles} addresses`;
    return { key, bytes: 0, files: 0 };
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
      const share = shareOf(msg);
      const writer = stats.bytes + bytes > o.maxTotalBytes
        ? `maxTotalBytes ${o.maxTotalBytes}`
        : typeof share === "string"
        ? share
        : share !== NO_SHARE && share.bytes + bytes > maxBytesPerIp
        ? `maxBytesPerIp ${maxBytesPerIp} of this address`
        : writerFor(String(msg.clientId), share);
      if (typeof writer === "string") {
        stats.dropped += signals.length;
        return {
          ok: false,
          error: {
            code: "telemetry/quota-exceeded",
            message: `telemetry storage is full (${writer})`,
          },
          dropped: signals.length,
        };
      }
      writer.append(chunk);
      stats.bytes += bytes;
      const kept = share as Share; // (a string was refused above)
      if (kept !== NO_SHARE) {
        kept.bytes += bytes;
        if (!shares.has(kept.key)) shares.set(kept.key, kept);
      }
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
      return { ...stats, openFiles: files.size, addresses: shares.size };
    },
  };
}
