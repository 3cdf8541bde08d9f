import assert from "node:assert/strict";
import { rawPeer } from "../_peer.ts";
import { connect } from "../../lib/client/client.ts";
import { startServer } from "../_server.ts";
import { readToken, SUBPROTOCOL, tokenProtocol } from "../../lib/protocol/token.ts";

Deno.test("Hub refuses a cross-origin upgrade with 403 when origins are restricted", async () => {
  await using t = await startServer({ allowedOrigins: ["https://app.example"] });
  const up = (origin: string) =>
    fetch(`${t.http}/chsk?client-id=c1`, { headers: { upgrade: "websocket", origin } });
  const bad = await up("https://evil.example");
  assert.equal(bad.status, 403);
  assert.equal(await bad.text(), "Unauthorized origin\n");
  assert.equal(t.server.stats().errors["bad-origin"], 1);
});

Deno.test("Hub reads a token from the subprotocol and selects sente-lite", async () => {
  await using t = await startServer({
    authenticate: (req) =>
      readToken(req) === "s3cret" ? "alice" : new Response("no", { status: 401 }),
  });
  const ws = new WebSocket(`${t.url}?client-id=c1&packer=json`, [
    SUBPROTOCOL,
    tokenProtocol("s3cret"),
  ]);
  const first = await new Promise<string>((resolve, reject) => {
    ws.onmessage = (e) => resolve(e.data);
    ws.onerror = () => reject(new Error("upgrade failed"));
  });
  assert.equal(ws.protocol, SUBPROTOCOL);
  assert.match(first, /^\[\["chsk\/handshake",\["alice",null,/);
  ws.close();
  await new Promise((r) => ws.onclose = r);
});

Deno.test("Hub answers frames over the rate with rate-limited, then closes with 4029", async () => {
  await using t = await startServer({
    rateLimit: { messages: { perSecond: 1, burst: 3 }, maxViolations: 2 },
  });
  t.server.on("test/echo", (msg) => msg.data);
  const { peer } = await rawPeer(t.url);
  const { peer: other } = await rawPeer(t.url);
  for (let i = 0; i < 6; i++) peer.send(`[["test/echo",${i}],"c${i}"]`);
  for (let i = 0; i < 3; i++) assert.equal(await peer.next(), `[${i},"c${i}"]`);
  for (let i = 3; i < 5; i++) {
    assert.equal(
      await peer.next(),
      `[[["sente-lite/error",{"code":"rate-limited","message":"slow down: frame not processed","cb-id":"c${i}"}]],null]`,
    );
  }
  const close = await peer.closed();
  assert.equal(close.code, 4029);
  other.send(`[["test/echo","fine"],"x"]`);
  assert.equal(await other.next(), `["fine","x"]`);
  await other.close();
});

Deno.test("Hub.authorizeEvent refuses events with forbidden (and the cbId)", async () => {
  await using t = await startServer({ authorizeEvent: (msg) => msg.id !== "admin/wipe" });
  t.server.on("admin/wipe", () => "wiped");
  t.server.on("test/echo", (msg) => msg.data);
  const { peer } = await rawPeer(t.url);
  peer.send(`[["admin/wipe",null],"c1"]`);
  assert.equal(
    await peer.next(),
    `[[["sente-lite/error",{"code":"forbidden","message":"admin/wipe is not allowed","cb-id":"c1"}]],null]`,
  );
  peer.send(`[["test/echo",1],"c2"]`);
  assert.equal(await peer.next(), `[1,"c2"]`);
  await peer.close();
});

Deno.test("Hub limits connections per uid and per IP with HTTP 429", async () => {
  await using t = await startServer({
    authenticate: (req) => new URL(req.url).searchParams.get("user"),
    maxConnectionsPerUid: 1,
    maxConnectionsPerIp: 2,
  });
  const { peer: a } = await rawPeer(`${t.url}?user=alice`);
  const up = (q: string) =>
    fetch(`${t.http}/chsk?client-id=c9&${q}`, { headers: { upgrade: "websocket" } });
  const sameUser = await up("user=alice");
  assert.equal(sameUser.status, 429);
  assert.match(await sameUser.text(), /for this user/);
  const { peer: b } = await rawPeer(t.url); // anonymous: limited per IP only
  const third = await up("user=carol");
  assert.equal(third.status, 429);
  assert.match(await third.text(), /from this address/);
  await a.close();
  await b.close();
});

Deno.test("Client token providers are asked on every attempt; the server reads the token", async () => {
  const seen: (string | null)[] = [];
  await using t = await startServer({
    authenticate: (req) => {
      const token = readToken(req);
      seen.push(token);
      return token === "expired" ? "nobody" : token?.replace("token-for-", "");
    },
  });
  let n = 0;
  const client = connect(t.url, {
    token: async () => {
      await Promise.resolve();
      return n++ === 0 ? "token-for-alice" : "token-for-alice-2";
    },
    reconnect: { initialDelayMs: 5, maxDelayMs: 10 },
  });
  assert.equal((await client.ready).uid, "alice");
  const reopened = new Promise<unknown>((resolve) => {
    client.on("chsk/handshake", (h) => resolve((h as { uid: string }).uid));
  });
  t.server.closeAll(1012, "restart");
  assert.equal(await reopened, "alice-2");
  assert.deepEqual(seen, ["token-for-alice", "token-for-alice-2"]);
  client.close();
  assert.throws(() => connect(t.url, { token: 42 as unknown as string }), TypeError);
});
