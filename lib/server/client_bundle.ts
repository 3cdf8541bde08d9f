/**
 * The server serves the browser client itself: `GET /chsk/client.js` (the `clientScript` option;
 * `false` turns it off), so a page needs one line:
 *
 * ```html
 * <script type="module">import { connect } from "/chsk/client.js"; const client = connect("/chsk");</script>
 * ```
 *
 * What is served, built once (on the first request) and kept in memory:
 * - `dist/client.min.js` of the package when it exists (written by `deno task bundle`; the way
 *   to go in production: no build at run time, no `--allow-run`);
 * - else `client.ts` bundled and minified at the first request (`deno bundle` in a subprocess
 *   under Deno, which needs `--allow-run` and `--allow-read`; `Bun.build` in-process under Bun).
 *
 * Answers carry a strong ETag (SHA-256 of the code) and `cache-control: no-cache`, so browsers
 * revalidate and get `304 Not Modified` while the code is unchanged. A failed build answers 503
 * and is retried at most once every {@linkcode RETRY_BUILD_MS}: anonymous requests cannot make
 * the server bundle in a loop.
 *
 * @module
 */
import { bundleModule } from "../demo/bundle.ts";
import type { Route } from "./operations_route.ts";

/** A failed build is not retried sooner than this (ms). */
export const RETRY_BUILD_MS = 10_000;

const PREBUILT = new URL("../../dist/client.min.js", import.meta.url);
const ENTRY = new URL("../../client.ts", import.meta.url);

/** The code and its ETag. */
interface Built {
  code: Uint8Array<ArrayBuffer>;
  etag: string;
}

/** The part of Deno this module uses. */
interface DenoLike {
  readTextFile(p: URL): Promise<string>;
  execPath(): string;
  permissions: {
    querySync(d: { name: "read"; path: URL } | { name: "run"; command: string }): {
      state: string;
    };
  };
}

const deno = (globalThis as { Deno?: DenoLike }).Deno;

/**
 * `true` when Deno may use `what` without asking: an anonymous request must never raise a
 * permission prompt that blocks the server at its terminal.
 */
function granted(what: { name: "read"; path: URL } | { name: "run"; command: string }): boolean {
  try {
    return deno!.permissions.querySync(what).state === "granted";
  } catch {
    return false;
  }
}

/** Reads the prebuilt bundle when the package is on disk and has one. */
async function prebuilt(): Promise<string | null> {
  if (PREBUILT.protocol !== "file:") return null;
  try {
    if (deno) {
      return granted({ name: "read", path: PREBUILT }) ? await deno.readTextFile(PREBUILT) : null;
    }
    const bun = (globalThis as {
      Bun?: { file(p: string): { exists(): Promise<boolean>; text(): Promise<string> } };
    }).Bun;
    const file = bun?.file(decodeURIComponent(PREBUILT.pathname));
    return file && await file.exists() ? await file.text() : null;
  } catch {
    return null;
  }
}

/** The code to serve: the prebuilt file, else a fresh minified bundle of `client.ts`. */
export async function buildClientScript(): Promise<string> {
  const code = await prebuilt();
  if (code !== null) return code;
  if (deno && !granted({ name: "run", command: deno.execPath() })) {
    throw new Error(
      "serving the client needs dist/client.min.js (deno task bundle) or --allow-run to bundle it",
    );
  }
  return await bundleModule(ENTRY, { minify: true });
}

async function seal(code: string): Promise<Built> {
  const bytes = new TextEncoder().encode(code);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = [...hash.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { code: bytes, etag: `"${hex}"` };
}

/** Checks the `clientScript` option against the endpoint path; throws `TypeError`. */
export function clientScriptPath(
  option: string | false | undefined,
  wsPath: string,
): string | null {
  if (option === false) return null;
  const path = option ?? `${wsPath.replace(/\/$/, "")}/client.js`;
  if (typeof path !== "string" || !path.startsWith("/") || path === wsPath) {
    throw new TypeError(
      `ServerOptions.clientScript must be a path starting with "/" other than the endpoint's, or false, got ${
        JSON.stringify(option)
      }`,
    );
  }
  return path;
}

/** `true` when `If-None-Match` names `etag` (or is `*`). */
function matches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

/**
 * The route serving the client at `path` (`null`: off). `build` makes the code (tests pass their
 * own); `onError` hears about failed builds.
 */
export function clientBundleRoute(
  path: string | null,
  onError: (error: unknown) => void,
  build: () => Promise<string> = buildClientScript,
): Route | null {
  if (path === null) return null;
  let built: Promise<Built> | null = null;
  let failedAt = -Infinity;
  const get = (): Promise<Built> | null => {
    if (built === null) {
      if (Date.now() - failedAt < RETRY_BUILD_MS) return null;
      built = build().then(seal);
      built.catch((e) => {
        failedAt = Date.now();
        built = null;
        onError(e);
      });
    }
    return built;
  };
  return (request) => {
    if (new URL(request.url).pathname !== path) return undefined;
    return (async () => {
      const head = request.method === "HEAD";
      if (!head && request.method !== "GET") {
        return new Response("Method not allowed\n", {
          status: 405,
          headers: { allow: "GET, HEAD" },
        });
      }
      let b: Built;
      try {
        const pending = get();
        if (pending === null) throw new Error("build failed recently");
        b = await pending;
      } catch {
        return new Response("The client bundle is not available: try again later\n", {
          status: 503,
          headers: { "retry-after": String(RETRY_BUILD_MS / 1000) },
        });
      }
      const headers = {
        etag: b.etag,
        "cache-control": "no-cache",
        // A module script is fetched with CORS: pages of other origins may load it too.
        "access-control-allow-origin": "*",
      };
      if (matches(request.headers.get("if-none-match"), b.etag)) {
        return new Response(null, { status: 304, headers });
      }
      return new Response(head ? null : b.code, {
        headers: {
          ...headers,
          "content-type": "text/javascript; charset=utf-8",
          "content-length": String(b.code.byteLength),
        },
      });
    })();
  };
}
