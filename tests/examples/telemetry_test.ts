/**
 * The telemetry pipeline example in headless Chromium: a click in the shop page produces a
 * browser signal and a server signal; both show up in the tail page and in the JSONL files.
 */
import assert from "node:assert/strict";
import { createTelemetryServer } from "../../examples/telemetry/server.ts";
import { NO_CHROMIUM, startExample } from "./_example.ts";

/** The records of every `*.jsonl` file in `dir`, by file name. */
async function records(dir: string): Promise<Map<string, Record<string, unknown>[]>> {
  const out = new Map<string, Record<string, unknown>[]>();
  for await (const { name } of Deno.readDir(dir)) {
    if (!name.endsWith(".jsonl")) continue;
    const text = await Deno.readTextFile(`${dir}/${name}`);
    out.set(name, text.split("\n").filter(Boolean).map((line) => JSON.parse(line)));
  }
  return out;
}

Deno.test({
  name: "telemetry example: a click reaches the tail page and the JSONL files",
  ignore: NO_CHROMIUM,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sente-lite-telemetry-example-" });
    const example = createTelemetryServer({ dir });
    const run = await startExample(example.server);
    try {
      const tail = await run.open("/tail");
      await run.waitText(tail, "#state", "open");
      const shop = await run.open("/?user=alice");
      await run.waitText(shop, "#state", "open");
      await shop.click("#buy");
      await run.waitText(shop, "#result", "bought a teapot");

      // The browser signal (via the plug-in's session file) and the server's (server.jsonl).
      await run.waitText(tail, "#lines", "ui/click");
      await run.waitText(tail, "#lines", "shop/order");
      const click = tail.locator('tr[data-id="ui/click"]');
      assert.match(await click.textContent() ?? "", /alice.*"button":"buy"/);

      await shop.click("#crash");
      await run.waitText(tail, "#lines", "ui/crash");

      // The tail read these lines from the files, so they are there.
      const files = await records(dir);
      const server = files.get("server.jsonl") ?? [];
      assert.ok(server.some((r) => r.id === "shop/order"), JSON.stringify(server));
      const browser = [...files.entries()].filter(([name]) => name !== "server.jsonl");
      assert.equal(browser.length, 1, `one browser session file: ${[...files.keys()]}`);
      const clicks = browser[0][1].filter((r) => r.id === "ui/click");
      assert.equal(clicks.length, 1);
      assert.equal(clicks[0].uid, "alice");
      assert.deepEqual(clicks[0].data, { button: "buy", item: "teapot" });
    } finally {
      await run.close();
      await example.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
