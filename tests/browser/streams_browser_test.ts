/**
 * Streams in headless Chromium: the bundled client with `./client/streams` uploads 8 MiB (a
 * `Blob`, with progress) and downloads 8 MiB from the server in this process; SHA-256 equal on
 * both ends (the page hashes with Web Crypto).
 *
 * Needs Chromium (`CHROMIUM_PATH`, default `/usr/bin/chromium`): skipped with a note when it is
 * missing, failed under `CI=true`.
 */
import assert from "node:assert/strict";
import { type Browser, chromium } from "playwright-core";
import { createServer } from "../../server.ts";
import type { ServeHandle } from "../../server.ts";
import { bundleModule } from "../../lib/demo/bundle.ts";
import { sha256 } from "../../lib/streams/sha256.ts";
import { ignoreWithoutTool, requireTool, withTimeout } from "../_util.ts";
import { CHROMIUM, CHROMIUM_ARGS, CLIENT_TEST_PAGE } from "../_browser.ts";

const STEP_MS = 30_000;
const SIZE = 8 * 1024 * 1024;

/** Byte i of the pattern both ends generate. */
function pattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + 7) & 255;
  return out;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

interface TestWindow {
  sente: typeof import("./_streams_page.ts");
}
declare const window: TestWindow;

Deno.test({
  name: "streams in headless Chromium: 8 MiB upload and download, SHA-256 equal",
  ignore: ignoreWithoutTool("Chromium", CHROMIUM),
  async fn() {
    const executablePath = requireTool("Chromium", CHROMIUM, "set CHROMIUM_PATH");
    const bundle = bundleModule(new URL("./_streams_page.ts", import.meta.url));
    const server = createServer({
      onError: () => {},
      fallback: async (request) => {
        const { pathname } = new URL(request.url);
        if (pathname === "/client.js") {
          return new Response(await bundle, { headers: { "content-type": "text/javascript" } });
        }
        if (pathname === "/test.html") {
          return new Response(CLIENT_TEST_PAGE, {
            headers: { "content-type": "text/html; charset=utf-8" },
          });
        }
        if (pathname === "/favicon.ico") return new Response(null, { status: 204 });
        return new Response("Not found\n", { status: 404 });
      },
    });
    server.onStream("test/upload", async (msg) => {
      const h = sha256();
      let n = 0;
      for await (const chunk of msg.stream) {
        h.update(chunk);
        n += chunk.byteLength;
      }
      return { sha: hex(h.digest()), n, meta: msg.meta };
    });
    server.on("test/download", () => pattern(SIZE));
    const expected = hex((() => {
      const h = sha256();
      h.update(pattern(SIZE));
      return h.digest();
    })());
    let handle: ServeHandle | undefined;
    let browser: Browser | undefined;
    const pageErrors: string[] = [];
    try {
      handle = await server.serve({ port: 0 });
      browser = await withTimeout(
        chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: STEP_MS }),
        STEP_MS,
        "Chromium to launch",
      );
      const page = await browser.newPage();
      page.setDefaultTimeout(STEP_MS);
      page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
      await page.goto(`http://127.0.0.1:${handle.port}/test.html`);
      await page.waitForFunction(() => "sente" in window, undefined, { timeout: STEP_MS });
      const result = await page.evaluate(async ({ url, size }) => {
        const toHex = (b: ArrayBuffer) =>
          Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
        const s = window.sente;
        const client = s.connect(url, { streams: s.clientStreams() });
        await client.ready;
        const body = new Uint8Array(size);
        for (let i = 0; i < size; i++) body[i] = (i * 31 + 7) & 255;
        const progress: number[] = [];
        const up = await client.upload("test/upload", new Blob([body]), {
          meta: { name: "page.bin" },
          integrity: true,
          onProgress: (p) => void progress.push(p.bytes),
        });
        const readable = await client.download("test/download");
        const received = new Uint8Array(await new Response(readable).arrayBuffer());
        const downSha = toHex(await crypto.subtle.digest("SHA-256", received));
        client.close();
        return { up, downSha, downBytes: received.byteLength, lastProgress: progress.at(-1) };
      }, { url: handle.url, size: SIZE });
      const up = result.up as { sha: string; n: number; meta: unknown };
      assert.equal(up.sha, expected, pageErrors.join("\n"));
      assert.equal(up.n, SIZE);
      assert.deepEqual(up.meta, { name: "page.bin" });
      assert.equal(result.lastProgress, SIZE);
      assert.equal(result.downBytes, SIZE);
      assert.equal(result.downSha, expected);
    } finally {
      await browser?.close().catch(() => {});
      await handle?.close();
    }
  },
});
