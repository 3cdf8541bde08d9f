/**
 * The bundled client in headless Chromium against the demo server in this process: the demo page,
 * request/reply, server pushes, channels and server→client requests.
 *
 * Needs Chromium (`CHROMIUM_PATH`, default `/usr/bin/chromium`): skipped with a note when it is
 * missing, failed under `CI=true`.
 */
import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { createDemoServer } from "../../lib/demo/demo.ts";
import type { ServeHandle } from "../../server.ts";
import { ignoreWithoutTool, requireTool, withTimeout } from "../_util.ts";
import { bundleModule } from "../../lib/demo/bundle.ts";
import { CHROMIUM, CHROMIUM_ARGS, CLIENT_TEST_PAGE } from "../_browser.ts";

/** Bound on every single browser step (launch, navigation, evaluate, waitForFunction). */
const STEP_MS = 15_000;

/** What the test page keeps on `window` (typed for the `page.evaluate` callbacks). */
interface TestWindow {
  sente: typeof import("../../client.ts");
  client: import("../../client.ts").Client;
  pushes: unknown[];
  channelMessages: { data: unknown; channel: string; from: string | null }[];
}
// The page callbacks below run in Chromium, where these globals exist; declared here for types.
declare const window: TestWindow;
declare const document: { getElementById(id: string): { textContent: string | null } | null };

