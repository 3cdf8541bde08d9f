/**
 * `deno task bundle`: the browser builds of the client, as minified ES modules in `dist/`, with
 * their sizes (minified, and minified + gzip) printed as a table and written to
 * `dist/sizes.json`.
 *
 * Usage: `deno task bundle [--out dir]`
 *
 * @module
 */
import { bundleModule } from "../lib/demo/bundle.ts";

/** One browser build. */
export interface BrowserBundle {
  /** The file written to the output directory. */
  file: string;
  /** The module bundled. */
  entry: URL;
  /** What it holds. */
  what: string;
}

/** The builds `deno task bundle` writes. */
export const BROWSER_BUNDLES: readonly BrowserBundle[] = [
  {
    file: "client.min.js",
    entry: new URL("../client.ts", import.meta.url),
    what: "the client (./client): plain frames, no telemetry",
  },
  {
    file: "client-telemetry.min.js",
    entry: new URL("./bundles/client_telemetry.ts", import.meta.url),
    what: "the client and ./telemetry",
  },
  {
    file: "client-full.min.js",
    entry: new URL("./bundles/client_full.ts", import.meta.url),
    what: "the client, ./client/wire (batching, compression, chunking) and ./telemetry",
  },
];

/** The size of a build. */
export interface BundleSize {
  /** Minified bytes. */
  min: number;
  /** Minified then gzipped bytes (CompressionStream's gzip, as a server would send it). */
  gz: number;
}

/** The byte length of `text` gzipped. */
export async function gzipSize(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Bundles and minifies `entry` for browsers; returns the code and its sizes. */
export async function minifiedBundle(entry: URL): Promise<{ code: string; size: BundleSize }> {
  const code = await bundleModule(entry, { minify: true });
  return {
    code,
    size: { min: new TextEncoder().encode(code).byteLength, gz: await gzipSize(code) },
  };
}

/** `12345` → `"12.1 KB"`. */
export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

async function main(): Promise<void> {
  const args = Deno.args;
  const at = args.indexOf("--out");
  const outDir = at >= 0 && args[at + 1] ? args[at + 1] : new URL("../dist/", import.meta.url);
  await Deno.mkdir(outDir, { recursive: true });
  const sizes: Record<string, BundleSize & { what: string }> = {};
  for (const b of BROWSER_BUNDLES) {
    const { code, size } = await minifiedBundle(b.entry);
    const out = typeof outDir === "string" ? `${outDir}/${b.file}` : new URL(b.file, outDir);
    await Deno.writeTextFile(out, code);
    sizes[b.file] = { ...size, what: b.what };
    console.log(
      `${b.file.padEnd(26)} ${kb(size.min).padStart(9)} min ${
        kb(size.gz).padStart(9)
      } min+gz  ${b.what}`,
    );
  }
  const json = typeof outDir === "string" ? `${outDir}/sizes.json` : new URL("sizes.json", outDir);
  await Deno.writeTextFile(json, JSON.stringify(sizes, null, 2) + "\n");
}

if (import.meta.main) await main();
