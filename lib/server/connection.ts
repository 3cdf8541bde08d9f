/**
 * One server-side connection: its identity, socket, packer and per-connection state.
 * All per-connection state lives here, so closing it cleans everything up in one place.
 *
 * @module
 */
import type { ServerDialect } from "../dialects/dialect.ts";
import type { Frame, Packer } from "../packers/packer.ts";
import type { ServerMessage } from "../protocol/envelope.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";
import { frameByteLength } from "../util/utf8.ts";
import type { ServerSocket } from "./socket.ts";
import type { TokenBucket } from "./rate_limit.ts";
import type { OutboundGate } from "./backpressure.ts";
import type { ConnectionWire } from "./wire.ts";
import type { SharedFrame } from "../wire/compression.ts";
import type { ConnectionInfo, ServerStats } from "./types.ts";
import type { Session } from "./delivery.ts";

/** The longest a close waits for queued wire output (compression is asynchronous), in ms. */
const CLOSE_FLUSH_MS = 5000;

/** A server→client request waiting for its reply. */
export interface PendingRequest {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: TimerHandle;
  cleanup(): void;
}

/** A live connection. */
export class Connection implements ConnectionInfo {
  /** Channels this connection is subscribed to. */
  readonly channels: Set<string> = new Set();
  /** Server→client requests in flight, by callback id. */
  readonly pending: Map<string, PendingRequest> = new Map();
  /** Bad frames seen so far. */
  protocolErrors = 0;
  /** Clock time of the last received frame. */
  lastSeen: number;
  /** `true` once the socket closed or close was requested. */
  closed = false;
  /** The code the server closed this connection with, if it did. */
  closeCode: number | null = null;
  /** Inbound message rate limit, when enabled. */
  messageBucket: TokenBucket | null = null;
  /** Inbound byte rate limit, when enabled. */
  byteBucket: TokenBucket | null = null;
  /** The next server→client request id (base 36). */
  nextCbId = 1;
  /** Rate-limited frames in a row. */
  violations = 0;
  /** Clock time of the last rate-limited frame (the refusal count resets after `backoffMs`). */
  lastViolationAt = 0;
  /** The peer's IP address, when the adapter knows it. */
  remoteIp: string | null = null;
  /** The outbound bound (backpressure), when enabled. */
  gate: OutboundGate | null = null;
  /** Batching, compression and chunking, when negotiated. */
  wire: ConnectionWire | null = null;
  /** The Hub's clock (bounds the flush before a close). */
  clock: Clock | null = null;
  /** How long a close may take before the socket is dropped, in ms. */
  closeTimeoutMs = CLOSE_FLUSH_MS;
  /** Runs when a close was not done within `closeTimeoutMs` (the Hub cleans up). */
  onCloseTimeout: (() => void) | null = null;
  #closeTimer: TimerHandle | null = null;
  /** The resume session of this client id, when resume was negotiated (docs/delivery.md). */
  session: Session<Connection> | null = null;

  /** Makes a connection over an adapter's socket. */
  constructor(
    readonly id: string,
    readonly uid: string,
    readonly clientId: string,
    readonly request: Request,
    readonly packerImpl: Packer,
    readonly dialect: ServerDialect,
    readonly socket: ServerSocket,
    readonly openedAt: number,
    readonly stats: ServerStats,
  ) {
    this.lastSeen = openedAt;
  }

  /** The packer name. */
  get packer(): string {
    return this.packerImpl.name;
  }

  /**
   * Sends an already packed frame through the backpressure gate; returns `false` when closed,
   * refused as a slow consumer, or the runtime refused it.
   */
  sendFrame(frame: Frame): boolean {
    if (this.closed) return false;
    const bytes = frameByteLength(frame);
    return this.gate ? this.gate.send(frame, bytes) : this.write(frame, bytes);
  }

