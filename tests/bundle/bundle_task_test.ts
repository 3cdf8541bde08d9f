/**
 * `deno task bundle` (scripts/bundle.ts): writes the three minified ES modules and their sizes, and
 * the prebuilt files work: loaded as modules, they connect and talk to a server.
 */
import assert from "node:assert/strict";
import { startServer } from "../_server.ts";

const SCRIPT = new URL("../../scripts/bundle.ts", import.meta.url).pathname;
const FILES = ["client.min.js", "client-telemetry.min.js", "client-full.min.js"];

Deno.test("scripts/bundle.ts writes the browser builds and their sizes; the files run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sente-lite-dist-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SCRIPT, "--out", dir],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, text + new TextDecoder().decode(out.stderr));
    const sizes = JSON.parse(await Deno.readTextFile(`${dir}/sizes.json`));
    for (const file of FILES) {
      assert.ok(text.includes(file), `${file} not printed:\n${text}`);
      const { min, gz } = sizes[file];
      assert.equal(min, (await Deno.stat(`${dir}/${file}`)).size);
      assert.ok(gz > 0 && gz < min, JSON.stringify(sizes[file]));
    }
    // The file the server serves at /chsk/client.js (every export of ./client) stays within the
    // browser budget too, not only an app that imports part of it (tests/bundle/bundle_size_test.ts).
    const served = sizes["client.min.js"].gz;
    assert.ok(served <= 12 * 1024, `client.min.js is ${served} B min+gz, over the 12 KB budget`);

    await using t = await startServer();
    t.server.on("test/echo", (msg) => msg.data);
    const plain = await import(`file://${dir}/client.min.js`);
    const full = await import(`file://${dir}/client-full.min.js`);
    const a = plain.connect(t.url);
    const b = full.connect(t.url, { wire: full.wireTransforms(), telemetry: new full.Telemetry() });
    const [ha, hb] = await Promise.all([a.ready, b.ready]);
    assert.equal(ha.server.wire ?? null, null);
    assert.ok(hb.server.capabilities.includes("compression"), hb.server.capabilities.join());
    assert.deepEqual(await a.request("test/echo", { n: 1 }), { n: 1 });
    assert.deepEqual(await b.request("test/echo", { n: 2 }), { n: 2 });
    a.close();
    b.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
