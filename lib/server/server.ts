/**
 * The server as applications use it: the Hub plus runtime glue (a fetch-style `handler`, `serve`
 * on Deno or Bun, and the `Bun.serve` configuration).
 *
 * @module
 */
import { bunConfig, bunServe, type BunServeConfig } from "../adapters/bun.ts";
import { denoHandler, denoServe, type RequestInfo } from "../adapters/deno.ts";
import type { ServeHandle, ServeOptions } from "../adapters/types.ts";
import { Hub } from "./hub.ts";
import type { ServerOptions } from "./options.ts";

/** `true` when running under Bun. */
function isBun(): boolean {
  return "Bun" in globalThis;
}

/**
 * A sente-lite server: handlers, routing and sends (from {@linkcode Hub}) plus runtime glue.
 */
export class Server extends Hub {
  /**
   * A fetch-style handler (`(Request) => Response`) to mount in any Deno app: upgrades requests
   * for `path`, answers others with `fallback` or 404. Under Bun use {@linkcode Server.bun}.
   */
  readonly handler: (request: Request, info?: RequestInfo) => Promise<Response> = (
    request,
    info,
  ) => {
    if (isBun()) {
      return Promise.resolve(
        new Response("Under Bun, pass server.bun() to Bun.serve\n", { status: 500 }),
      );
    }
    return Promise.resolve(denoHandler(this, request, info));
  };

  /** The `fetch` and `websocket` options to spread into `Bun.serve({...})`. */
  bun(): BunServeConfig {
    return bunConfig(this);
  }

  /** Listens on `hostname:port` with the current runtime (Deno or Bun). */
  serve(options: ServeOptions = {}): Promise<ServeHandle> {
    if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0)) {
      throw new RangeError(`port must be an integer >= 0, got ${options.port}`);
    }
    return isBun()
      ? bunServe(this, options)
      : denoServe(this, options, (request, info) => denoHandler(this, request, info));
  }
}

/** Creates a server; see {@linkcode ServerOptions} for every option and its default. */
export function createServer(options: ServerOptions = {}): Server {
  return new Server(options);
}
