/**
 * The public face of server streams (docs/streaming.md §12): the wire names streams use, and the
 * types of their options, handlers and results.
 *
 * @module
 */
import type { StreamMuxStats } from "../streams/mux.ts";
import type { StreamMuxOptions } from "../streams/options.ts";
import type { StreamProgress } from "../streams/progress.ts";

/**
 * The upgrade query parameter by which older clients name their stream session. Deprecated: the
 * name is a secret and URLs land in logs; clients send the subprotocol `sente-lite.streams.<name>`.
 */
export const STREAMS_PARAM = "streams";
/** The capability announced when streams are on. */
export const CAP_STREAMS = "streams";
/** Announced beside {@linkcode CAP_STREAMS} when the server still held the session's streams. */
export const CAP_STREAMS_RESUMED = "streams-resumed";
/** The push that carries an upload handler's reply: `{stream, value}` or `{stream, error}`. */
export const STREAM_REPLY_EVENT = "sente-lite/stream-reply";
/** Control messages of a bidirectional stream, both ways: `{stream, data}` (the client's id). */
export const STREAM_CONTROL_EVENT = "sente-lite/stream-control";
/** The reply key that names the stream carrying a download: `{"sente-lite/stream": id}`. */
export const STREAM_REPLY_KEY = "sente-lite/stream";
/** The reply key of a download that could not start: `{"sente-lite/stream-error": {code, message}}`. */
export const STREAM_ERROR_KEY = "sente-lite/stream-error";

/** The defaults of the server-wide {@linkcode ServerStreamOptions}, in one place. */
export const SERVER_STREAM_DEFAULTS = Object.freeze({ maxStreams: 1024, maxStreamsPerIp: 64 });

/** Streams on the server: the mux options of every connection, plus the server-wide cap. */
export interface ServerStreamOptions
  extends Omit<StreamMuxOptions, "side" | "onStream" | "onError" | "budget" | "clock"> {
  /** Concurrent incoming streams across every connection (a shared `StreamBudget`). @default {1024} */
  maxStreams?: number;
  /**
   * Concurrent incoming streams from one client address (IPv6 by its /64), over all its
   * connections: one address cannot fill `maxStreams` with streams it never sends (each stream
   * holds its slot until `idleTimeoutMs`, and a trickle keeps it). Counted under the address of
   * the connection that opened the stream session; connections without a known address are not
   * capped. Behind a reverse proxy pass the client's address to `server.handler(request, info)`.
   * @default {64}
   */
  maxStreamsPerIp?: number;
  /** DATA is written only while the socket's `bufferedAmount` is below this. @default {1048576} */
  highWaterMark?: number;
  /**
   * Downloads (a body a request handler returns) carry a SHA-256 the client checks, and the
   * client's `download()` result has it as `sha256`. @default {false}
   */
  downloadIntegrity?: boolean;
}

/** What an upload handler gets. */
export interface StreamMessage {
  /** The stream's name (an event id). */
  readonly id: string;
  /** The stream id on its connection. */
  readonly streamId: number;
  /** The bytes, as the client sends them; memory is bounded by the credit window. */
  readonly stream: ReadableStream<Uint8Array>;
  /** The client's metadata (`upload(id, body, { meta })`). */
  readonly meta: unknown;
  /** The size the client announced, when it did. */
  readonly total: number | undefined;
  /**
   * The SHA-256 of the bytes (lowercase hex), checked against the client's: resolves once the
   * stream ended and matched, when the client uploaded with `integrity: true` (else with
   * `undefined`); rejects with the stream's error. Saves hashing the bytes a second time.
   *
   * @example
   * ```ts ignore
   * server.onStream("app/upload", async (msg) => {
   *   for await (const chunk of msg.stream) await file.write(chunk);
   *   return { sha256: await msg.sha256 };
   * });
   * ```
   */
  readonly sha256: Promise<string | undefined>;
  /** Whether the client uploaded with `integrity: true` (then `sha256` resolves with the digest). */
  readonly integrity: boolean;
  /** The sender's uid. */
  readonly uid: string;
  /** The sender's client id (self-declared: not a credential). */
  readonly clientId: string;
  /** The sender's connection id (the one that opened the stream). */
  readonly connId: string;
  /** Progress of the bytes received; set it before reading. */
  onProgress?: (progress: StreamProgress) => void;
  /**
   * `true` for `client.openStream()`: a body (`ReadableStream`, `Blob`, `Uint8Array`) the handler
   * returns is streamed back as the client's `readable`, and control messages flow both ways.
   */
  readonly bidirectional: boolean;
  /** Sends a control message to the client (`onControl` there); `false` when it is gone. */
  send(control: unknown): boolean;
  /** Receives the client's control messages (`send()` there); one function. */
  onControl(fn: (control: unknown) => void): void;
}

/** An upload handler; its return value (or resolved value) is the client's `upload()` result. */
export type StreamHandler = (message: StreamMessage) => unknown;

/** Options of `server.streamTo()`. */
export interface StreamToOptions {
  /** Metadata for the client's `onStream` handler. @default {undefined} */
  meta?: unknown;
  /** Send the SHA-256 in END; the client checks it. @default {false} */
  integrity?: boolean;
  /** Aborting cancels the stream on both sides. @default {undefined} */
  signal?: AbortSignal;
  /** Progress of the bytes sent. @default {undefined} */
  onProgress?: (progress: StreamProgress) => void;
}

/** What `server.streamToChannel()` did, per subscriber. */
export interface ChannelStreamResult {
  /** Subscribers that got every byte. */
  delivered: number;
  /** Subscribers whose stream failed or was cancelled (slow: `stream-idle`), by connection id. */
  failed: Record<string, string>;
}

/** Stream counters of a server (`stats().streams`): live muxes plus those already closed. */
export interface ServerStreamStats extends StreamMuxStats {
  /** Stream sessions (muxes) held now, attached or waiting for a resume. */
  sessions: number;
  /** Concurrent incoming streams across the server now (the shared budget). */
  active: number;
}
