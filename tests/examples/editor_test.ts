/**
 * The editor example in headless Chromium: text typed in one page shows in the other, concurrent
 * edits in both pages converge, and a page opened later gets the document.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { createEditorServer } from "../../examples/editor/server.ts";
import { NO_CHROMIUM, startExample, STEP_MS } from "./_example.ts";

/** Waits until the textarea of `page` holds `length` characters; returns its text. */
async function textOfLength(page: Page, length: number): Promise<string> {
  try {
    await page.waitForFunction(
      (n) => (document.getElementById("text") as { value: string }).value.length === n,
      length,
      { timeout: STEP_MS },
    );
  } catch (e) {
    const text = await page.locator("#text").inputValue();
    throw new Error(`waited for ${length} characters, the page shows ${JSON.stringify(text)}`, {
      cause: e,
    });
  }
  return await page.locator("#text").inputValue();
}

Deno.test({
  name: "editor example: two pages editing one Yjs document converge",
  ignore: NO_CHROMIUM,
  async fn() {
    const run = await startExample(createEditorServer());
    try {
      const a = await run.open("/?doc=test");
      const b = await run.open("/?doc=test");
      for (const page of [a, b]) await page.locator("#text:enabled").waitFor();

      await a.locator("#text").pressSequentially("hello");
      assert.equal(await textOfLength(b, 5), "hello");

      // Both type at once: a at the end, b at the start.
      await a.locator("#text").press("End");
      await b.locator("#text").press("Home");
      await Promise.all([
        a.locator("#text").pressSequentially(" world"),
        b.locator("#text").pressSequentially("Say: "),
      ]);
      const expected = "Say: hello world";
      assert.equal(await textOfLength(a, expected.length), expected);
      assert.equal(await textOfLength(b, expected.length), expected);

      const c = await run.open("/?doc=test");
      assert.equal(await textOfLength(c, expected.length), expected);
      const other = await run.open("/?doc=other");
      await other.locator("#text:enabled").waitFor();
      assert.equal(await other.locator("#text").inputValue(), "");
    } finally {
      await run.close();
    }
  },
});

declare const document: { getElementById(id: string): unknown };