Deno.test({
  name: "client bundle in headless Chromium talks to the demo server",
  ignore: ignoreWithoutTool("Chromium", CHROMIUM),
  async fn(t) {
    const executablePath = requireTool(
      "Chromium",
      CHROMIUM,
      "install it at /usr/bin/chromium or set CHROMIUM_PATH",
    );
    // The opt-in wire transforms, as a page that wants them loads them: a second module.
    const wireBundle = bundleModule(new URL("../../client_wire.ts", import.meta.url));
    const server = createDemoServer({
      fallback: async (request) => {
        const { pathname } = new URL(request.url);
        if (pathname === "/client-wire.js") {
          return new Response(await wireBundle, { headers: { "content-type": "text/javascript" } });
        }
        if (pathname === "/test.html") {
          return new Response(CLIENT_TEST_PAGE, {
            headers: { "content-type": "text/html; charset=utf-8" },
          });
        }
        // Chromium asks for it on every page; a 404 would show up as a console error.
        if (pathname === "/favicon.ico") return new Response(null, { status: 204 });
        return new Response("Not found\n", { status: 404 });
      },
    });
    let handle: ServeHandle | undefined;
    let browser: Browser | undefined;
    const pageErrors: string[] = [];
    try {
      handle = await server.serve({ port: 0 });
      const origin = `http://127.0.0.1:${handle.port}`;
      browser = await withTimeout(
        chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: STEP_MS }),
        STEP_MS,
        `Chromium to launch from ${executablePath}`,
      );
      const page = await browser.newPage();
      page.setDefaultTimeout(STEP_MS);
      page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error") {
          pageErrors.push(`console.error: ${m.text()} (${m.location().url})`);
        }
      });
      const errors = () => pageErrors.length ? `\npage errors:\n${pageErrors.join("\n")}` : "";

      await t.step("the demo page connects with a name and shows it as its uid", async () => {
        await page.goto(`${origin}/`);
        await page.fill("#name", "ada");
        await page.click("#login button");
        await waitInPage(
          page,
          () =>
            document.getElementById("state")?.textContent === "open" &&
            document.getElementById("uid")?.textContent === "ada",
          "the demo page to show state open and uid ada",
          errors,
        );
      });

      let connId = "";
      await t.step("the test page loads the bundle and completes the handshake", async () => {
        await page.goto(`${origin}/test.html`);
        await waitInPage(page, () => "sente" in window, "the client bundle to load", errors);
        const wsUrl = handle!.url;
        const handshake = await page.evaluate(async (url) => {
          window.pushes = [];
          window.channelMessages = [];
          window.client = window.sente.connect(url);
          window.client.on("demo/broadcast", (data) => void window.pushes.push(data));
          window.client.on("test/push", (data) => void window.pushes.push(data));
          const h = await window.client.ready;
          return { uid: h.uid, connId: h.server?.connId ?? "" };
        }, wsUrl);
        assert.equal(handshake.uid, "sente/nil-uid");
        assert.ok(handshake.connId, `handshake without a connId${errors()}`);
        connId = handshake.connId;
        assert.deepEqual(server.connections().map((c) => c.id).includes(connId), true);
      });

      await t.step("request() resolves with the demo/echo reply", async () => {
        const data = { n: 1, text: "héllo ✓", list: [1, 2, 3], nested: { ok: true } };
        const reply = await page.evaluate(
          (d) => window.client.request("demo/echo", d, { timeoutMs: 5000 }),
          data,
        );
        assert.deepEqual(reply, data);
      });

      await t.step("the page receives pushes from the server and from demo/broadcast", async () => {
        assert.equal(server.sendTo(connId, "test/push", { from: "deno" }), true);
        await waitInPage(page, () => window.pushes.length >= 1, "the test/push push", errors);
        await page.evaluate(() => window.client.send("demo/broadcast", { from: "page" }));
        await waitInPage(page, () => window.pushes.length >= 2, "the demo/broadcast push", errors);
        assert.deepEqual(await page.evaluate(() => window.pushes), [{ from: "deno" }, {
          from: "page",
        }]);
      });

      await t.step("a channel message published by the server reaches the page", async () => {
        await page.evaluate(() =>
          window.client.subscribe("room", (data, { channel, from }) => {
            window.channelMessages.push({ data, channel, from });
          })
        );
        assert.deepEqual(server.subscribers("room"), [connId]);
        assert.equal(server.publish("room", { text: "hi browser" }), 1);
        await waitInPage(
          page,
          () => window.channelMessages.length >= 1,
          "the channel message",
          errors,
        );
        assert.deepEqual(await page.evaluate(() => window.channelMessages), [
          { data: { text: "hi browser" }, channel: "room", from: null },
        ]);
      });

      await t.step("Server.request() gets the page's onRequest answer", async () => {
        await page.evaluate(() =>
          void window.client.onRequest("test/ask", (data) => ({ answer: data, ua: "browser" }))
        );
        const answer = await server.request(connId, "test/ask", { q: 42 }, { timeoutMs: 5000 });
        assert.deepEqual(answer, { answer: { q: 42 }, ua: "browser" });
      });

      await t.step(
        "wireTransforms() from ./client/wire batches and compresses in the page",
        async () => {
          const before = server.stats().wire.decompressedIn;
          const text = "the same words again and again ".repeat(500);
          const result = await page.evaluate(async ({ url, text }) => {
            const module = "/client-wire.js"; // not a literal: resolved by the page, not by TS
            const { wireTransforms } = await import(module);
            const c = window.sente.connect(url, { wire: wireTransforms({ batching: true }) });
            const h = await c.ready;
            const reply = await c.request("demo/echo", { text }, { timeoutMs: 5000 });
            c.close();
            return {
              caps: h.server?.capabilities ?? [],
              same: (reply as { text: string }).text === text,
            };
          }, { url: handle!.url, text });
          assert.ok(result.caps.includes("compression"), JSON.stringify(result.caps));
          assert.ok(result.caps.includes("batching"), JSON.stringify(result.caps));
          assert.equal(result.same, true);
          assert.ok(server.stats().wire.decompressedIn > before, "the request arrived compressed");
        },
      );

      assert.deepEqual(pageErrors, []);
      await page.evaluate(() => window.client.close());
    } finally {
      await browser?.close().catch((e) => console.error("closing Chromium failed:", e));
      await handle?.close();
    }
  },
});

/** Waits until `predicate` holds in the page; the failure names `what` and any page errors. */
async function waitInPage(
  page: Page,
  predicate: () => boolean,
  what: string,
  errors: () => string,
): Promise<void> {
  try {
    await page.waitForFunction(predicate, undefined, { timeout: STEP_MS, polling: "raf" });
  } catch (e) {
    throw new Error(`timed out after ${STEP_MS} ms waiting for ${what}${errors()}`, { cause: e });
  }
}
