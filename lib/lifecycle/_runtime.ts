/**
 * The runtime-specific part of lifecycle: signals, exit, process memory and a listener that can
 * stop accepting connections, for Deno and Bun. Everything else in `lib/lifecycle/` is
 * runtime-neutral.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { bunIdleTimeout, type BunServer } from "../adapters/bun.ts";
import type { Server } from "../server/server.ts";
import { reportListener } from "../adapters/deno.ts";
import { serveResilient } from "../adapters/deno_listener.ts";
import type { ProcessMemory } from "./component.ts";

interface ProcessLike {
  on(event: string, fn: () => void): void;
  off(event: string, fn: () => void): void;
  exit(code: number): never;
  memoryUsage(): ProcessMemory;
}

interface BunGlobal {
  serve(options: Record<string, unknown>): BunServer;
}

function bun(): BunGlobal | undefined {
  return (globalThis as unknown as { Bun?: BunGlobal }).Bun;
}

function proc(): ProcessLike | undefined {
  return (globalThis as unknown as { process?: ProcessLike }).process;
}

function deno(): typeof Deno | undefined {
  return (globalThis as unknown as { Deno?: typeof Deno }).Deno;
}

/** Signal numbers, for the conventional `128 + n` exit code of a forced exit. */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGTERM: 15,
};

/** Calls `fn` on `signal`; returns a function that removes the listener. */
export function onSignal(signal: string, fn: () => void): () => void {
  const d = deno();
  if (d && !bun()) {
    d.addSignalListener(signal as Deno.Signal, fn);
    return () => d.removeSignalListener(signal as Deno.Signal, fn);
  }
  const p = proc();
  if (!p) throw new TypeError("signals need Deno or a Node-style process (Bun, Node)");
  p.on(signal, fn);
  return () => p.off(signal, fn);
}

/** Ends the process with `code`. */
export function exitProcess(code: number): void {
  const d = deno();
  if (d && !bun()) d.exit(code);
  else proc()?.exit(code);
}

/** Process memory, or `null` where the runtime does not report it (browsers). */
export function memoryUsage(): ProcessMemory | null {
  try {
    const d = deno();
    const m = d && !bun() ? d.memoryUsage() : proc()?.memoryUsage();
    if (!m) return null;
    return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external };
  } catch {
    return null;
  }
}

/** Reads a UTF-8 text file. */
export function readTextFile(path: string): Promise<string> {
  return readFile(path, "utf8");
}

/** A fetch handler that may decline (returns `undefined`) so the server answers. */
export type Intercept = (request: Request) => Response | Promise<Response> | undefined;

/** A listening server whose listener can stop before its WebSockets do. */
export interface Listener {
  /** The bound interface. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /**
   * Stops taking new TCP connections where the runtime can do so without closing open
   * WebSockets (Bun); elsewhere (Deno, whose `shutdown()` also ends WebSockets) a no-op, and the
   * caller refuses upgrades itself.
   */
  stopAccepting(): void;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/** Listens with `server`'s handler, asking `intercept` first. */
export function listen(
  server: Server,
  options: { port: number; hostname: string },
  intercept: Intercept,
): Listener {
  const b = bun();
  if (b) {
    const config = server.bun();
    const srv = b.serve({
      port: options.port,
      hostname: options.hostname,
      idleTimeout: bunIdleTimeout(server), // stalled request headers
      fetch: (request: Request, s: BunServer) => intercept(request) ?? config.fetch(request, s),
      websocket: config.websocket,
    });
    let stopped = false;
    return {
      hostname: srv.hostname,
      port: srv.port,
      stopAccepting: () => {
        if (!stopped) void srv.stop(false);
        stopped = true;
      },
      close: async () => {
        stopped = true;
        await srv.stop(true);
      },
    };
  }
  const d = deno();
  if (!d) throw new TypeError("listening needs Deno or Bun");
  // The server's handler may take the connection info (for the peer address) as well.
  const handler = server.handler as (r: Request, info: unknown) => Promise<Response>;
  // Listens again when the accept loop fails (out of descriptors) instead of ending the process.
  const srv = serveResilient(
    { port: options.port, hostname: options.hostname },
    (request, info) => intercept(request) ?? handler(request, info),
    reportListener(server),
  );
  let closing: Promise<void> | undefined;
  return {
    hostname: srv.addr.hostname,
    port: srv.addr.port,
    stopAccepting: () => {},
    close: () => closing ??= srv.shutdown(),
  };
}
