/**
 * Deno adapter: `Deno.upgradeWebSocket` and `Deno.serve` mapped onto the Hub's neutral socket.
 *
 * @module
 */
import type { ConnectionSink, UpgradeTarget } from "../server/socket.ts";
import type { ServeHandle, ServeOptions } from "./types.ts";
import { type ListenerEvent, serveResilient } from "./deno_listener.ts";

/** What Deno.serve tells a handler about the connection (structurally, so any caller can pass it). */
export interface RequestInfo {
  /** The peer's address. */
  readonly remoteAddr?: { readonly hostname?: string };
}

/** Answers one HTTP request: upgrades it for the Hub's path, or returns the Hub's response. */
export async function denoHandler(
  hub: UpgradeTarget,
  request: Request,
  info?: RequestInfo,
): Promise<Response> {
  const prepared = await hub.prepare(request, info?.remoteAddr?.hostname ?? null);
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
  socket.binaryType = "arraybuffer";
  let sink: ConnectionSink | undefined;
  socket.onopen = () => {
    // No terminate(): Deno's server WebSocket cannot be dropped without its close handshake.
    sink = hub.open(prepared, {
      send: (frame) => socket.send(frame as string | Uint8Array<ArrayBuffer>),
      close: (code, reason) => socket.close(code, reason),
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
    });
  };
  socket.onmessage = (e) => {
    sink?.message(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
  };
  socket.onclose = (e) => {
    // Deno reports an abnormal close (no close frame) as code 0; RFC 6455 calls it 1006.
    if (sink) sink.closed(e.code || 1006, e.reason);
    else prepared.slot?.release(hub.options.clock); // gone before it opened
  };
  // Errors are always followed by a close event, which does the cleanup.
  socket.onerror = () => {};
  return response;
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
