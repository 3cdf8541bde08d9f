/**
 * Bun adapter: `Bun.serve` with its `websocket` handlers mapped onto the Hub's neutral socket.
 * Only the few Bun types used here are declared, so the package needs no Bun type definitions.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import type {
  ConnectionSink,
  PendingUpgrade,
  ServerSocket,
  UpgradeTarget,
} from "../server/socket.ts";
import type { ServeHandle, ServeOptions } from "./types.ts";

/** What the adapter keeps on each Bun socket (`ws.data`): also the Hub's socket for it. */
export interface SocketData {
  /**
   * The upgrade that passed the Hub's checks (dropped once open).
   * @ignore
   */
  pending: PendingUpgrade | null;
  /**
   * The Hub's inbound side once the socket opened.
   * @ignore
   */
  sink: ConnectionSink | null;
}

/** The part of Bun's `ServerWebSocket` the adapter uses. */
export interface BunWebSocket {
  /** Per-socket data given to `server.upgrade`. */
  data: SocketData;
  /** Sends a frame; returns bytes sent, -1 when backpressured, 0 when dropped. */
  send(data: string | Uint8Array): number;
  /** Closes the socket. */
  close(code?: number, reason?: string): void;
  /** Bytes buffered and not yet sent. */
  getBufferedAmount(): number;
  /** Drops the connection without a close handshake. */
  terminate?(): void;
  /** Joins a topic (`server.publish` reaches it). */
  subscribe?(topic: string): void;
  /** Leaves a topic. */
  unsubscribe?(topic: string): void;
}

/** The part of Bun's `Server` the adapter uses. */
export interface BunServer {
  /** Upgrades a request; `true` when it did. */
  upgrade(
    request: Request,
    options: { data: SocketData; headers?: Record<string, string> },
  ): boolean;
  /** The peer's address of a request. */
  requestIP(request: Request): { address: string } | null;
  /** Stops listening; `true` closes active connections too. */
  stop(closeActiveConnections?: boolean): void | Promise<void>;
  /** The bound port. */
  readonly port: number;
  /** The bound hostname. */
  readonly hostname: string;
  /** Sends to every socket subscribed to `topic`. */
  publish?(topic: string, data: string | Uint8Array): number;
}

/** The server whose `publish` the sockets of one config share (known from the first request). */
interface Shared {
  server: BunServer | null;
}

/**
 * One Bun socket's only per-connection object in the adapter: its `ws.data` (given to
 * `server.upgrade`) and the Hub's socket over Bun's `ServerWebSocket` once open. Methods on the
 * prototype, no closures; Bun's native topics are the Hub's optional fast path.
 */
class BunSocket implements ServerSocket, SocketData {
  #ws: BunWebSocket | null = null;
  readonly #shared: Shared;
  pending: PendingUpgrade | null;
  sink: ConnectionSink | null = null;
  constructor(pending: PendingUpgrade, shared: Shared) {
    this.pending = pending;
    this.#shared = shared;
  }
  /** The socket opened: the Hub takes it over. */
  open(ws: BunWebSocket, hub: UpgradeTarget): void {
    this.#ws = ws;
    if (!ws.subscribe || !this.#shared.server?.publish) {
      // No topics in this Bun: the Hub sends per connection.
      this.subscribe = undefined;
      this.unsubscribe = undefined;
      this.publish = undefined;
    }
    const pending = this.pending!;
    this.pending = null; // its Request is not needed once open
    this.sink = hub.open(pending, this);
  }
  send(frame: Frame): void {
    this.#ws!.send(frame);
  }
  close(code?: number, reason?: string): void {
    this.#ws!.close(code, reason);
  }
  terminate(): void {
    this.#ws!.terminate?.();
  }
  get bufferedAmount(): number {
    return this.#ws!.getBufferedAmount();
  }
  subscribe?(topic: string): void {
    this.#ws!.subscribe!(topic);
  }
  unsubscribe?(topic: string): void {
    this.#ws!.unsubscribe!(topic);
  }
  publish?(topic: string, frame: Frame): void {
    this.#shared.server!.publish!(topic, frame);
  }
}

