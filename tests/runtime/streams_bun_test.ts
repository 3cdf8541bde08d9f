/**
 * Streams against a server running under Bun (its adapter's `bufferedAmount` is
 * `getBufferedAmount()`): an 8 MiB upload and an 8 MiB download from a Deno client, SHA-256 equal,
 * the server's default hash being the native one (`node:crypto` through `process.getBuiltinModule`).
 * Skipped without Bun, like `cross_runtime_test.ts`.
 */
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import { clientStreams } from "../../client_streams.ts";
import { sha256 } from "../../lib/streams/sha256.ts";
import { firstExisting, ignoreWithoutTool, requireTool } from "../_util.ts";
import { Child } from "./_child.ts";
import { pattern } from "./_stream_pattern.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const HERE = new URL("./", import.meta.url).pathname;
const BUN = firstExisting([`${ROOT}node_modules/.bin/bun`]);
const START_MS = 20_000;

function hex(h: { digest(): Uint8Array }): string {
  return Array.from(h.digest(), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test({
  name: "streams: 8 MiB up and down against a Bun server, SHA-256 equal",
  ignore: ignoreWithoutTool("Bun", BUN),
  async fn() {
    const bun = requireTool("Bun", BUN, "run `npm install`");
    const child = new Child(
      "bun _bun_stream_server.ts",
      bun,
      [`${HERE}_bun_stream_server.ts`],
      ROOT,
    );
    try {
      const info = JSON.parse(
        await child.line("the listening line", (l) => l.startsWith("{"), START_MS),
      );
      assert.equal(info.runtime, "bun");
      assert.equal(info.hash, "native", "Bun's streams hash with node:crypto");
      const client = connect(info.url, { streams: clientStreams() });
      try {
        await client.ready;
        const body = pattern(8 * 1024 * 1024);
        const h = sha256();
        h.update(body);
        const expected = hex(h);
        assert.equal(await client.upload("test/upload", body, { integrity: true }), expected);
        const readable = await client.download("test/download", { size: body.byteLength });
        const got = sha256();
        let n = 0;
        for await (const chunk of readable) {
          got.update(chunk);
          n += chunk.byteLength;
        }
        assert.equal(n, body.byteLength);
        assert.equal(hex(got), expected);
      } finally {
        client.close();
      }
    } finally {
      await child.stop("SIGTERM");
    }
  },
});
