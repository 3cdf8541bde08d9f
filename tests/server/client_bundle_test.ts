/**
 * The server serves the browser client at `/chsk/client.js`: built once, with an ETag and 304 on
 * `If-None-Match`; configurable path, off with `false`; failed builds answer 503 and are not
 * retried in a loop.
 */
import assert from "node:assert/strict";
import { clientBundleRoute, clientScriptPath } from "../../lib/server/client_bundle.ts";
import { startServer } from "../_server.ts";

Deno.test("GET /chsk/client.js serves the client module with an ETag; If-None-Match gets 304", async () => {
  await using t = await startServer();
  const res = await fetch(`${t.http}/chsk/client.js`);
  const code = await res.text();
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/javascript/);
  const etag = res.headers.get("etag")!;
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  assert.match(code, /export\s*\{/);
  assert.ok(code.includes("sente-lite/subscribe"), "the client's code");
  const again = await fetch(`${t.http}/chsk/client.js`, { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");
  const head = await fetch(`${t.http}/chsk/client.js`, { method: "HEAD" });
  await head.body?.cancel();
  assert.equal(head.headers.get("etag"), etag);
});

Deno.test("clientScript: a custom path, or false for none", async () => {
  {
    await using t = await startServer({ clientScript: false });
    const res = await fetch(`${t.http}/chsk/client.js`);
    await res.body?.cancel();
    assert.equal(res.status, 404);
  }
  assert.equal(clientScriptPath(undefined, "/ws/"), "/ws/client.js");
  assert.equal(clientScriptPath("/static/sente.js", "/chsk"), "/static/sente.js");
  assert.throws(() => clientScriptPath("/chsk", "/chsk"), TypeError);
  assert.throws(() => clientScriptPath("x.js", "/chsk"), TypeError);
});

Deno.test("the bundle is built once for concurrent requests; a failed build is not retried at once", async () => {
  let builds = 0;
  const route = clientBundleRoute("/c.js", () => {}, () => {
    builds++;
    return Promise.resolve("export const x = 1;");
  })!;
  const req = () => route(new Request("http://h/c.js"))!;
  const answers = await Promise.all([req(), req(), req()]);
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200]);
  assert.equal(builds, 1);
  assert.equal(route(new Request("http://h/other")), undefined);

  let failures = 0;
  const errors: unknown[] = [];
  const failing = clientBundleRoute("/c.js", (e) => void errors.push(e), () => {
    failures++;
    return Promise.reject(new Error("no deno bundle here"));
  })!;
  const r1 = await failing(new Request("http://h/c.js"))!;
  const r2 = await failing(new Request("http://h/c.js"))!;
  assert.deepEqual([r1.status, r2.status], [503, 503]);
  assert.equal(failures, 1);
  assert.equal(errors.length, 1);
});

Deno.test("without --allow-run (and no prebuilt file) the route answers 503 at once, never a permission prompt", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL("./_client_script_server.ts", import.meta.url).pathname],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const result = JSON.parse(text.trim().split("\n").at(-1)!);
  assert.equal(result.status, 503);
  assert.match(result.errors[0], /--allow-run/);
});
