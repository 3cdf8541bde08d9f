/**
 * The runtime-neutral socket the Hub talks to. Runtime adapters (Deno.serve, Bun.serve) turn
 * their native WebSocket into this and forward its events to a {@linkcode ConnectionSink}.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";

/** The outbound half of a server-side WebSocket, as the Hub sees it. */
export interface ServerSocket {
  /** Sends one frame; text for strings, binary for bytes. */
  send(frame: Frame): void;
  /** Closes the socket with a code and reason. */
  close(code?: number, reason?: string): void;
  /**
   * Drops the connection without a close handshake, where the runtime can (Bun's
   * `ws.terminate()`; Deno has none for server sockets). Used when a close is never answered.
   */
  terminate?(): void;
  /** Bytes queued in the runtime and not yet written to the network. */
  readonly bufferedAmount: number;
}

/** The inbound half: what an adapter calls when its socket receives a frame or closes. */
export interface ConnectionSink {
  /** One frame arrived. */
  message(frame: Frame): void;
  /** The socket closed (for any reason, exactly once). */
  closed(code: number, reason: string): void;
}
