import assert from "node:assert/strict";
import { rawPeer } from "../_peer.ts";
import { startServer, until } from "../_server.ts";
import { ClosedError, ServerError, TimeoutError } from "../../lib/protocol/errors.ts";

Deno.test("Hub sends the handshake first: uid, null, app data and the sente-lite entry", async () => {
  await using t = await startServer({
    authenticate: (req) => new URL(req.url).searchParams.get("user"),
    handshakeData: (_req, uid) => ({ greeting: `hi ${uid}` }),
  });
  const { peer, handshake } = await rawPeer(t.url + "?user=alice");
  const [[id, [uid, csrf, data]], cb] = handshake as [
    [string, [string, null, Record<string, unknown>]],
    null,
  ];
  assert.equal(id, "chsk/handshake");
  assert.equal(uid, "alice");
  assert.equal(csrf, null);
  assert.equal(cb, null);
  assert.equal(data.greeting, "hi alice");
  const info = data["sente-lite"] as Record<string, unknown>;
  assert.equal(info.version, 1);
  assert.equal(info["max-message-bytes"], 1024 * 1024);
  assert.ok(Array.isArray(info.capabilities) && info.capabilities.includes("channels"));
  assert.equal(typeof info["conn-id"], "string");
  await peer.close();
});

Deno.test("Hub gives anonymous connections the nil-uid", async () => {
  await using t = await startServer();
  const { peer, handshake } = await rawPeer(t.url);
  assert.deepEqual((handshake as unknown[][])[0][1], [
    "sente/nil-uid",
    null,
    (handshake as unknown[][][])[0][1][2],
  ]);
  await peer.close();
});

Deno.test("Hub routes requests to handlers and sends [reply, cbId]; first reply wins", async () => {
  await using t = await startServer();
  t.server.on("test/echo", (msg) => msg.data);
  t.server.on("test/twice", (msg) => {
    assert.equal(msg.reply!("one"), true);
    assert.equal(msg.reply!("two"), false);
  });
  t.server.on("test/async", async (msg) => {
    await Promise.resolve();
    return { got: msg.data, uid: msg.uid, hasClientId: msg.clientId.length > 0 };
  });
  const { peer } = await rawPeer(t.url);
  peer.send(`[["test/echo",{"a":[1,2]}],"cb1"]`);
  assert.equal(await peer.next(), `[{"a":[1,2]},"cb1"]`);
  peer.send(`[["test/twice",null],"cb2"]`);
  assert.equal(await peer.next(), `["one","cb2"]`);
  peer.send(`[["test/async",5],"cb3"]`);
  assert.deepEqual(await peer.nextJson(), [
    { got: 5, uid: "sente/nil-uid", hasClientId: true },
    "cb3",
  ]);
  assert.equal(t.server.stats().repliesIgnored, 1);
  // An event without cbId gets no reply: the next frame is the answer to the following request.
  peer.send(`[["test/echo",1],null]`);
  peer.send(`[["test/echo",2],"cb4"]`);
  assert.equal(await peer.next(), `[2,"cb4"]`);
  await peer.close();
});

Deno.test("Hub answers a client ping with pong and dispatches chsk/ws-ping", async () => {
  await using t = await startServer();
  let pings = 0;
  t.server.on("chsk/ws-ping", () => void pings++);
  const { peer } = await rawPeer(t.url);
  peer.send(`[["chsk/ws-ping"],"ab12cd"]`);
  assert.equal(await peer.next(), `["pong","ab12cd"]`);
  assert.equal(pings, 1);
  await peer.close();
});

