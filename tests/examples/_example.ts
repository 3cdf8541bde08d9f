/**
 * What the example tests share: an example server listening on port 0 in this process, headless
 * Chromium, pages that record their errors, and bounded waits on the DOM.
 */
import { type Browser, chromium, type Page } from "playwright-core";
import type { ServeHandle, Server } from "../../server.ts";
import { ignoreWithoutTool, requireTool, withTimeout } from "../_util.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "../_browser.ts";

/** Bound on every single browser step (launch, navigation, a wait). */
export const STEP_MS = 30_000;

/** `true` when Chromium is missing outside CI (the test is skipped with a note). */
export const NO_CHROMIUM: boolean = ignoreWithoutTool("Chromium", CHROMIUM);

/** An example server, Chromium, and the pages opened on it. */
export interface ExampleRun {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Opens a page at `path` (errors recorded, failing the run at `close`). */
  open(path: string): Promise<Page>;
  /** Waits until `selector`'s text contains `text` on `page`. */
  waitText(page: Page, selector: string, text: string): Promise<void>;
  /** Closes the pages, Chromium and the server; throws if a page reported an error. */
  close(): Promise<void>;
}

/** Serves `server` on port 0 and launches Chromium. */
export async function startExample(server: Server): Promise<ExampleRun> {
  const executablePath = requireTool("Chromium", CHROMIUM, "install it or set CHROMIUM_PATH");
  const handle: ServeHandle = await server.serve({ port: 0 });
  let browser: Browser;
  try {
    browser = await withTimeout(
      chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: STEP_MS }),
      STEP_MS,
      `Chromium to launch from ${executablePath}`,
    );
  } catch (e) {
    server.closeAll();
    await handle.close();
    throw e;
  }
  const errors: string[] = [];
  const report = () => (errors.length ? `\npage errors:\n${errors.join("\n")}` : "");
  return {
    origin: `http://127.0.0.1:${handle.port}`,
    async open(path) {
      // One context per page: separate storage, like separate users.
      const page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(STEP_MS);
      page.on("pageerror", (e) => errors.push(`${path}: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(`${path}: console.error: ${m.text()}`);
      });
      await page.goto(`http://127.0.0.1:${handle.port}${path}`);
      return page;
    },
    async waitText(page, selector, text) {
      try {
        await page.waitForFunction(
          ([s, t]) => document.querySelector(s)?.textContent?.includes(t) ?? false,
          [selector, text] as const,
          { timeout: STEP_MS, polling: "raf" },
        );
      } catch (e) {
        const seen = await page.locator(selector).textContent().catch(() => null);
        throw new Error(
          `timed out waiting for ${selector} to contain ${JSON.stringify(text)}; it shows ` +
            `${JSON.stringify(seen)}${report()}`,
          { cause: e },
        );
      }
    },
    async close() {
      await browser.close();
      server.closeAll();
      await handle.close();
      if (errors.length) throw new Error(`the pages reported errors:${report()}`);
    },
  };
}

// The page callbacks run in Chromium, where `document` exists; declared here for the types.
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
};

/** Signs in on a chat page (the chat example's and the demo's): `name`, and `room` when given. */
export async function chatLogin(page: Page, name: string, room?: string): Promise<void> {
  await page.fill("#name", name);
  if (room !== undefined) await page.fill("#room", room);
  await page.click("#login button");
}

/** Says `text` on a chat page. */
export async function chatSay(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.click("#say button");
}
