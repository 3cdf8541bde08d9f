/**
 * `Deno.serve` that survives the end of its accept loop.
 *
 * When the process runs out of file descriptors, Deno.serve's accept loop (`op_http_wait` in
 * `ext:deno_http/00_serve.ts`) fails with `Too many open files (os error 24)`: the listener
 * closes and the server's `finished` promise rejects with `Deno.errors.Http`. Unobserved, that
 * rejection ends the process (`Uncaught (in promise) Http: …`). Open WebSockets are not affected
 * (they left the HTTP server when they were upgraded), so here the rejection is caught, reported,
 * and the same address is listened on again with backoff until descriptors free up; meanwhile new
 * connections are refused by the kernel.
 *
 * @module
 */

/** What happened to the listener, for logs and telemetry. */
export type ListenerEvent =
  | { type: "accept-failed"; error: unknown }
  | { type: "relisten-failed"; error: unknown; attempt: number }
  | { type: "listening-again"; attempt: number };

/** A `Deno.serve` server that listens again after its accept loop failed. */
export interface ResilientServer {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** Settles once `shutdown()` ran (or the signal aborted); never rejects. */
  readonly finished: Promise<void>;
  /** Stops listening and ends every connection. */
  shutdown(): Promise<void>;
}

/** First and longest wait before listening again, in ms. */
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2000;

/** Serves `handler` on `hostname:port`; see the module doc. Throws when the first bind fails. */
export function serveResilient(
  options: { port: number; hostname: string; signal?: AbortSignal },
  handler: Deno.ServeHandler<Deno.NetAddr>,
  report: (event: ListenerEvent) => void,
): ResilientServer {
  const serve = (port: number, hostname: string) =>
    Deno.serve({ port, hostname, onListen: () => {} }, handler);
  let current = serve(options.port, options.hostname);
  const addr = current.addr;
  let stopped = false;
  let attempt = 0;
  let listeningSince = Date.now();
  let retry: ReturnType<typeof setTimeout> | undefined;
  let done!: () => void;
  const finished = new Promise<void>((r) => done = r);

  const watch = (server: Deno.HttpServer<Deno.NetAddr>) => {
    server.finished.then(
      () => {
        if (stopped) done();
        else relisten(); // ended without shutdown(): listen again as well
      },
      (error) => {
        if (stopped) return done();
        report({ type: "accept-failed", error });
        relisten();
      },
    );
  };
  const relisten = () => {
    // A listener that stayed up a while resets the backoff.
    if (Date.now() - listeningSince > RETRY_MAX_MS * 2) attempt = 0;
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempt, 10));
    retry = setTimeout(() => {
      retry = undefined;
      if (stopped) return;
      attempt++;
      try {
        current = serve(addr.port, addr.hostname);
      } catch (error) {
        // Still no descriptor for the listening socket (or the port was taken): wait longer.
        report({ type: "relisten-failed", error, attempt });
        return relisten();
      }
      report({ type: "listening-again", attempt });
      listeningSince = Date.now();
      watch(current);
    }, delay);
  };
  watch(current);

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    closing ??= (async () => {
      stopped = true;
      if (retry !== undefined) clearTimeout(retry);
      try {
        await current.shutdown();
      } catch {
        // The accept loop had already failed: nothing left to shut down.
      }
      done();
    })();
  options.signal?.addEventListener("abort", () => void shutdown(), { once: true });
  return { addr, finished, shutdown };
}
