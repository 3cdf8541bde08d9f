/**
 * Browser → server telemetry end to end: a page in headless Chromium logs an error through the
 * remote handler and it lands in the server's per-session JSONL file, stamped with the uid.
 *
 * Needs Chromium (`CHROMIUM_PATH`, default `/usr/bin/chromium`): skipped with a note when it is
 * missing, failed under `CI=true`.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { bundleModule } from "../../lib/demo/bundle.ts";
import { createServer } from "../../lib/server/server.ts";
import { telemetryPlugin } from "../../lib/telemetry/server_plugin.ts";
import { ignoreWithoutTool, requireTool, waitFor, withTimeout } from "../_util.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "../_browser.ts";

declare const window: { run(url: string): Promise<string> };

Deno.test({
  name: "a browser error reaches the server's per-session JSONL file with the client's uid",
  ignore: ignoreWithoutTool("Chromium", CHROMIUM),
  async fn() {
    const executablePath = requireTool("Chromium", CHROMIUM, "install it or set CHROMIUM_PATH");
    const dir = await Deno.makeTempDir({ prefix: "sente-lite-telemetry-" });
    const bundle = await bundleModule(new URL("./_telemetry_page.ts", import.meta.url));
    const server = createServer({
      authenticate: (req) => new URL(req.url).searchParams.get("user"),
      fallback: (request) => {
        const { pathname } = new URL(request.url);
        if (pathname === "/page.js") {
          return new Response(bundle, { headers: { "content-type": "text/javascript" } });
        }
        if (pathname === "/") {
          return new Response(
            `<!doctype html><meta charset="utf-8"><script type="module">
              import { run } from "/page.js"; window.run = run;
            </script>`,
            { headers: { "content-type": "text/html" } },
          );
        }
        return new Response(null, { status: 204 });
      },
    });
    const plugin = telemetryPlugin({ dir });
    plugin.install(server);
    const handle = await server.serve({ port: 0 });
    const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${handle.port}/`);
      await page.waitForFunction(() => typeof window.run === "function", null, { timeout: 15_000 });
      const uid = await withTimeout(
        page.evaluate((url) => window.run(url), handle.url),
        15_000,
        "the page to log and flush",
      );
      assert.equal(uid, "alice");
      const line = await waitFor(async () => {
        for await (const entry of Deno.readDir(dir)) {
          if (!entry.name.endsWith(".jsonl")) continue;
          const text = await Deno.readTextFile(`${dir}/${entry.name}`);
          const hit = text.split("\n").find((l) => l.includes("the page broke"));
          if (hit) return { file: entry.name, record: JSON.parse(hit) };
        }
        return undefined;
      }, "the signal in a JSONL file");
      assert.match(line.file, /^[\w.-]+-\d+.*\.jsonl$/);
      const text = JSON.stringify(line.record);
      assert.match(text, /"alice"/, `uid stamped: ${text}`);
      assert.match(text, /page\/crash/);
      assert.match(text, /checkout/);
    } finally {
      await browser.close();
      await handle.close();
      await plugin.close?.();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
