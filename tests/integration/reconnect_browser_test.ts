/**
 * The reconnecting client in headless Chromium: after the server drops it, a long backoff would
 * keep it away for a minute, but the browser's `online` event and the page becoming visible make
 * it reconnect at once, and its channel comes back with it.
 *
 * Needs Chromium (`CHROMIUM_PATH`, default `/usr/bin/chromium`): skipped with a note when it is
 * missing, failed under `CI=true`.
 */
import assert from "node:assert/strict";
import { type Browser, chromium } from "playwright-core";
import { createDemoServer } from "../../lib/demo/demo.ts";
import type { ServeHandle } from "../../server.ts";
import { ignoreWithoutTool, requireTool, waitFor, withTimeout } from "../_util.ts";
import { CHROMIUM, CHROMIUM_ARGS, CLIENT_TEST_PAGE } from "../_browser.ts";

const STEP_MS = 15_000;

interface TestWindow {
  sente: typeof import("../../client.ts");
  client: import("../../client.ts").Client;
  states: string[];
  handshakes: boolean[];
  news: unknown[];
}
declare const window: TestWindow & { dispatchEvent(e: Event): boolean };
declare const document: { dispatchEvent(e: Event): boolean };

Deno.test({
  name: "Client in Chromium reconnects at once on online and visibilitychange",
  ignore: ignoreWithoutTool("Chromium", CHROMIUM),
  async fn() {
    const executablePath = requireTool("Chromium", CHROMIUM, "install it or set CHROMIUM_PATH");
    const server = createDemoServer({
      fallback: (request) => {
        const { pathname } = new URL(request.url);
        if (pathname === "/test.html") {
          return new Response(CLIENT_TEST_PAGE, { headers: { "content-type": "text/html" } });
        }
        if (pathname === "/favicon.ico") return new Response(null, { status: 204 });
        return new Response("Not found\n", { status: 404 });
      },
    });
    let handle: ServeHandle | undefined;
    let browser: Browser | undefined;
    try {
      handle = await server.serve({ port: 0 });
      const origin = `http://127.0.0.1:${handle.port}`;
      browser = await withTimeout(
        chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: STEP_MS }),
        STEP_MS,
        "Chromium to launch",
      );
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(STEP_MS);
      await page.goto(`${origin}/test.html`);
      await page.waitForFunction(() => "sente" in window);
      await page.evaluate(async (url) => {
        window.states = [];
        window.handshakes = [];
        window.news = [];
        // a one-minute backoff: only a wake-up can bring it back within the test
        window.client = window.sente.connect(url, {
          reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
        });
        window.client.on("chsk/state", (c) => void window.states.push((c as { to: string }).to));
        window.client.on("chsk/handshake", (h) => {
          window.handshakes.push((h as { first: boolean }).first);
        });
        await window.client.ready;
        await window.client.subscribe("news", (d) => void window.news.push(d));
      }, handle.url);

      const waitOpenAgain = (n: number) =>
        page.waitForFunction((k) => window.handshakes.length === k, n, { polling: 20 });

      // 1. dropped by the server, back on `online`
      server.closeAll(1012, "restart");
      await page.waitForFunction(() => window.states.at(-1) === "reconnecting", undefined, {
        polling: 20,
      });
      await context.setOffline(true);
      await context.setOffline(false); // fires `online`
      await waitOpenAgain(2);

      // 2. dropped again, back when the page becomes visible
      server.closeAll(1012, "restart");
      await page.waitForFunction(() => window.states.at(-1) === "reconnecting", undefined, {
        polling: 20,
      });
      await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
      await waitOpenAgain(3);

      assert.deepEqual(await page.evaluate(() => window.handshakes), [true, false, false]);
      // the channel was re-subscribed on each reconnect
      await waitFor(
        () => server.subscribers("news").length === 1 ? true : undefined,
        "the re-subscription",
        { timeoutMs: STEP_MS },
      );
      server.publish("news", "hello again");
      await page.waitForFunction(() => window.news.includes("hello again"), undefined, {
        polling: 20,
      });
      await page.evaluate(() => window.client.close());
    } finally {
      await browser?.close();
      await handle?.close();
    }
  },
});