Deno.test("Hub answers every malformed input with its documented error while others go on", async () => {
  await using t = await startServer();
  t.server.on("test/echo", (msg) => msg.data);
  t.server.on("test/throws", () => {
    throw new Error("boom");
  });
  const { peer: bad } = await rawPeer(t.url);
  const { peer: good } = await rawPeer(t.url);
  const cases: [string | Uint8Array, string, string | null][] = [
    ["not json", "unpack-failed", null],
    [new Uint8Array([0xff, 0xfe]), "unpack-failed", null],
    [`{"a":1}`, "bad-envelope", null],
    [`[["test/echo",1],42]`, "bad-envelope", null],
    // A handled id does not let a bad envelope or event through (the decoder still answers).
    [`[["test/echo",1],""]`, "bad-envelope", null],
    [`[["test/echo",1],"c6",3]`, "bad-envelope", null],
    [`[["test/echo",1,2],"c7"]`, "bad-event", "c7"],
    [`[["noslash",1],"c1"]`, "bad-event", "c1"],
    [`[[42],"c2"]`, "bad-event", "c2"],
    [`[["chsk/handshake",1],null]`, "reserved-event", null],
    [`[["nobody/home",1],"c3"]`, "no-handler", "c3"],
    [`[["test/throws",1],"c4"]`, "handler-error", "c4"],
    [`[["sente-lite/reply",{"cb-id":"zzz","value":1}],null]`, "unknown-cb", null],
    [`[["sente-lite/subscribe",{"nope":1}],"c5"]`, "bad-request", "c5"],
  ];
  let n = 0;
  for (const [frame, code, cbId] of cases) {
    bad.send(frame);
    const [[[id, body]], cb] = (await bad.nextJson()) as [
      [[string, Record<string, unknown>]],
      null,
    ];
    assert.equal(id, "sente-lite/error");
    assert.equal(cb, null);
    assert.equal(body.code, code, `frame ${String(frame)}`);
    assert.equal(body["cb-id"], cbId ?? undefined);
    assert.equal(typeof body.message, "string");
    // The other connection is unaffected.
    good.send(`[["test/echo",${n}],"g${n}"]`);
    assert.equal(await good.next(), `[${n},"g${n}"]`);
    n++;
  }
  // And the bad connection itself still works.
  bad.send(`[["test/echo","still here"],"ok"]`);
  assert.equal(await bad.next(), `["still here","ok"]`);
  const errors = t.server.stats().errors;
  assert.equal(errors["unpack-failed"], 2);
  assert.equal(errors["handler-error"], undefined); // handler errors are not protocol errors
  await bad.close();
  await good.close();
});

Deno.test("Hub.on() and its unsubscribe take effect for an id that was just routed", async () => {
  await using t = await startServer();
  const off = t.server.on("test/a", () => "first");
  const { peer } = await rawPeer(t.url);
  peer.send(`[["test/a"],"c1"]`);
  assert.equal(await peer.next(), `["first","c1"]`);
  off();
  peer.send(`[["test/a"],"c2"]`);
  const [[[id, body]]] = (await peer.nextJson()) as [[[string, Record<string, unknown>]]];
  assert.deepEqual([id, body.code, body["cb-id"]], ["sente-lite/error", "no-handler", "c2"]);
  t.server.on("test/a", () => "second");
  peer.send(`[["test/a"],"c3"]`);
  assert.equal(await peer.next(), `["second","c3"]`);
  const offB = t.server.on("test/b", () => "b");
  peer.send(`[["test/b"],"c4"]`);
  assert.equal(await peer.next(), `["b","c4"]`);
  offB();
  t.server.on("*", (msg) => `any ${msg.id}`);
  peer.send(`[["test/b"],"c5"]`);
  assert.equal(await peer.next(), `["any test/b","c5"]`);
  await peer.close();
});

Deno.test("Hub closes with 1009 over maxMessageBytes and reports large messages", async () => {
  const large: number[] = [];
  await using t = await startServer({
    maxMessageBytes: 1000,
    largeMessageBytes: 500,
    onLargeMessage: ({ bytes }) => large.push(bytes),
  });
  t.server.on("test/echo", (msg) => msg.data);
  const { peer } = await rawPeer(t.url);
  const { peer: other } = await rawPeer(t.url);
  const s = "é".repeat(300); // 600 bytes in UTF-8, 300 code units
  peer.send(`[["test/echo","${s}"],"c"]`);
  assert.equal(((await peer.nextJson()) as string[])[0], s);
  assert.equal(large.length, 1);
  peer.send(`[["test/echo","${"é".repeat(600)}"],"c"]`);
  const close = await peer.closed();
  assert.equal(close.code, 1009);
  assert.match(close.reason, /too-large/);
  other.send(`[["test/echo",1],"x"]`);
  assert.equal(await other.next(), `[1,"x"]`);
  assert.equal(t.server.stats().errors["too-large"], 1);
  await other.close();
});

