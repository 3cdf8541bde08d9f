/**
 * `createServer({ operations: true })`: `/health`, `/ready`, `/metrics` and `/stats` on the port
 * of `server.serve()`, with counts only (no uid, channel id or client id in any body).
 */
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import { createServer } from "../../server.ts";
import { startServer } from "../_server.ts";

Deno.test("operations endpoints on server.serve(), without identities in their bodies", async () => {
  await using t = await startServer({
    operations: true,
    authenticate: () => "uid-secret-alice",
  });
  const client = connect(t.url, { reconnect: false, onError: () => {} });
  await client.ready;
  await client.subscribe("channel-secret-42", () => {});
  assert.equal(await client.request("chsk/ws-ping").catch(() => "pong"), "pong");
  const bodies: string[] = [];
  for (
    const [path, status, type] of [
      ["/health", 200, "application/json"],
      ["/ready", 200, "application/json"],
      ["/metrics", 200, "text/plain"],
      ["/stats", 200, "application/json"],
    ] as const
  ) {
    const res = await fetch(`${t.http}${path}`);
    const body = await res.text();
    assert.equal(res.status, status, path);
    assert.ok(res.headers.get("content-type")?.startsWith(type), path);
    bodies.push(body);
  }
  assert.match(bodies[2], /sente_lite_connections\{server="server"\} 1/);
  assert.equal(JSON.parse(bodies[3]).components.server.connections, 1);
  for (const body of bodies) {
    for (const secret of ["uid-secret-alice", "channel-secret-42", client.clientId]) {
      assert.ok(!body.includes(secret), `${secret} leaked`);
    }
  }
  assert.equal((await fetch(`${t.http}/metrics`, { method: "POST" })).status, 405);
  client.close();
});

Deno.test("operations are off by default and take custom paths", async () => {
  {
    await using t = await startServer();
    const res = await fetch(`${t.http}/health`);
    await res.body?.cancel();
    assert.equal(res.status, 404);
  }
  await using t = await startServer({ operations: { healthPath: "/healthz", metricsPath: false } });
  const ok = await fetch(`${t.http}/healthz`);
  assert.equal((await ok.json()).status, "ok");
  const off = await fetch(`${t.http}/metrics`);
  await off.body?.cancel();
  assert.equal(off.status, 404);
  assert.throws(() => createServer({ operations: { healthPath: "health" } }), TypeError);
});
