/**
 * Under Bun: the client bundle route (Bun.build, ETag, 304), `operations: true`, a 4001 rejection,
 * `server.join` and presence, all on a Bun `server.serve()` (tests/runtime/_bun_features.ts).
 *
 * Needs Bun (`BUN_PATH`, else `node_modules/.bin/bun`, else `bun` on PATH).
 */
import assert from "node:assert/strict";
import { BUN_HINT, bunPath, ignoreWithoutTool, requireTool } from "../_util.ts";
import { Child } from "./_child.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const HERE = new URL("./", import.meta.url).pathname;
const BUN = bunPath();

Deno.test({
  name: "under Bun: /chsk/client.js with ETag, operations, 4001 rejection, join and presence",
  ignore: ignoreWithoutTool("Bun", BUN),
  async fn() {
    const bun = requireTool("Bun", BUN, BUN_HINT);
    const child = new Child("bun _bun_features.ts", bun, [`${HERE}_bun_features.ts`], ROOT);
    try {
      const status = await child.exited(30_000);
      assert.equal(status.code, 0, `the Bun side failed:\n${child.describe()}`);
      const line = await child.line("a JSON result line", (l) => l.startsWith("{"), 1000);
      const r = JSON.parse(line);
      assert.equal(r.script.status, 200);
      assert.ok(r.script.bytes > 1000);
      assert.match(r.script.etag, /^"[0-9a-f]{32}"$/);
      assert.equal(r.script.revalidated, 304);
      assert.equal(r.health, 200);
      assert.deepEqual(r.rejected, { code: 4001, reason: "who are you" });
      assert.deepEqual(r.channels, ["room"]);
      assert.equal(r.join.action, "join");
      assert.equal(r.join.uid, "bob");
      assert.deepEqual(r.members, ["alice", "bob"]);
    } finally {
      if (child.status === null) await child.stop();
    }
  },
});
