/**
 * Deno adapter: `Deno.upgradeWebSocket` and `Deno.serve` mapped onto the Hub's neutral socket.
 *
 * @module
 */
import {
  type ConnectionSink,
  type PendingUpgrade,
  type ServerSocket,
  socketEvent,
  type UpgradeTarget,
} from "../server/socket.ts";
import type { ServeHandle, ServeOptions } from "./types.ts";
import { type ListenerEvent, serveResilient } from "./deno_listener.ts";
import { skipUpgradeAbort } from "./deno_upgrade_abort.ts";

/** What Deno.serve tells a handler about the connection (structurally, so any caller can pass it). */
export interface RequestInfo {
  /** The peer's address. */
  readonly remoteAddr?: { readonly hostname?: string };
}

/**
 * Answers one HTTP request: upgrades it for the Hub's path, or returns the Hub's response.
 * Synchronous unless an application hook is asynchronous (no promise per upgrade).
 */
export function denoHandler(
  hub: UpgradeTarget,
  request: Request,
  info?: RequestInfo,
): Response | Promise<Response> {
  const prepared = hub.prepareNow(request, info?.remoteAddr?.hostname ?? null);
  if (prepared instanceof Promise) return prepared.then((p) => upgrade(hub, request, p));
  return upgrade(hub, request, prepared);
}

function upgrade(
  hub: UpgradeTarget,
  request: Request,
  prepared: Response | PendingUpgrade,
): Response {
  if (prepared instanceof Response) return prepared;
  // idleTimeout 0: liveness is the protocol's job (application-level pings), not the runtime's.
  let upgraded;
  try {
    upgraded = Deno.upgradeWebSocket(request, { idleTimeout: 0, protocol: prepared.protocol });
  } catch (e) {
    // A malformed upgrade (no Sec-WebSocket-Key…): its connection slot is free at once.
    prepared.slot?.release(hub.options.clock);
    return new Response(`WebSocket upgrade failed: ${(e as Error).message}\n`, { status: 400 });
  }
  const { socket, response } = upgraded;
  skipUpgradeAbort(request); // about a fifth of a connection's CPU (deno_upgrade_abort.ts)
  socket.binaryType = "arraybuffer";
  const opening = new DenoOpening(hub, socket, prepared);
  socket.addEventListener("open", opening);
  socket.addEventListener("close", opening);
  // Errors are always followed by a close event, which does the cleanup.
  return response;
}

/**
 * A Deno WebSocket until it opens, as its listener (`handleEvent`): then the Hub takes the socket
 * itself as its socket (Deno's WebSocket has what the Hub's socket needs: `send`, `close`,
 * `bufferedAmount`) and the connection as the listener of its frames and close. So an open
 * connection has no adapter object: this one is garbage once open (-56 B per idle connection).
 */
class DenoOpening implements EventListenerObject {
  readonly #hub: UpgradeTarget;
  readonly #socket: WebSocket;
  readonly #pending: PendingUpgrade;
  constructor(hub: UpgradeTarget, socket: WebSocket, pending: PendingUpgrade) {
    this.#hub = hub;
    this.#socket = socket;
    this.#pending = pending;
  }
  handleEvent(e: Event): void {
    const socket = this.#socket;
    // Opens or closes once. Deno keeps every listener of a type in an array of its own (with room
    // for 17 entries) plus a record and an options object, ~250 B per idle connection.
    socket.removeEventListener("open", this);
    socket.removeEventListener("close", this);
    if (e.type !== "open") {
      this.#pending.slot?.release(this.#hub.options.clock); // gone before it opened
      return;
    }
    // Its Request is not kept: nothing refers to this object any more once the Hub has the socket.
    const sink = this.#hub.open(this.#pending, socket as ServerSocket);
    const listener = sink.handleEvent ? (sink as EventListenerObject) : new DenoEvents(sink);
    socket.addEventListener("message", listener);
    socket.addEventListener("close", listener);
  }
}

/** The listener of an open socket whose sink is not a listener itself (see `socketEvent`). */
class DenoEvents implements EventListenerObject {
  readonly #sink: ConnectionSink;
  constructor(sink: ConnectionSink) {
    this.#sink = sink;
  }
  handleEvent(e: Event): void {
    socketEvent(this.#sink, e);
  }
}

/**
 * Reports listener trouble (the accept loop failing, e.g. out of file descriptors) to the Hub's
 * telemetry (`sente-lite.server`) and, once per outage, to `onError`.
 */
export function reportListener(hub: UpgradeTarget): (event: ListenerEvent) => void {
  const tel = hub.options.telemetry.scope("sente-lite.server");
  return (event) => {
    if (event.type === "accept-failed") {
      tel.event("sente-lite/accept-failed", {
        level: "error",
        data: () => ({ message: String((event.error as Error)?.message ?? event.error) }),
      });
      hub.options.onError(event.error, { where: "listener (accepting connections)" });
    } else if (event.type === "relisten-failed") {
      tel.event("sente-lite/listen-failed", {
        level: "warn",
        data: () => ({ attempt: event.attempt, message: String(event.error) }),
      });
    } else {
      tel.event("sente-lite/listen-again", {
        level: "info",
        data: () => ({ attempt: event.attempt }),
      });
    }
  };
}

/** Serves with `Deno.serve`; resolves once listening. */
export function denoServe(
  hub: UpgradeTarget,
  options: ServeOptions,
  handler: (request: Request, info?: RequestInfo) => Response | Promise<Response>,
): Promise<ServeHandle> {
  // Listens again when the accept loop fails (out of descriptors) instead of ending the process.
  const server = serveResilient(
    {
      port: options.port ?? 0,
      hostname: options.hostname ?? "127.0.0.1",
      signal: options.signal,
    },
    handler,
    reportListener(hub),
  );
  const { hostname, port } = server.addr;
  options.signal?.addEventListener("abort", () => hub.closeAll(), { once: true });
  return Promise.resolve({
    hostname,
    port,
    url: `ws://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}${hub.options.path}`,
    close: async () => {
      hub.closeAll();
      await server.shutdown();
    },
    finished: server.finished,
  });
}
