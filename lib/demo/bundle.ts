/**
 * Bundles `client.ts` into one browser ES module: with `deno bundle` under Deno, `Bun.build`
 * under Bun. Used by the demo server (served at `/client.js`), the server's client route
 * (lib/server/client_bundle.ts, `/chsk/client.js`), `deno task bundle` and the browser tests.
 *
 * @module
 */

const CLIENT_ENTRY = new URL("../../client.ts", import.meta.url);

interface BunBuild {
  build(
    options: { entrypoints: string[]; target: string; format: string; minify: boolean },
  ): Promise<{
    success: boolean;
    logs: unknown[];
    outputs: { text(): Promise<string> }[];
  }>;
}

/** Returns the browser bundle of the client as JavaScript source. */
export function bundleClient(): Promise<string> {
  return bundleModule(CLIENT_ENTRY);
}

/** Options of {@linkcode bundleModule}. */
export interface BundleOptions {
  /**
   * Minify the output.
   * @default {false}
   */
  minify?: boolean;
}

/** Bundles the module at `entry` (a file: or https: URL) for browsers, as one ES module. */
export async function bundleModule(entry: URL, options: BundleOptions = {}): Promise<string> {
  const minify = options.minify ?? false;
  const bun = (globalThis as unknown as { Bun?: BunBuild }).Bun;
  if (bun) {
    const result = await bun.build({
      entrypoints: [decodeURIComponent(entry.pathname)],
      target: "browser",
      format: "esm",
      minify,
    });
    if (!result.success) throw new Error(`Bun.build failed: ${JSON.stringify(result.logs)}`);
    return await result.outputs[0].text();
  }
  const path = entry.protocol === "file:" ? decodeURIComponent(entry.pathname) : entry.href;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--format",
      "esm",
      ...(minify ? ["--minify"] : []),
      path,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno bundle failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}
