// This module is browser compatible.
/**
 * The seam between the core client and its opt-in parts, as types only: the core client imports
 * no wire transform and no telemetry code, so an app that does not use them does not ship them.
 * `wireTransforms()` (`./client/wire`) implements {@linkcode WireTransforms}; a `Telemetry`
 * (`./telemetry`) is a {@linkcode ClientTelemetry}.
 *
 * @module
 */
import type { Frame, Packer } from "../packers/packer.ts";
import type { ServerInfo } from "../protocol/handshake.ts";
import type { Clock } from "../util/clock.ts";

/** The transforms of one socket, built after its handshake. */
export interface ClientWirePipeline {
  /** `true` when inbound frames must go through {@linkcode ClientWirePipeline.receive}. */
  readonly receives: boolean;
  /** Sends one packed frame; `urgent` ones (pings, pongs, replies) are not held back. */
  send(frame: Frame, urgent?: boolean): void;
  /** Takes one inbound WebSocket frame; logical frames go to the `frame` callback. */
  receive(frame: Frame): void;
  /** Stops everything; what still waits is dropped (the socket is gone). */
  close(): void;
}

/** What a pipeline talks to: the socket, and the client for decoded frames and errors. */
export interface ClientWireIo {
  /** The WebSocket, for writes and `bufferedAmount`. */
  socket: { send(frame: Frame): void; readonly bufferedAmount: number };
  /** A decoded inbound frame. */
  frame(frame: Frame): void;
  /** A transform error (reported through the client's `onError`). */
  error(error: Error): void;
  /** The client's clock. */
  clock: Clock;
}

/**
 * Batching, compression and chunking for the client, as one opt-in value: make it with
 * `wireTransforms()` from `@sente-lite/sente-lite/client/wire` and pass it as
 * `connect(url, { wire })`.
 */
export interface WireTransforms {
  /**
   * The upgrade's `wire` parameter for a client using the packer `packerName`, or `null`.
   * @ignore
   */
  offer(packerName: string): string | null;
  /**
   * The pipeline of a socket whose handshake announced `server`, or `null` when the server agreed
   * to nothing (plain frames).
   * @ignore
   */
  open(server: ServerInfo, packerName: string, io: ClientWireIo): ClientWirePipeline | null;
}

/** Where the client reports itself: a `Telemetry` from `./telemetry`, or anything shaped like it. */
export interface ClientTelemetry {
  /** A child for namespace `ns`. */
  scope(ns: string): ClientTelemetryScope;
}

/** The one signal creator the client calls. */
export interface ClientTelemetryScope {
  /** Records an event signal; `data` is only called when a handler wants the signal. */
  event(id: string, options: { level: "debug" | "info" | "warn"; data: () => unknown }): void;
}

/** What the opt-in streams get from the client they are installed in. */
export interface ClientStreamIo {
  /** `client.request()`: a download is a request whose reply names a stream. */
  request(id: string, data: unknown, options: { signal?: AbortSignal }): Promise<unknown>;
  /** `client.on()`: upload replies come as a push. */
  on(id: string, handler: (data: unknown) => void): () => void;
  /** `client.send()`: control messages of bidirectional streams. */
  send(id: string, data: unknown): unknown;
  /** The client's packer, for stream metadata. */
  packer: Packer;
  /** The client's clock. */
  clock: Clock;
}

/** The socket a stream session writes to. */
export interface ClientStreamSocket {
  /**
   * Writes one binary frame; its bytes are copied before it returns (`WebSocket.send` does), so
   * the streams reuse one buffer for their DATA frames.
   */
  send(frame: Uint8Array): void;
  /** Bytes written and not yet on the network. */
  readonly bufferedAmount: number;
}

/**
 * Streams for the client, as one opt-in value: make it with `clientStreams()` from
 * `@sente-lite/sente-lite/client/streams` and pass it as `connect(url, { streams })` (one per
 * client). The client's `upload()`, `download()` and `onStream()` delegate to it.
 */
