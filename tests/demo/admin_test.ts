/**
 * The demo server's admin page in headless Chromium: with the right token it lists the open
 * connections from the stats the server publishes on `admin:stats`; a wrong token is refused
 * (4001, shown on the page); without a token `/admin` is a 404.
 */
import assert from "node:assert/strict";
import { ADMIN_UID, createDemoServer } from "../../lib/demo/demo.ts";
import type { AdminSnapshot } from "../../lib/demo/stats_feed.ts";
import { type Client, connect, ServerError } from "../../client.ts";
import { chatLogin, NO_CHROMIUM, startExample } from "../examples/_example.ts";

Deno.test({
  name: "admin page: the right token shows the connections, a wrong one is refused",
  ignore: NO_CHROMIUM,
  async fn() {
    const run = await startExample(createDemoServer({}, { adminToken: "s3cret" }));
    try {
      const alice = await run.open("/");
      const bob = await run.open("/");
      await chatLogin(alice, "alice");
      await chatLogin(bob, "bob");
      await run.waitText(alice, "#members", "bob");

      const admin = await run.open("/admin#token=s3cret");
      await run.waitText(admin, "#state", "open");
      await run.waitText(admin, "#conns", "alice");
      await run.waitText(admin, "#conns", "bob");
      await run.waitText(admin, "#conns", "room:lobby");
      await run.waitText(admin, "#connections", "3"); // alice, bob and the admin page
      await run.waitText(admin, "#wire", "compressed frames");
      await run.waitText(admin, "#delivery", "resume gaps");

      const intruder = await run.open("/admin#token=guess");
      await run.waitText(intruder, "#login-error", "Refused: wrong admin token");
      assert.equal(await intruder.locator("#app").isHidden(), true);
    } finally {
      await run.close();
    }
  },
});

/** The close code and reason of a raw WebSocket to `url`. */
function closeOf(url: string): Promise<{ code: number; reason: string }> {
  const ws = new WebSocket(url);
  return new Promise((resolve) => ws.onclose = (e) => resolve({ code: e.code, reason: e.reason }));
}

Deno.test("admin page: off (404) without a token, and admin upgrades are refused (4003)", async () => {
  const server = createDemoServer();
  const handle = await server.serve({ port: 0 });
  try {
    const res = await fetch(`http://127.0.0.1:${handle.port}/admin`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
    assert.deepEqual(await closeOf(`${handle.url}?admin=anything`), {
      code: 4003,
      reason: "the admin page is off",
    });
  } finally {
    server.closeAll();
    await handle.close();
  }
});

Deno.test("admin channel: a wrong token closes with 4001; only the admin uid may subscribe", async () => {
  const server = createDemoServer({}, { adminToken: "s3cret" });
  const handle = await server.serve({ port: 0 });
  const clients: Client[] = [];
  try {
    assert.deepEqual(await closeOf(`${handle.url}?admin=s3creT`), {
      code: 4001,
      reason: "wrong admin token",
    });
    const user = connect(`${handle.url}?name=mallory`);
    const admin = connect(`${handle.url}?admin=s3cret`);
    clients.push(user, admin);
    assert.equal((await user.ready).uid, "mallory");
    assert.equal((await admin.ready).uid, ADMIN_UID);
    await assert.rejects(user.subscribe("admin:stats", () => {}), ServerError);
    const first = new Promise<AdminSnapshot>((resolve) => {
      admin.subscribe("admin:stats", (data) => resolve(data as AdminSnapshot));
    });
    const snapshot = await first;
    assert.deepEqual(snapshot.connections.map((c) => c.uid).sort(), ["mallory", ADMIN_UID]);
  } finally {
    for (const c of clients) c.close();
    server.closeAll();
    await handle.close();
  }
});
