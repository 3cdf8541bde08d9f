/**
 * A page with one `<script type="module">` line: it imports the client from the server's own
 * `/chsk/client.js`, connects to `/chsk` (a path, resolved against the page) and makes a request,
 * in headless Chromium. The reload revalidates with the ETag (304).
 *
 * Needs Chromium (`CHROMIUM_PATH`, default `/usr/bin/chromium`): skipped with a note when it is
 * missing, failed under `CI=true`.
 */
import assert from "node:assert/strict";
import { type Browser, chromium } from "playwright-core";
import { createServer } from "../../server.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "../_browser.ts";
import { ignoreWithoutTool, requireTool, withTimeout } from "../_util.ts";

const STEP_MS = 15_000;

const PAGE =
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>one line</title></head><body>
<script type="module">import { connect } from "/chsk/client.js"; const client = connect("/chsk"); document.title = "reply:" + JSON.stringify(await client.request("test/echo", { n: 1 }));</script>
</body></html>`;

declare const document: { title: string };

Deno.test({
  name: "a page with one script tag loads /chsk/client.js, connects and makes a request",
  ignore: ignoreWithoutTool("Chromium", CHROMIUM),
  async fn() {
    const executablePath = requireTool("Chromium", CHROMIUM, "install it or set CHROMIUM_PATH");
    const statuses: number[] = [];
    const server = createServer({
      onError: () => {},
      fallback: (request) => {
        const { pathname } = new URL(request.url);
        if (pathname === "/") {
          return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
        }
        return new Response(null, { status: pathname === "/favicon.ico" ? 204 : 404 });
      },
    });
    server.on("test/echo", (msg) => ({ echo: msg.data, uid: msg.uid }));
    const handle = await server.serve({ port: 0 });
    let browser: Browser | undefined;
    try {
      browser = await withTimeout(
        chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: STEP_MS }),
        STEP_MS,
        "Chromium to launch",
      );
      const page = await browser.newPage();
      page.setDefaultTimeout(STEP_MS);
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("response", (r) => {
        if (r.url().endsWith("/chsk/client.js")) statuses.push(r.status());
      });
      for (let visit = 0; visit < 2; visit++) {
        await page.goto(`http://127.0.0.1:${handle.port}/`);
        await page.waitForFunction(() => document.title.startsWith("reply:"), undefined, {
          timeout: STEP_MS,
        }).catch((e) => {
          throw new Error(`no reply in the page: ${errors.join("; ")}`, { cause: e });
        });
        const title = await page.evaluate(() => document.title);
        assert.deepEqual(JSON.parse(title.slice("reply:".length)), {
          echo: { n: 1 },
          uid: "sente/nil-uid",
        });
      }
      assert.deepEqual(errors, []);
      // The second visit revalidates (cache-control: no-cache) with the ETag and gets 304.
      assert.deepEqual(statuses, [200, 304]);
    } finally {
      await browser?.close();
      await handle.close();
    }
  },
});
