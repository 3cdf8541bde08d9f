/** The dashboard example in headless Chromium: the charts appear and their points grow. */
import assert from "node:assert/strict";
import { createDashboardServer } from "../../examples/dashboard/server.ts";
import { NO_CHROMIUM, startExample, STEP_MS } from "./_example.ts";

Deno.test({
  name: "dashboard example: uPlot charts appear and the points count grows",
  ignore: NO_CHROMIUM,
  async fn() {
    const { server, stop } = createDashboardServer({ intervalMs: 200 });
    const run = await startExample(server);
    try {
      const page = await run.open("/");
      await page.locator("#memory .uplot canvas").waitFor({ state: "attached" });
      assert.equal(await page.locator(".uplot canvas").count(), 3);
      await run.waitText(page, "#state", "open");
      const first = Number(await page.locator("#points").textContent());
      // Three more points, pushed by the server, drawn into the charts.
      await page.waitForFunction(
        (n) => Number(document.getElementById("points")?.textContent) >= n + 3,
        first,
        { timeout: STEP_MS },
      );
      const legend = await page.locator("#memory .u-legend").textContent();
      assert.match(legend ?? "", /rssMiB/);
      const css = await fetch(`${run.origin}/uPlot.min.css`);
      assert.equal(css.status, 200);
      await css.body?.cancel();
    } finally {
      stop();
      await run.close();
    }
  },
});

declare const document: { getElementById(id: string): { textContent: string | null } | null };
