import assert from "node:assert/strict";
import { startServer } from "../_server.ts";

Deno.test("Hub.prepare() answers bad upgrades with clear 4xx responses, never 500", async () => {
  await using t = await startServer({
    authenticate: (req) =>
      new URL(req.url).searchParams.get("token") === "bad"
        ? new Response("Unauthorized request", { status: 401 })
        : "u1",
  });
  const ws = { upgrade: "websocket", connection: "Upgrade" };
  const get = async (path: string, headers: Record<string, string> = ws) => {
    const r = await fetch(t.http + path, { headers });
    return [r.status, await r.text()] as const;
  };
  let [status, body] = await get("/chsk");
  assert.equal(status, 400);
  assert.match(body, /client-id is required/);
  [status, body] = await get("/chsk?client-id=%20%20");
  assert.equal(status, 400);
  assert.match(body, /client-id is required/);
  [status, body] = await get("/chsk?client-id=c1&packer=msgpack");
  assert.equal(status, 400);
  assert.match(body, /unknown packer "msgpack"; this server speaks json/);
  [status, body] = await get("/chsk?client-id=c1", {});
  assert.equal(status, 426);
  assert.match(body, /upgrade required/);
  [status, body] = await get("/elsewhere");
  assert.equal(status, 404);
  [status, body] = await get("/chsk?client-id=c1&token=bad");
  assert.equal(status, 401);
  assert.equal(body, "Unauthorized request");
});

Deno.test("Hub.prepare() answers 500 (and reports) when authenticate throws", async () => {
  const errors: unknown[] = [];
  await using t = await startServer({
    authenticate: () => {
      throw new Error("db down");
    },
    onError: (e) => errors.push(e),
  });
  const r = await fetch(`${t.http}/chsk?client-id=c1`, { headers: { upgrade: "websocket" } });
  assert.equal(r.status, 500);
  assert.match(await r.text(), /authenticating/);
  assert.equal((errors[0] as Error).message, "db down");
});

Deno.test("fallback answers other paths", async () => {
  await using t = await startServer({ fallback: () => new Response("hi") });
  assert.equal(await (await fetch(t.http + "/x")).text(), "hi");
});