  /** Writes a frame to the socket now, bypassing the gate. */
  write(frame: Frame, bytes: number): boolean {
    if (this.closed) return false;
    try {
      if (this.wire?.sender) this.wire.sender.send(frame);
      else this.socket.send(frame);
    } catch {
      return false;
    }
    this.stats.messagesOut++;
    this.stats.bytesOut += bytes;
    return true;
  }

  /**
   * Encodes (dialect), packs (packer) and sends one message. With batching negotiated, pushes
   * join the batch; anything else flushes the batch first, so order is kept.
   */
  send(message: ServerMessage): boolean {
    if (this.closed) return false;
    const batcher = this.wire?.batcher;
    if (batcher) {
      if (message.type === "push") {
        for (const event of message.events) batcher.add(event);
        return true;
      }
      batcher.flush();
    }
    return this.sendNow(message);
  }

  /** Sends a frame shared with other connections (a broadcast), reusing its compression. */
  sendShared(shared: SharedFrame): boolean {
    if (this.closed) return false;
    this.wire?.batcher?.flush();
    const sender = this.wire?.sender;
    // A full socket goes through the backpressure gate with the plain frame instead.
    if (!sender || (this.gate && this.socket.bufferedAmount > this.gate.options.maxBufferedBytes)) {
      return this.sendFrame(shared.frame);
    }
    sender.sendShared(shared);
    this.stats.messagesOut++;
    this.stats.bytesOut += frameByteLength(shared.frame);
    return true;
  }

  /** Encodes, packs and sends `message` now, bypassing the batch. */
  sendNow(message: ServerMessage): boolean {
    if (this.closed) return false;
    let ok = true;
    for (const value of this.dialect.encode(message)) {
      ok = this.sendFrame(this.packerImpl.pack(value)) && ok;
    }
    return ok;
  }

  /** The packed frames of `message` for this connection's dialect and packer. */
  frames(message: ServerMessage): Frame[] {
    return this.dialect.encode(message).map((v) => this.packerImpl.pack(v));
  }

  /**
   * Closes the socket; cleanup happens when the adapter reports the close, or when the close
   * is not done within `closeTimeoutMs` (then the socket is terminated where the runtime can,
   * and `onCloseTimeout` runs).
   */
  close(code: number, reason: string): void {
    if (this.closed) return;
    // What was sent before the close goes out before it: the batch, then the wire sender's
    // queue (compression is asynchronous), bounded for a peer that stopped reading.
    this.wire?.batcher?.flush();
    this.closed = true;
    this.closeCode = code;
    let socketClosed = false;
    const closeSocket = () => {
      if (socketClosed) return;
      socketClosed = true;
      try {
        this.socket.close(code, reason);
      } catch {
        // Already closing at the runtime level: the close event still comes.
      }
    };
    const clock = this.clock;
    if (clock && this.onCloseTimeout) {
      // A peer that never reads never answers the close frame: the whole close is bounded.
      this.#closeTimer = clock.setTimeout(() => {
        this.#closeTimer = null;
        closeSocket();
        try {
          this.socket.terminate?.();
        } catch {
          // Already gone.
        }
        this.onCloseTimeout?.();
      }, this.closeTimeoutMs);
    }
    const sender = this.wire?.sender;
    if (!sender || sender.stats().queued === 0 || !clock) return closeSocket();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      closeSocket();
    };
    // Half the close timeout for the flush leaves the other half for the close handshake.
    const flushMs = Math.min(CLOSE_FLUSH_MS, Math.max(1, Math.floor(this.closeTimeoutMs / 2)));
    const timer = clock.setTimeout(finish, flushMs);
    void sender.idle().then(finish);
  }

  /** The close completed (the adapter reported it, or it timed out): stops the close timer. */
  closeDone(): void {
    if (this.#closeTimer !== null) this.clock?.clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
  }

  /** A plain snapshot for applications. */
  info(): ConnectionInfo {
    return {
      id: this.id,
      uid: this.uid,
      clientId: this.clientId,
      packer: this.packer,
      openedAt: this.openedAt,
      request: this.request,
    };
  }
}
