/**
 * The server as applications use it: the Hub plus runtime glue (a fetch-style `handler`, `serve`
 * on Deno or Bun, and the `Bun.serve` configuration).
 *
 * @module
 */
import { bunConfig, bunServe, type BunServeConfig } from "../adapters/bun.ts";
import { denoHandler, denoServe, type RequestInfo } from "../adapters/deno.ts";
import type { ServeHandle, ServeOptions } from "../adapters/types.ts";
import type { AnyEvents, EventMap } from "../protocol/event_map.ts";
import { Hub } from "./hub.ts";
import type { ServerOptions } from "./options.ts";

/** `true` when running under Bun. */
function isBun(): boolean {
  return "Bun" in globalThis;
}

/**
 * A sente-lite server: handlers, routing and sends (from {@linkcode Hub}) plus runtime glue.
 * `E` is the application's `EventMap` (untyped by default); make one with {@linkcode createServer}.
 */
export class Server<E extends EventMap = AnyEvents> extends Hub<E> {
  /**
   * A fetch-style handler (`(Request) => Response`) to mount in any Deno app: upgrades requests
   * for `path`, answers others with `fallback` or 404. Under Bun use {@linkcode Server.bun}.
   *
   * @example
   * ```ts ignore
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * Deno.serve({ port: 3000 }, (request, info) => {
   *   if (new URL(request.url).pathname === "/chsk") return server.handler(request, info);
   *   return new Response("my app");
   * });
   * ```
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

  /**
   * The `fetch` and `websocket` options to spread into `Bun.serve({...})`.
   *
   * @example
   * ```ts ignore
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * Bun.serve({ port: 3000, ...server.bun() });
   * ```
   */
  bun(): BunServeConfig {
    return bunConfig(this);
  }

  /**
   * Listens on `hostname:port` with the current runtime (Deno or Bun); resolves once listening.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   *
   * const server = createServer();
   * const handle = await server.serve({ port: 0 }); // 0: any free port
   * console.log(handle.url); // ws://127.0.0.1:…/chsk
   * await handle.close();
   * ```
   */
  serve(options?: ServeOptions): Promise<ServeHandle> {
    options ??= {};
    if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0)) {
      throw new RangeError(`port must be an integer >= 0, got ${options.port}`);
    }
    return isBun()
      ? bunServe(this, options)
      : denoServe(this, options, (request, info) => denoHandler(this, request, info));
  }
}

/**
 * Creates a server; see {@linkcode ServerOptions} for every option and its default. Pass an
 * `EventMap` as `E` to type handlers, sends, requests and channels.
 *
 * @example Untyped
 * ```ts
 * import { createServer } from "@sente-lite/sente-lite/server";
 *
 * const server = createServer({ authenticate: (req) => new URL(req.url).searchParams.get("user") });
 * server.on("demo/echo", (msg) => msg.data);
 * ```
 *
 * @example Typed
 * ```ts
 * import { createServer } from "@sente-lite/sente-lite/server";
 *
 * interface Events {
 *   clientToServer: { "chat/say": { data: { text: string }; reply: { ok: boolean } } };
 *   serverToClient: { "chat/said": { data: { uid: string; text: string } } };
 * }
 * const server = createServer<Events>();
 * server.on("chat/say", (msg) => {
 *   server.broadcast("chat/said", { uid: msg.uid, text: msg.data.text });
 *   return { ok: true };
 * });
 * ```
 *
 * A server referred to inside its own options (say, in `fallback`) needs its type written out,
 * `const server: Server = createServer({ … })`, as for any generic call.
 */
export function createServer<E extends EventMap = AnyEvents>(
  options?: ServerOptions,
): Server<E> {
  options ??= {};
  return new Server<E>(options);
}
