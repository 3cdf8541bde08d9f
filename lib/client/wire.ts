// This module is browser compatible.
/**
 * The client's side of the wire transforms (batching, compression, chunking): what it offers in
 * the upgrade's `wire` parameter, and the per-socket pipeline once the handshake said what the
 * server agreed to. See docs/wire.md.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import type { Clock } from "../util/clock.ts";
import { BATCH_EVENT_ID } from "../wire/batch_frame.ts";
import { Batcher, type BatcherOptions } from "../wire/batcher.ts";
import { COMPRESSION_FORMATS, type CompressionFormat } from "../wire/compression.ts";
import {
  settingsFromHandshake,
  usesFlags,
  type WireFeatures,
  wireQueryValue,
  type WireSettings,
} from "../wire/capabilities.ts";
import type { WireError } from "../wire/errors.ts";
import { WIRE_DEFAULTS, type WireOptions, WireReceiver, WireSender } from "../wire/pipeline.ts";
import type { WireTransforms } from "./transforms.ts";

/** What the client asks the server for. */
export interface ClientWireOptions extends WireOptions {
  /**
   * Batch client→server events (JSON packer only: batches are joined as text).
   * @default {false}
   */
  batching?: boolean;
  /**
   * Compression formats accepted, best first; `false` for none.
   * @default {["deflate-raw", "gzip"]}
   */
  compression?: readonly CompressionFormat[] | false;
  /**
   * Accept and send chunked messages (above `chunkSize`, up to 64 MiB by default).
   * @default {true}
   */
  chunking?: boolean;
  /**
   * When a batch of events is flushed.
   * @default {maxCount: 10, maxBytes: 4096, intervalMs: 10, idleMs: 1}
   */
  batch?: Omit<BatcherOptions<string>, "clock" | "sizeOf">;
}

/**
 * Batching, compression and chunking for `connect(url, { wire: wireTransforms() })`: the client
 * offers them in the upgrade and runs what the server agreed to. Without it a client sends and
 * receives plain frames (and its bundle carries none of this code).
 *
 * @example
 * ```ts ignore
 * import { connect } from "@sente-lite/sente-lite/client";
 * import { wireTransforms } from "@sente-lite/sente-lite/client/wire";
 *
 * const client = connect("ws://127.0.0.1:3000/chsk", {
 *   wire: wireTransforms({ batching: true, compression: ["deflate-raw"] }),
 * });
 * ```
 */
export function wireTransforms(options?: ClientWireOptions): WireTransforms {
  options ??= {};
  if (options === null || typeof options !== "object") {
    throw new TypeError(`wireTransforms options must be an object, got ${options}`);
  }
  return {
    offer: (packerName) => wireQueryValue(clientFeatures(options, packerName)),
    open(server, packerName, io) {
      const offered = clientFeatures(options, packerName);
      const settings = settingsFromHandshake(offered, server.capabilities, server.wire);
      if (!settings.batching && !usesFlags(settings)) return null;
      return new ClientWire(settings, io.socket, options, {
        frame: io.frame,
        error: io.error,
        clock: io.clock,
        peerMaxMessageBytes: server.maxMessageBytes,
      });
    },
  };
}

/** The features a client offers with `options` (`false`: none) and its packer. */
export function clientFeatures(
  options: ClientWireOptions | false,
  packerName: string,
): WireFeatures {
  if (options === false) return { batching: false, compression: false, chunking: false };
  return {
    // Batches are built by joining packed frames as text, which only JSON allows.
    batching: (options.batching ?? false) && packerName === "json",
    compression: options.compression ?? COMPRESSION_FORMATS,
    chunking: options.chunking ?? true,
  };
}

/** The pipeline of one socket. */
export class ClientWire {
  readonly #sender: WireSender | null;
  readonly #receiver: WireReceiver | null;
  readonly #batcher: Batcher<string> | null;
  readonly #socket: { send(frame: Frame): void };

  /** Builds the pipeline for `settings` over `socket`. */
  constructor(
    readonly settings: WireSettings,
    socket: { send(frame: Frame): void; readonly bufferedAmount: number },
    options: ClientWireOptions | false,
    io: {
      frame(frame: Frame): void;
      error(error: WireError): void;
      clock: Clock;
      /** The server's `max-message-bytes`: a larger message is chunked even when compressed. */
      peerMaxMessageBytes?: number;
    },
  ) {
    this.#socket = socket;
    const o: WireOptions = { ...(options || {}), clock: io.clock };
    const flags = usesFlags(settings);
    const own = o.maxMessageBytes ?? WIRE_DEFAULTS.maxMessageBytes;
    const peer = io.peerMaxMessageBytes;
    const sendOptions = peer && peer > 0 ? { ...o, maxMessageBytes: Math.min(own, peer) } : o;
    this.#sender = flags ? new WireSender(settings, socket, sendOptions) : null;
    this.#receiver = flags ? new WireReceiver(settings, io, o) : null;
    this.#batcher = settings.batching
      ? new Batcher<string>((frames) => this.#write(joinBatch(frames)), {
        ...(options ? options.batch : undefined),
        sizeOf: (frame) => frame.length,
        clock: io.clock,
      })
      : null;
  }

  /** `true` when inbound frames must go through {@linkcode ClientWire.receive}. */
  get receives(): boolean {
    return this.#receiver !== null;
  }

  /** Sends one packed frame; `urgent` ones (pings, pongs, replies) flush the batch first. */
  send(frame: Frame, urgent = false): void {
    if (this.#batcher && typeof frame === "string") {
      this.#batcher.add(frame, { urgent });
      return;
    }
    this.#batcher?.flush();
    this.#write(frame);
  }

  #write(frame: Frame): void {
    if (this.#sender) this.#sender.send(frame);
    else this.#socket.send(frame);
  }

  /** Takes one inbound WebSocket frame; logical frames go to `io.frame`. */
  receive(frame: Frame): void {
    if (this.#receiver) this.#receiver.receive(frame);
  }

  /** Stops everything; what still waits is dropped (the socket is gone). */
  close(): void {
    this.#batcher?.close();
    this.#sender?.close();
    this.#receiver?.close();
  }
}

/** One frame for a batch of packed JSON frames: as is for one, else a `sente-lite/batch`. */
export function joinBatch(frames: string[]): string {
  return frames.length === 1
    ? frames[0]
    : `[[${JSON.stringify(BATCH_EVENT_ID)},[${frames.join(",")}]],null]`;
}