Deno.test("Hub closes with 1008 after maxProtocolErrors bad frames", async () => {
  await using t = await startServer({ maxProtocolErrors: 3 });
  const { peer } = await rawPeer(t.url);
  for (let i = 0; i < 4; i++) peer.send("garbage");
  for (let i = 0; i < 3; i++) assert.match(await peer.next(), /unpack-failed/);
  const close = await peer.closed();
  assert.equal(close.code, 1008);
  assert.match(close.reason, /too-many-errors/);
});

Deno.test("Hub routes to every connection of a uid and fires uidport-open/close once", async () => {
  await using t = await startServer({
    authenticate: (req) => new URL(req.url).searchParams.get("user"),
  });
  const events: string[] = [];
  t.server.on("chsk/uidport-open", (msg) => void events.push(`open ${msg.data}`));
  t.server.on("chsk/uidport-close", (msg) => void events.push(`close ${msg.data}`));
  const watched: string[][] = [];
  t.server.connectedUids.watch((uids) => watched.push([...uids].sort()));
  const { peer: a1 } = await rawPeer(t.url + "?user=alice");
  const { peer: a2 } = await rawPeer(t.url + "?user=alice");
  const { peer: b } = await rawPeer(t.url + "?user=bob");
  assert.deepEqual(events, ["open alice", "open bob"]);
  assert.deepEqual([...t.server.connectedUids.current()].sort(), ["alice", "bob"]);
  assert.equal(t.server.connections("alice").length, 2);
  assert.equal(t.server.send("alice", "note/x", { n: 1 }), 2);
  assert.equal(await a1.next(), `[[["note/x",{"n":1}]],null]`);
  assert.equal(await a2.next(), `[[["note/x",{"n":1}]],null]`);
  assert.equal(t.server.send("nobody", "note/x", 1), 0);
  await a1.close();
  await until(() => t.server.connections("alice").length === 1, "a1 cleanup");
  assert.deepEqual(events, ["open alice", "open bob"]);
  await a2.close();
  await until(() => events.length === 3, "uidport-close");
  assert.deepEqual(events, ["open alice", "open bob", "close alice"]);
  assert.deepEqual(watched.at(-1), ["bob"]);
  await b.close();
});

Deno.test("Hub.broadcast() reaches everyone but the except list; sendTo() one connection", async () => {
  await using t = await startServer();
  const peers = await Promise.all([1, 2, 3].map(() => rawPeer(t.url)));
  const ids = t.server.connections().map((c) => c.id);
  assert.equal(ids.length, 3);
  const connIdOf = (h: unknown) =>
    ((h as unknown[][][])[0][1][2] as Record<string, Record<string, string>>)["sente-lite"][
      "conn-id"
    ];
  const [p1, p2, p3] = peers;
  assert.equal(t.server.broadcast("news/x", 7, { except: [connIdOf(p2.handshake)] }), 2);
  assert.equal(await p1.peer.next(), `[[["news/x",7]],null]`);
  assert.equal(await p3.peer.next(), `[[["news/x",7]],null]`);
  assert.equal(t.server.sendTo(connIdOf(p2.handshake), "news/only", "you"), true);
  assert.equal(await p2.peer.next(), `[[["news/only","you"]],null]`);
  assert.equal(t.server.sendTo("no-such-conn", "news/only", 1), false);
  assert.throws(() => t.server.broadcast("bad id", 1), TypeError);
  for (const p of peers) await p.peer.close();
});