/** The `fetch` and `websocket` options for `Bun.serve`. */
export interface BunServeConfig {
  /** Answers HTTP requests and upgrades the Hub's path. */
  fetch(
    request: Request,
    server: BunServer,
  ): Response | undefined | Promise<Response | undefined>;
  /** WebSocket event handlers. */
  websocket: {
    open(ws: BunWebSocket): void;
    message(ws: BunWebSocket, message: string | Uint8Array): void;
    close(ws: BunWebSocket, code: number, reason: string): void;
    maxPayloadLength: number;
    idleTimeout: number;
    sendPings: boolean;
  };
}

/** Makes the `Bun.serve` configuration for a Hub. */
export function bunConfig(hub: UpgradeTarget): BunServeConfig {
  const shared: Shared = { server: null };
  const upgrade = (
    request: Request,
    server: BunServer,
    prepared: Response | PendingUpgrade,
  ): Response | undefined => {
    if (prepared instanceof Response) return prepared;
    const headers: Record<string, string> | undefined = prepared.protocol
      ? { "sec-websocket-protocol": prepared.protocol }
      : undefined;
    const data = new BunSocket(prepared, shared);
    if (server.upgrade(request, { data, headers })) return undefined;
    prepared.slot?.release(hub.options.clock); // not upgraded: its connection slot is free
    return new Response("WebSocket upgrade failed\n", { status: 400 });
  };
  return {
    fetch(request, server) {
      shared.server ??= server;
      // Synchronous unless an application hook is asynchronous: no promise per upgrade.
      const prepared = hub.prepareNow(request, server.requestIP(request)?.address ?? null);
      if (!(prepared instanceof Promise)) return upgrade(request, server, prepared);
      return prepared.then((p) => upgrade(request, server, p));
    },
    websocket: {
      open(ws) {
        (ws.data as BunSocket).open(ws, hub);
      },
      message(ws, message) {
        ws.data.sink?.received(message);
      },
      close(ws, code, reason) {
        ws.data.sink?.socketClosed(code, reason);
      },
      // One byte over the Hub's limit, so the Hub sees oversized frames and answers 1009 itself.
      maxPayloadLength: hub.options.maxMessageBytes + 1,
      // Liveness is the protocol's job (application-level pings), not the runtime's.
      idleTimeout: 0,
      sendPings: false,
    },
  };
}

/**
 * Bun.serve's HTTP `idleTimeout` (seconds, at most 255) from the handshake timeout: it closes
 * connections that stall in their request headers, which the Hub never sees.
 */
export function bunIdleTimeout(hub: UpgradeTarget): number {
  return Math.min(255, Math.max(1, Math.ceil(hub.options.handshakeTimeoutMs / 1000)));
}

interface BunGlobal {
  serve(options: Record<string, unknown>): BunServer;
}

/** Serves with `Bun.serve`; resolves once listening. */
export function bunServe(hub: UpgradeTarget, options: ServeOptions): Promise<ServeHandle> {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const config = bunConfig(hub);
  const server = bun.serve({
    port: options.port ?? 0,
    hostname: options.hostname ?? "127.0.0.1",
    idleTimeout: bunIdleTimeout(hub),
    ...config,
  });
  let done!: () => void;
  const finished = new Promise<void>((r) => done = r);
  const close = async () => {
    hub.closeAll();
    await server.stop(false);
    done();
  };
  options.signal?.addEventListener("abort", () => void close(), { once: true });
  const hostname = server.hostname;
  return Promise.resolve({
    hostname,
    port: server.port,
    url: `ws://${
      hostname.includes(":") ? `[${hostname}]` : hostname
    }:${server.port}${hub.options.path}`,
    close,
    finished,
  });
}
