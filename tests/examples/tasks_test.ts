/**
 * Each example starts with its one command, `deno task example:<name> --port 0`, serves its page
 * and its bundled page script, and stops on SIGINT.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
/** Bound on one example's start (a cold Deno start plus `deno bundle` on a busy machine). */
const START_MS = 120_000;

/** The examples, each with the page scripts its pages load. */
const EXAMPLES: Record<string, string[]> = {
  chat: ["/page.js"],
  dashboard: ["/page.js", "/uPlot.min.css"],
  editor: ["/page.js"],
  telemetry: ["/app.js", "/tail.js"],
  "file-upload": ["/page.js"],
};

/** Reads `stream` until a line holds `http://…/`; returns that URL. */
async function printedUrl(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    const url = text.match(/http:\/\/[\d.]+:\d+\//)?.[0];
    if (url) return url;
  }
  throw new Error(`the example exited without printing its URL:\n${text}`);
}

for (const [name, assets] of Object.entries(EXAMPLES)) {
  Deno.test(`deno task example:${name} serves its page and its bundled script`, async () => {
    const dir = await Deno.makeTempDir({ prefix: `sente-lite-example-${name}-` });
    const child = new Deno.Command(`${ROOT}scripts/deno`, {
      args: ["task", `example:${name}`, "--port", "0", "--dir", dir], // --dir: telemetry's files
      cwd: ROOT,
      stdout: "piped",
      stderr: "inherit",
      signal: AbortSignal.timeout(START_MS),
    }).spawn();
    try {
      const url = await printedUrl(child.stdout);
      const page = await fetch(url);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script type="module" src="\/\w+\.js">/);
      for (const asset of assets) {
        const response = await fetch(new URL(asset, url));
        const body = await response.text();
        assert.equal(response.status, 200, `${asset}: ${body.slice(0, 500)}`);
        assert.ok(body.length > 1000, `${asset} is ${body.length} bytes`);
      }
    } finally {
      child.kill("SIGINT");
      const status = await child.status;
      assert.equal(status.signal ?? null, null, `example:${name} did not exit on SIGINT itself`);
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("the examples' page scripts type-check (they are bundled unchecked)", async () => {
  const pages = Object.keys(EXAMPLES).flatMap((name) =>
    [...Deno.readDirSync(`${ROOT}examples/${name}`)]
      .map((entry) => `examples/${name}/${entry.name}`)
      .filter((path) => path.endsWith(".ts"))
  );
  const out = await new Deno.Command(`${ROOT}scripts/deno`, {
    args: ["check", ...pages],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(START_MS),
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
});
