import assert from "node:assert/strict";
import { connect } from "../../lib/client/client.ts";
import { ClosedError, ServerError, TimeoutError } from "../../lib/protocol/errors.ts";
import { startServer, until } from "../_server.ts";

Deno.test("Client.request() round-trips through handlers; send() pushes back", async () => {
  await using t = await startServer({ authenticate: () => "alice" });
  t.server.on("demo/echo", (msg) => msg.reply ? msg.data : void msg.send("demo/echo", msg.data));
  const client = connect(t.url);
  const hs = await client.ready;
  assert.equal(hs.uid, "alice");
  assert.equal(hs.first, true);
  assert.equal(hs.server?.version, 1);
  assert.equal(client.state, "open");
  assert.deepEqual(await client.request("demo/echo", { x: [1, "two"] }), { x: [1, "two"] });
  const pushed = new Promise((resolve) => client.on("demo/echo", resolve));
  assert.equal(client.send("demo/echo", "ping"), "sent");
  assert.equal(await pushed, "ping");
  client.close();
});

Deno.test("Client queues sends made while connecting and flushes them in order", async () => {
  await using t = await startServer();
  const seen: unknown[] = [];
  t.server.on("q/x", (msg) => void seen.push(msg.data));
  t.server.on("q/last", (msg) => msg.data);
  const client = connect(t.url);
  assert.equal(client.state, "connecting");
  assert.equal(client.send("q/x", 1), "queued");
  assert.equal(client.send("q/x", 2), "queued");
  assert.equal(await client.request("q/last", 3), 3);
  assert.deepEqual(seen, [1, 2]);
  client.close();
});

Deno.test("Client.request() rejects with TimeoutError, ServerError and ClosedError", async () => {
  await using t = await startServer();
  t.server.on("rpc/silent", () => {});
  t.server.on("rpc/fails", () => {
    throw new Error("boom");
  });
  t.server.on("rpc/sentinel", (msg) => msg.data);
  const client = connect(t.url, { onError: () => {} });
  await client.ready;
  await assert.rejects(client.request("rpc/silent", null, { timeoutMs: 50 }), TimeoutError);
  await assert.rejects(
    client.request("rpc/fails"),
    (e) => e instanceof ServerError && e.code === "handler-error",
  );
  await assert.rejects(
    client.request("rpc/none"),
    (e) => e instanceof ServerError && e.code === "no-handler",
  );
  await assert.rejects(client.request("rpc/sentinel", "chsk/timeout"), TimeoutError);
  await assert.rejects(client.request("rpc/sentinel", "chsk/closed"), ClosedError);
  await assert.rejects(
    client.request("rpc/sentinel", "chsk/error"),
    (e) => e instanceof ServerError && e.code === "chsk/error",
  );
  const ac = new AbortController();
  const aborted = client.request("rpc/silent", null, { signal: ac.signal });
  ac.abort(new Error("no longer needed"));
  await assert.rejects(aborted, { message: "no longer needed" });
  const pending = assert.rejects(client.request("rpc/silent"), ClosedError);
  client.close();
  await pending;
  assert.throws(() => client.send("rpc/silent", 1), ClosedError);
  await assert.rejects(client.request("rpc/silent"), ClosedError);
  assert.throws(() => client.send("not-an-id", 1), TypeError);
});

Deno.test("Client.onRequest() answers server→client requests", async () => {
  await using t = await startServer();
  const client = connect(t.url, { onError: () => {} });
  await client.ready;
  client.onRequest("ask/sum", (data) => (data as number[]).reduce((a, b) => a + b, 0));
  client.onRequest("ask/async", async (data) => {
    await Promise.resolve();
    return `hello ${data}`;
  });
  client.onRequest("ask/fails", () => {
    throw new Error("nope");
  });
  const connId = client.handshake!.server!.connId;
  assert.equal(await t.server.request(connId, "ask/sum", [1, 2, 3]), 6);
  assert.equal(await t.server.request(connId, "ask/async", "bob"), "hello bob");
  await assert.rejects(
    t.server.request(connId, "ask/fails"),
    (e) => e instanceof ServerError && e.code === "handler-error",
  );
  await assert.rejects(
    t.server.request(connId, "ask/unknown"),
    (e) => e instanceof ServerError && e.code === "no-handler",
  );
  client.close();
});

Deno.test("Client channels: subscribe, publish, denial and unsubscribe", async () => {
  await using t = await startServer({
    authorizeChannel: ({ channel, action }) => channel !== "vip" || action === "publish",
  });
  const a = connect(t.url);
  const b = connect(t.url);
  await Promise.all([a.ready, b.ready]);
  const got: unknown[] = [];
  await a.subscribe("room", (data, ctx) => void got.push([data, ctx.channel, ctx.from]));
  await assert.rejects(
    a.subscribe("vip", () => {}),
    (e) => e instanceof ServerError && e.code === "forbidden",
  );
  assert.deepEqual(a.channels(), ["room"]);
  assert.equal(await b.publish("room", { hi: 1 }), 1);
  assert.equal(t.server.publish("room", "server says"), 1);
  await until(() => got.length === 2, "two channel messages");
  assert.deepEqual(got[0], [{ hi: 1 }, "room", b.handshake!.server!.connId]);
  assert.deepEqual(got[1], ["server says", "room", null]);
  await a.unsubscribe("room");
  assert.equal(await b.publish("room", 2), 0);
  a.close();
  b.close();
});

Deno.test("Client.on('*') sees application pushes; sente-lite/error without a request goes to onError", async () => {
  await using t = await startServer();
  const errors: Error[] = [];
  const client = connect(t.url, { onError: (e) => errors.push(e) });
  await client.ready;
  const all: string[] = [];
  const off = client.on("*", (_data, ctx) => void all.push(ctx.id));
  t.server.broadcast("news/a", 1);
  t.server.broadcast("news/b", 2);
  await until(() => all.length === 2, "two pushes");
  assert.deepEqual(all, ["news/a", "news/b"]);
  off();
  client.send("nobody/listens", 1);
  await until(() => errors.length === 1, "no-handler error");
  assert.equal((errors[0] as ServerError).code, "no-handler");
  client.close();
});

Deno.test("Client rejects ready when the server refuses the upgrade (reconnect off)", async () => {
  await using t = await startServer({ authenticate: () => new Response("no", { status: 403 }) });
  const client = connect(t.url, { reconnect: false });
  const states: string[] = [];
  client.on("chsk/state", (s) => void states.push((s as { to: string }).to));
  await assert.rejects(client.ready, ClosedError);
  assert.ok(["closed", "reconnecting", "failed"].includes(client.state), client.state);
  client.close();
});

Deno.test("Client URL providers may be async", async () => {
  await using t = await startServer();
  const client = connect(async () => {
    await Promise.resolve();
    return t.url;
  });
  assert.equal((await client.ready).uid, "sente/nil-uid");
  client.close();
});