export interface ClientStreams {
  /**
   * Called once by the client that owns it.
   * @ignore
   */
  bind(io: ClientStreamIo): void;
  /** The upgrade's `streams` parameter (the stream session's name). */
  offer(): string;
  /**
   * A socket handshook with `server`: start, resume or drop the stream session.
   * @ignore
   */
  open(server: ServerInfo | null, socket: ClientStreamSocket): void;
  /** Takes an inbound binary frame if it is a stream frame. */
  receive(frame: Uint8Array): boolean;
  /** The socket dropped: streams wait for the next one. */
  drop(): void;
  /** The client closed: every stream fails. */
  close(): void;
  /** See `Client.upload`. */
  upload(id: string, body: StreamBodyLike, options?: UploadOptions): Promise<unknown>;
  /** See `Client.download`. */
  download(
    id: string,
    data?: unknown,
    options?: DownloadOptions,
  ): Promise<DownloadStream>;
  /** See `Client.onStream`. */
  onStream(id: string, handler: ClientStreamHandler): () => void;
  /** See `Client.openStream`. */
  openStream(id: string, options?: OpenBidiOptions): BidiStream;
}

/** Options of `client.openStream()`. */
export interface OpenBidiOptions {
  /** Metadata for the server's handler (`msg.meta`). @default {undefined} */
  meta?: unknown;
  /** Aborting cancels both directions. @default {undefined} */
  signal?: AbortSignal;
}

/** A bidirectional stream: bytes both ways plus control messages (`client.openStream()`). */
export interface BidiStream {
  /** What the server's handler returned as its body. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the server's handler (`msg.stream`); close it to end the upload. */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves with the handler's reply once the upload completed (or the answer stream started). */
  readonly done: Promise<unknown>;
  /** Sends a control message (`msg.onControl` on the server); `false` when not sent. */
  send(control: unknown): boolean;
  /** Receives the server's control messages (`msg.send`). */
  onControl(fn: (control: unknown) => void): void;
}

/** A body to stream. */
export type StreamBodyLike = ReadableStream<Uint8Array> | Blob | Uint8Array;

/** Progress of a stream (`docs/streaming.md`). */
export interface StreamProgressInfo {
  /** Bytes so far. */
  bytes: number;
  /** The announced size, when known. */
  total?: number;
  /** `bytes / total` in percent, when the total is known. */
  percentage?: number;
  /** The recent rate. */
  bytesPerSecond: number;
  /** Estimated time left, when the total is known. */
  etaMs?: number;
}

/** Options of `client.upload()`. */
export interface UploadOptions {
  /** Metadata for the server's handler (`msg.meta`). @default {undefined} */
  meta?: unknown;
  /** Aborting cancels the upload on both sides. @default {undefined} */
  signal?: AbortSignal;
  /** Progress of the bytes sent, at most every 100 ms. @default {undefined} */
  onProgress?: (progress: StreamProgressInfo) => void;
  /** Send a SHA-256 the server checks at the end. @default {false} */
  integrity?: boolean;
}

/**
 * What `client.download()` resolves with: the bytes as a `ReadableStream` (a byte stream: read it
 * with a BYOB reader into one buffer to leave no garbage per frame), plus their checked SHA-256.
 */
export interface DownloadStream extends ReadableStream<Uint8Array> {
  /**
   * The SHA-256 of the bytes, lowercase hex, checked against the server's: resolves once the
   * stream ended and matched when the server sends downloads with integrity (its
   * `streams.downloadIntegrity`), else with `undefined`; rejects with the stream's error.
   */
  readonly sha256: Promise<string | undefined>;
}

/** Options of `client.download()`. */
export interface DownloadOptions {
  /** Aborting cancels the request or the stream. @default {undefined} */
  signal?: AbortSignal;
  /** Progress of the bytes received, at most every 100 ms. @default {undefined} */
  onProgress?: (progress: StreamProgressInfo) => void;
}

/** A handler of server push streams (`server.streamTo()`). */
export type ClientStreamHandler = (stream: ReadableStream<Uint8Array>, meta: unknown) => void;
