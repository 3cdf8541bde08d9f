/**
 * What every example server shares: bundling its page script for browsers at startup, small
 * `Response` helpers, and a `main` that parses `--port`/`--host` and serves until Ctrl-C.
 *
 * The library has no public way to bundle or serve the browser client (lib/demo does it
 * internally), so each example bundles its own page script, client included, with `deno bundle`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { ServeHandle, Server } from "../../server.ts";

const ROOT = new URL("../../", import.meta.url);

/**
 * Starts bundling `entry` (a page script) into one browser ES module now, and returns a function
 * that resolves with the JavaScript (or rejects with `deno bundle`'s error).
 */
export function bundleAtStartup(entry: URL): () => Promise<string> {
  const bundled = bundle(entry);
  bundled.catch(() => {}); // reported when the page asks for it
  return () => bundled;
}

async function bundle(entry: URL): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "browser", "--format", "esm", entry.pathname],
    cwd: ROOT.pathname, // so deno.json's imports (npm packages in node_modules) resolve
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`deno bundle failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** An HTML response. */
export function html(body: string): Response {
  return new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });
}

/** A JavaScript response from a bundle, or a 500 that says why bundling failed. */
export async function script(source: () => Promise<string>): Promise<Response> {
  try {
    return new Response(await source(), {
      headers: { "content-type": "text/javascript; charset=utf-8" },
    });
  } catch (e) {
    return new Response(String(e), { status: 500 });
  }
}

/** A file shipped next to the example (or in node_modules), with its content type. */
export async function file(url: URL, type: string): Promise<Response> {
  return new Response(await Deno.readFile(url), { headers: { "content-type": type } });
}

/** 404, and 204 for the favicon Chromium asks for on every page. */
export function notFound(request: Request): Response {
  if (new URL(request.url).pathname === "/favicon.ico") return new Response(null, { status: 204 });
  return new Response("Not found\n", { status: 404 });
}

/**
 * Runs an example from the command line: `--port` (default 3000, 0 picks a free one) and `--host`
 * (default 127.0.0.1); serves until SIGINT, then runs `stop` and exits. Other options are left to
 * the example (see {@linkcode exampleOption}).
 */
export async function runExample(
  name: string,
  server: Server,
  stop: () => void | Promise<void> = () => {},
): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "3000" },
      host: { type: "string", default: "127.0.0.1" },
    },
    strict: false,
  });
  const port = Number(values.port);
  const hostname = String(values.host);
  const handle: ServeHandle = await server.serve({ port, hostname });
  console.log(`sente-lite ${name} example: http://${hostname}:${handle.port}/`);
  Deno.addSignalListener("SIGINT", async () => {
    server.closeAll();
    await stop();
    await handle.close();
    Deno.exit(0);
  });
}

/** The value of the command line option `--<name> VALUE`, if given. */
export function exampleOption(name: string): string | undefined {
  const { values } = parseArgs({
    args: Deno.args,
    options: { [name]: { type: "string" } },
    strict: false,
  });
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}
