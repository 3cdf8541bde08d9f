// This module is browser compatible.
/**
 * The client's streams (docs/streaming.md §12): uploads, downloads and server push streams over
 * the client's WebSocket, one {@linkcode StreamMux} per client that lives across reconnects. When
 * the server still holds the stream session after a reconnect (it announces `"streams-resumed"`),
 * the streams continue from the receiver's offsets; otherwise they fail with
 * `stream-resume-failed` and a new session starts.
 *
 * @module
 */
import type { Packer } from "../packers/packer.ts";
import type { ServerInfo } from "../protocol/handshake.ts";
import { ServerError } from "../protocol/errors.ts";
import { StreamError } from "../streams/errors.ts";
import { isStreamFrame } from "../streams/frames.ts";
import type { IncomingStream } from "../streams/incoming.ts";
import { StreamMux } from "../streams/mux.ts";
import type { StreamMuxOptions } from "../streams/options.ts";
import type {
  BidiStream,
  ClientStreamHandler,
  ClientStreamIo,
  ClientStreams,
  ClientStreamSocket,
  DownloadOptions,
  DownloadStream,
  OpenBidiOptions,
  StreamBodyLike,
  UploadOptions,
} from "./transforms.ts";

/** Options of {@linkcode clientStreams}: the mux options (windows, frame size, limits, timeouts). */
export interface ClientStreamsOptions
  extends Omit<StreamMuxOptions, "side" | "onStream" | "onError" | "budget" | "clock"> {
  /** DATA is written only while the socket's `bufferedAmount` is below this. @default {1048576} */
  highWaterMark?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function packMeta(packer: Packer, value: unknown): Uint8Array {
  const frame = packer.pack(value);
  return typeof frame === "string" ? encoder.encode(frame) : frame;
}

function unpackMeta(packer: Packer, bytes: Uint8Array): Record<string, unknown> {
  try {
    const v = bytes.byteLength ? packer.unpack(packer.binary ? bytes : decoder.decode(bytes)) : {};
    return v !== null && typeof v === "object" ? v as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

function randomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * Streams for `connect(url, { streams: clientStreams() })`: installs `client.upload()`,
 * `client.download()` and `client.onStream()`. Without it the client offers no streams and its
 * bundle carries none of this code. One value per client.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@sente-lite/sente-lite/client";
 * import { clientStreams } from "@sente-lite/sente-lite/client/streams";
 *
 * const client = connect("ws://127.0.0.1:3000/chsk", { streams: clientStreams() });
 * const sha = await client.upload("app/file", file, { meta: { name: file.name } });
 * const readable = await client.download("app/file", { name: file.name });
 * ```
 */
export function clientStreams(options: ClientStreamsOptions = {}): ClientStreams {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`clientStreams options must be an object, got ${options}`);
  }
  // 1 MiB rather than the core's 256 KiB: see WIRED_HIGH_WATER_MARK in lib/server/streams.ts.
  const o = { highWaterMark: 1024 * 1024, ...options };
  new StreamMux({ ...o, side: "client" }).close(); // range-checks now
  return new Streams(o);
}

class Streams implements ClientStreams {
  readonly #options: ClientStreamsOptions;
  readonly #name = randomName();
  #io: ClientStreamIo | null = null;
  #mux: StreamMux | null = null;
  /** The mux was attached to a socket at least once (the server may hold its streams). */
  #used = false;
  #socket: ClientStreamSocket | null = null;
  #closed = false;
  readonly #handlers = new Map<string, ClientStreamHandler>();
  /** Upload replies by stream id. */
  readonly #replies = new Map<number, Waiter>();
  /** Download streams that arrived before their reply was claimed, by stream id. */
  readonly #downloads = new Map<number, IncomingStream>();
  readonly #claims = new Map<number, (stream: IncomingStream) => void>();
  /** Control handlers of bidirectional streams, by stream id. */
  readonly #controls = new Map<number, (control: unknown) => void>();

  constructor(options: ClientStreamsOptions) {
    this.#options = options;
  }

  bind(io: ClientStreamIo): void {
    if (this.#io) throw new Error("clientStreams() values belong to one client");
    this.#io = io;
    io.on("sente-lite/stream-reply", (data) => this.#reply(data));
    io.on("sente-lite/stream-control", (data) => {
      const d = (data ?? {}) as { stream?: number; data?: unknown };
      if (typeof d.stream === "number") this.#controls.get(d.stream)?.(d.data);
    });
  }

  offer(): string {
    return this.#name;
  }

  open(server: ServerInfo | null, socket: ClientStreamSocket): void {
    if (this.#closed) return;
    const caps = server?.capabilities ?? [];
    if (!caps.includes("streams")) {
      this.#reset(new StreamError("stream-refused", "the server does not offer streams"));
      this.#socket = null;
      return;
    }
    if (this.#used && !caps.includes("streams-resumed")) {
      this.#reset(new StreamError("stream-resume-failed", "the server no longer has the streams"));
    }
    this.#socket = socket;
    this.#used = true;
    // The client's WebSocket copies on send: DATA frames are built in one reused buffer.
    this.#muxOrNew().attach({
      send: (frame) => socket.send(frame),
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
      copiesOnSend: true,
    });
  }

  receive(frame: Uint8Array): boolean {
    // On a socket that negotiated streams every such frame is a stream frame: one that arrives
    // after close() (the socket is still closing) is dropped, not unpacked.
    if (!this.#socket || !isStreamFrame(frame)) return false;
    this.#mux?.receive(frame);
    return true;
  }

  drop(): void {
    this.#socket = null;
    this.#mux?.detach();
  }

  close(): void {
    this.#closed = true; // #socket stays: its late stream frames are still ours
    this.#reset(new StreamError("stream-cancelled", "the client closed"));
  }

  upload(id: string, body: StreamBodyLike, options: UploadOptions = {}): Promise<unknown> {
    return this.#upload(id, body, options, false).done;
  }

  openStream(id: string, options: OpenBidiOptions = {}): BidiStream {
    const pipe = new TransformStream<Uint8Array, Uint8Array>();
    const answer = new TransformStream<Uint8Array, Uint8Array>();
    const { sid, done, reply } = this.#upload(id, pipe.readable, options, true);
    const io = this.#bound();
    // The reply (it may come before the upload ends) names the server's answer stream; its bytes
    // flow into `readable`.
    const replied = reply.then(async (value) => {
      const n = (value as Record<string, unknown>)?.["sente-lite/stream"];
      if (typeof n !== "number") {
        await answer.writable.close();
        return value;
      }
      const stream = await this.#claim(n, options.signal);
      stream.accept();
      stream.readable.pipeTo(answer.writable).catch(() => {});
      stream.done.catch(() => {}).finally(() => this.#controls.delete(sid));
      return value;
    });
    replied.catch((e) => {
      this.#controls.delete(sid);
      answer.writable.abort(e).catch(() => {});
    });
    done.catch((e) => answer.writable.abort(e).catch(() => {}));
    return {
      readable: answer.readable,
      writable: pipe.writable,
      done: Promise.all([done, replied]).then(([, value]) => value),
      send: (control) => {
        if (sid < 0) return false;
        try {
          io.send("sente-lite/stream-control", { stream: sid, data: control });
          return true;
        } catch {
          return false;
        }
      },
      onControl: (fn) => void (sid >= 0 && this.#controls.set(sid, fn)),
    };
  }

  #upload(
    id: string,
    body: StreamBodyLike,
    options: UploadOptions,
    bidi: boolean,
  ): { sid: number; done: Promise<unknown>; reply: Promise<unknown> } {
    const io = this.#bound();
    const failed = (e: unknown) => {
      const p = Promise.reject(e);
      p.catch(() => {});
      return { sid: -1, done: p, reply: p };
    };
    if (this.#closed) return failed(new StreamError("stream-cancelled", "the client closed"));
    const { meta, ...rest } = options;
    let out;
    try {
      const packed = packMeta(io.packer, bidi ? { meta, bidi } : { meta });
      out = this.#muxOrNew().open(id, body, { ...rest, meta: packed });
    } catch (e) {
      return failed(e);
    }
    const sid = out.id;
    const reply = new Promise<unknown>((resolve, reject) => {
      this.#replies.set(sid, { resolve, reject });
    });
    reply.catch(() => {});
    const done = out.done.then(
      () => reply,
      (e) => {
        this.#replies.delete(sid);
        throw e;
      },
    );
    return { sid, done, reply };
  }

  async download(
    id: string,
    data?: unknown,
    options: DownloadOptions = {},
  ): Promise<DownloadStream> {
    const io = this.#bound();
    const reply = await io.request(id, data, { signal: options.signal }) as Record<string, unknown>;
    const failed = reply?.["sente-lite/stream-error"] as { code?: string; message?: string };
    if (failed) {
      throw new StreamError(
        (failed.code ?? "stream-refused") as "stream-refused",
        String(failed.message ?? "the download could not start"),
      );
    }
    const sid = reply?.["sente-lite/stream"];
    if (typeof sid !== "number") {
      throw new ServerError("bad-request", `the reply to ${id} names no stream`);
    }
    const stream = await this.#claim(sid, options.signal);
    stream.accept({ onProgress: options.onProgress });
    options.signal?.addEventListener("abort", () => stream.cancel(options.signal!.reason), {
      once: true,
    });
    return Object.assign(stream.readable, { sha256: stream.sha256 });
  }

  onStream(id: string, handler: ClientStreamHandler): () => void {
    if (typeof handler !== "function") throw new TypeError("handler must be a function");
    this.#handlers.set(id, handler);
    return () => {
      if (this.#handlers.get(id) === handler) this.#handlers.delete(id);
    };
  }

  #bound(): ClientStreamIo {
    if (!this.#io) throw new Error("clientStreams() must be passed to connect()");
    return this.#io;
  }

  #muxOrNew(): StreamMux {
    if (this.#mux) return this.#mux;
    const io = this.#bound();
    this.#mux = new StreamMux({
      ...this.#options,
      side: "client",
      clock: io.clock,
      onStream: (stream) => this.#incoming(stream),
    });
    return this.#mux;
  }

  /** Ends the current session's streams with `error`; the next socket starts a new one. */
  #reset(error: StreamError): void {
    this.#mux?.close(error);
    this.#mux = null;
    this.#used = false;
    for (const waiter of this.#replies.values()) waiter.reject(error);
    this.#replies.clear();
    this.#downloads.clear();
  }

  #incoming(stream: IncomingStream): void {
    const io = this.#bound();
    const meta = unpackMeta(io.packer, stream.meta);
    if (meta.reply === true || typeof meta.answer === "number") {
      const claim = this.#claims.get(stream.id);
      if (claim) {
        this.#claims.delete(stream.id);
        return claim(stream);
      }
      // The reply is still on its way; an unclaimed stream fails with stream-idle.
      this.#downloads.set(stream.id, stream);
      stream.done.catch(() => {}).finally(() => this.#downloads.delete(stream.id));
      return;
    }
    const handler = this.#handlers.get(stream.name);
    if (!handler) return stream.refuse(`no stream handler for ${stream.name}`);
    stream.accept();
    handler(stream.readable, meta.meta);
  }

  #claim(sid: number, signal: AbortSignal | undefined): Promise<IncomingStream> {
    const waiting = this.#downloads.get(sid);
    if (waiting) {
      this.#downloads.delete(sid);
      return Promise.resolve(waiting);
    }
    return new Promise((resolve, reject) => {
      this.#claims.set(sid, resolve);
      signal?.addEventListener("abort", () => {
        this.#claims.delete(sid);
        reject(signal.reason);
      }, { once: true });
    });
  }

  #reply(data: unknown): void {
    const d = (data ?? {}) as { stream?: number; value?: unknown; error?: { message?: string } };
    const waiter = typeof d.stream === "number" ? this.#replies.get(d.stream) : undefined;
    if (!waiter) return;
    this.#replies.delete(d.stream!);
    if (d.error) waiter.reject(new ServerError("handler-error", String(d.error.message ?? "")));
    else waiter.resolve(d.value);
  }
}