Deno.test("Hub channels: subscribe, publish (with exclude-sender), authorization denial, cleanup", async () => {
  await using t = await startServer({
    authorizeChannel: ({ action, channel }) => !(channel === "secret" && action === "subscribe"),
    maxSubscriptionsPerConnection: 2,
  });
  const { peer: a } = await rawPeer(t.url);
  const { peer: b } = await rawPeer(t.url);
  a.send(`[["sente-lite/subscribe",{"channel-id":"room"}],"s1"]`);
  assert.equal(await a.next(), `[{"channel-id":"room","success":true},"s1"]`);
  b.send(`[["sente-lite/subscribe",{"channel-id":"room"}],"s2"]`);
  assert.equal(await b.next(), `[{"channel-id":"room","success":true},"s2"]`);
  a.send(`[["sente-lite/subscribe",{"channel-id":"secret"}],"s3"]`);
  assert.equal(
    await a.next(),
    `[{"channel-id":"secret","success":false,"error":"forbidden"},"s3"]`,
  );
  assert.equal(t.server.stats().errors["forbidden"], 1);
  // Original sente-lite style (no cbId): the ack is a sente-lite/subscribed push.
  a.send(`[["sente-lite/subscribe",{"channel-id":"other"}],null]`);
  assert.equal(
    await a.next(),
    `[[["sente-lite/subscribed",{"channel-id":"other","success":true}]],null]`,
  );
  a.send(`[["sente-lite/subscribe",{"channel-id":"third"}],"s4"]`);
  assert.equal(
    await a.next(),
    `[{"channel-id":"third","success":false,"error":"max-subscriptions-per-conn"},"s4"]`,
  );
  b.send(
    `[["sente-lite/publish",{"channel-id":"room","data":{"t":1},"exclude-sender?":true}],"p1"]`,
  );
  const aId = t.server.connections()[0].id;
  const bId = t.server.connections()[1].id;
  assert.equal(await b.next(), `[{"channel-id":"room","success":true,"delivered":1},"p1"]`);
  assert.equal(
    await a.next(),
    `[[["sente-lite/channel-msg",{"channel-id":"room","data":{"t":1},"from":"${bId}"}]],null]`,
  );
  assert.equal(t.server.publish("room", "from server"), 2);
  assert.equal(
    await a.next(),
    `[[["sente-lite/channel-msg",{"channel-id":"room","data":"from server","from":null}]],null]`,
  );
  assert.equal(
    await b.next(),
    `[[["sente-lite/channel-msg",{"channel-id":"room","data":"from server","from":null}]],null]`,
  );
  b.send(`[["sente-lite/unsubscribe",{"channel-id":"room"}],"u1"]`);
  assert.equal(await b.next(), `[{"channel-id":"room","success":true},"u1"]`);
  assert.deepEqual(t.server.subscribers("room"), [aId]);
  await a.close();
  await until(() => t.server.channels().length === 0, "channel cleanup");
  assert.equal(t.server.stats().channels, 0);
  await b.close();
});

Deno.test("Hub.request() resolves with the client's reply, rejects on error, timeout and close", async () => {
  await using t = await startServer();
  const { peer } = await rawPeer(t.url);
  const connId = t.server.connections()[0].id;
  const answer = async (body: (cb: string) => string) => {
    const [[[id, req]]] = (await peer.nextJson()) as [[[string, Record<string, unknown>]]];
    assert.equal(id, "sente-lite/request");
    peer.send(body(req["cb-id"] as string));
    return req;
  };
  const p1 = t.server.request(connId, "ask/name", { q: 1 });
  const req = await answer((cb) => `[["sente-lite/reply",{"cb-id":"${cb}","value":"bob"}],null]`);
  assert.deepEqual(req.event, ["ask/name", { q: 1 }]);
  assert.equal(await p1, "bob");
  const p2 = t.server.request(connId, "ask/name");
  await answer((cb) =>
    `[["sente-lite/reply",{"cb-id":"${cb}","error":{"code":"no-handler","message":"none"}}],null]`
  );
  await assert.rejects(p2, (e) => e instanceof ServerError && e.code === "no-handler");
  await assert.rejects(t.server.request(connId, "ask/slow", null, { timeoutMs: 30 }), TimeoutError);
  await peer.nextJson(); // the unanswered request frame
  const p4 = assert.rejects(t.server.request(connId, "ask/never"), ClosedError);
  await peer.nextJson();
  await peer.close();
  await p4;
  await assert.rejects(t.server.request(connId, "ask/x"), ClosedError);
});

Deno.test("Hub.closeConnection() and closeUid() close with the given code", async () => {
  await using t = await startServer({ authenticate: () => "u" });
  const { peer: a } = await rawPeer(t.url);
  const { peer: b } = await rawPeer(t.url);
  const { peer: c } = await rawPeer(t.url);
  assert.equal(t.server.closeConnection(t.server.connections()[0].id, 4003, "forbidden"), true);
  assert.equal((await a.closed()).code, 4003);
  await until(() => t.server.connections().length === 2, "cleanup");
  assert.equal(t.server.closeUid("u", 4001, "bye"), 2);
  assert.equal((await b.closed()).code, 4001);
  assert.equal((await c.closed()).reason, "bye");
});
