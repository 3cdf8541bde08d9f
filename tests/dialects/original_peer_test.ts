/**
 * The black-box scenarios of sente-lite-original-protocol.md §4.3 against our server, with a
 * scripted original sente-lite peer: no query, bare EDN event frames.
 */
import assert from "node:assert/strict";
import { RawPeer } from "../_peer.ts";
import { startServer, until } from "../_server.ts";
import { createDemoServer } from "../../lib/demo/demo.ts";
import { originalPacker } from "../../lib/dialects/original.ts";
import type { ServerOptions } from "../../lib/server/options.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

const ON: ServerOptions = { dialects: { original: true } };

/** Connects like an original client (the URL as given, no query) and reads the handshake. */
async function originalPeer(url: string) {
  const peer = new RawPeer(url);
  await peer.opened;
  const handshake = await peer.next();
  const [id, [uid, csrf, data, first]] = originalPacker.unpack(handshake) as [
    string,
    [string, null, Record<string, unknown>, boolean],
  ];
  assert.equal(id, "chsk/handshake");
  assert.equal(csrf, null);
  assert.equal(first, true);
  assert.equal(typeof data, "object");
  return { peer, handshake, uid };
}

/** Sends an echo probe and returns the next frame, proving nothing else came before it. */
async function probe(peer: RawPeer, n: number): Promise<string> {
  peer.send(`[:probe/n ${n}]`);
  return await peer.next();
}

const echoOf = (frame: string) => {
  const [id, data] = originalPacker.unpack(frame) as [string, Record<string, unknown>];
  assert.equal(id, "sente-lite/echo");
  return data;
};

Deno.test("original §4.3.1: a connection without query gets [:chsk/handshake [conn-id nil {} true]]", async () => {
  await using t = await startServer(ON);
  const a = await originalPeer(t.url);
  const b = await originalPeer(t.url);
  assert.equal(a.handshake, `[:chsk/handshake ["${a.uid}" nil {} true]]`);
  assert.notEqual(a.uid, b.uid);
  const ids = t.server.connections().map((c) => c.id).sort();
  assert.deepEqual(ids, [a.uid, b.uid].sort());
  assert.ok(t.server.connections().every((c) => c.clientId.startsWith("original-")));
  await a.peer.close();
  const again = await originalPeer(t.url); // a reconnect is a new connection, a new uid
  assert.notEqual(again.uid, a.uid);
  await again.peer.close();
  await b.peer.close();
});

Deno.test("original §4.3.1: an authenticated uid and handshake data are sent as they are", async () => {
  await using t = await startServer({
    ...ON,
    authenticate: () => "alice",
    handshakeData: () => ({ theme: "dark" }),
  });
  const { peer, handshake } = await originalPeer(t.url);
  assert.equal(handshake, `[:chsk/handshake ["alice" nil {:theme "dark"} true]]`);
  await peer.close();
});

Deno.test("original §4.3.2: an event without handler is echoed as the original server does", async () => {
  await using t = await startServer(ON);
  const { peer, uid } = await originalPeer(t.url);
  const before = Date.now();
  peer.send(`[:test/echo {:msg "hi"}]`);
  const frame = await peer.next();
  const { timestamp } = echoOf(frame);
  assert.ok(typeof timestamp === "number" && timestamp >= before && timestamp <= Date.now());
  assert.equal(
    frame,
    `[:sente-lite/echo {:original-event-id :test/echo, :original-data {:msg "hi"}, :conn-id "${uid}", :timestamp ${timestamp}}]`,
  );
  // The Sente-style cb form is read, its cb dropped.
  peer.send(`[[:test/rpc {:x 1}] "abc123"]`);
  assert.deepEqual(echoOf(await peer.next())["original-data"], { x: 1 });
  assert.equal(t.server.stats().errors["no-handler"], undefined);
  await peer.close();
});

Deno.test("original §4.3.3: handlers answer with send(); silence when they do not", async () => {
  await using t = await startServer(ON);
  t.server.on("custom/hello", (msg) => {
    const { name } = msg.data as { name: string };
    msg.send("custom/greeting", { message: `Hello, ${name}!`, "from-server": true });
  });
  t.server.on("custom/quiet", () => {});
  t.server.on("custom/request", (msg) => msg.data); // a reply has no frame in this dialect
  const { peer } = await originalPeer(t.url);
  peer.send(`[:custom/hello {:name "Alice"}]`);
  assert.equal(
    await peer.next(),
    `[:custom/greeting {:message "Hello, Alice!", :from-server true}]`,
  );
  peer.send(`[:custom/quiet {}]`);
  peer.send(`[[:custom/request 1] "cb1"]`);
  assert.equal(echoOf(await probe(peer, 1))["original-event-id"], "probe/n");
  await peer.close();
});

Deno.test("original §4.3.4: [:chsk/ws-ping] is answered [:chsk/ws-pong]", async () => {
  await using t = await startServer(ON);
  const pings: string[] = [];
  t.server.on("chsk/ws-ping", (msg) => void pings.push(msg.connId));
  const { peer, uid } = await originalPeer(t.url);
  peer.send(`[:chsk/ws-ping]`);
  assert.equal(await peer.next(), `[:chsk/ws-pong]`);
  assert.deepEqual(pings, [uid]);
  await peer.close();
});

Deno.test("original §4.3.5: pings at the interval; ponging clients stay, silent ones close", async () => {
  const clock = new VirtualClock();
  await using t = await startServer({
    ...ON,
    clock,
    heartbeat: { intervalMs: 30_000, timeoutMs: 60_000 },
  });
  const ponging = await originalPeer(t.url);
  const silent = await originalPeer(t.url);
  for (let round = 0; round < 4; round++) {
    clock.tick(30_000);
    assert.equal(await ponging.peer.next(), `[:chsk/ws-ping]`);
    ponging.peer.send(`[:chsk/ws-pong]`);
    assert.equal(echoOf(await probe(ponging.peer, round))["original-data"], round);
    if (round === 0) assert.equal(await silent.peer.next(), `[:chsk/ws-ping]`);
  }
  // Deviation, documented: any frame counts as liveness, not only [:chsk/ws-pong].
  assert.equal((await silent.peer.closed()).code, 4008);
  assert.equal(t.server.stats().connections, 1);
  await ponging.peer.close();
});

Deno.test("original §4.3.6: subscribers get channel-msg from the publisher's uid, others nothing", async () => {
  await using t = await startServer(ON);
  const a = await originalPeer(t.url);
  const b = await originalPeer(t.url);
  const outsider = await originalPeer(t.url);
  for (const p of [a, b]) {
    p.peer.send(`[:sente-lite/subscribe {:channel-id "c1"}]`);
    assert.equal(await p.peer.next(), `[:sente-lite/subscribed {:channel-id "c1", :success true}]`);
  }
  a.peer.send(`[:sente-lite/publish {:channel-id "c1", :data {:n 1}, :exclude-sender? false}]`);
  const msg = `[:sente-lite/channel-msg {:channel-id "c1", :data {:n 1}, :from "${a.uid}"}]`;
  assert.equal(await a.peer.next(), msg);
  assert.equal(await b.peer.next(), msg);
  assert.equal(echoOf(await probe(outsider.peer, 1))["original-data"], 1);
  assert.equal(t.server.publish("c1", { n: 2 }), 2);
  assert.equal(
    await b.peer.next(),
    `[:sente-lite/channel-msg {:channel-id "c1", :data {:n 2}, :from nil}]`,
  );
  for (const p of [a, b, outsider]) await p.peer.close();
});

Deno.test("original §4.3.7: unsubscribe is acked with subscribed; later publishes do not arrive", async () => {
  await using t = await startServer(ON);
  const { peer } = await originalPeer(t.url);
  peer.send(`[:sente-lite/subscribe {:channel-id "c1"}]`);
  await peer.next();
  peer.send(`[:sente-lite/unsubscribe {:channel-id "c1"}]`);
  assert.equal(await peer.next(), `[:sente-lite/subscribed {:channel-id "c1", :success true}]`);
  assert.equal(t.server.publish("c1", 1), 0);
  // Deviation, documented: an unknown channel is acked with success too (not :not-subscribed).
  peer.send(`[:sente-lite/unsubscribe {:channel-id "never"}]`);
  assert.equal(await peer.next(), `[:sente-lite/subscribed {:channel-id "never", :success true}]`);
  assert.equal(echoOf(await probe(peer, 1))["original-data"], 1);
  await peer.close();
});

Deno.test("original §4.3.8: over the subscription limit the error is a keyword", async () => {
  await using t = await startServer({ ...ON, maxSubscriptionsPerConnection: 1 });
  const { peer } = await originalPeer(t.url);
  peer.send(`[:sente-lite/subscribe {:channel-id "a"}]`);
  await peer.next();
  peer.send(`[:sente-lite/subscribe {:channel-id "b"}]`);
  assert.equal(
    await peer.next(),
    `[:sente-lite/subscribed {:channel-id "b", :success false, :error :max-subscriptions-per-conn}]`,
  );
  await peer.close();
});

Deno.test("original §4.3.9: exclude-sender? true is honoured (the original ignored it)", async () => {
  await using t = await startServer(ON);
  const a = await originalPeer(t.url);
  const b = await originalPeer(t.url);
  for (const p of [a, b]) {
    p.peer.send(`[:sente-lite/subscribe {:channel-id "c1"}]`);
    await p.peer.next();
  }
  a.peer.send(`[:sente-lite/publish {:channel-id "c1", :data {:n 1}, :exclude-sender? true}]`);
  assert.equal(
    await b.peer.next(),
    `[:sente-lite/channel-msg {:channel-id "c1", :data {:n 1}, :from "${a.uid}"}]`,
  );
  assert.equal(echoOf(await probe(a.peer, 1))["original-data"], 1);
  for (const p of [a, b]) await p.peer.close();
});

Deno.test("original §4.3.10: a closed connection's subscriptions are gone", async () => {
  await using t = await startServer(ON);
  const { peer } = await originalPeer(t.url);
  peer.send(`[:sente-lite/subscribe {:channel-id "c1"}]`);
  await peer.next();
  assert.equal(t.server.subscribers("c1").length, 1);
  await peer.close();
  await until(() => t.server.stats().connections === 0, "close");
  assert.equal(t.server.publish("c1", 1), 0);
  assert.equal(t.server.stats().channels, 0);
});

Deno.test("original §4.3.11: bad frames get no answer and do not end the connection", async () => {
  await using t = await startServer(ON);
  const { peer } = await originalPeer(t.url);
  for (
    const frame of [
      `this is not edn`,
      `{:type "subscribe" :channel-id "c"}`,
      `[:no-namespace {:x 1}]`,
      `[:a/b #my/tag 1]`,
      `[`,
      `[]`,
      `[:chsk/handshake ["x" nil {} true]]`,
      `[:sente-lite/subscribe {:channel-id ""}]`,
    ]
  ) {
    peer.send(frame);
  }
  assert.equal(echoOf(await probe(peer, 1))["original-data"], 1);
  const errors = t.server.stats().errors;
  const total = Object.values(errors).reduce((a, b) => a + b, 0);
  assert.equal(total, 8);
  await peer.close();
});

Deno.test("original §4.3.12: an oversized frame closes the connection (1009)", async () => {
  await using t = await startServer({ ...ON, maxMessageBytes: 1024 });
  const { peer } = await originalPeer(t.url);
  peer.send(`[:test/big "${"x".repeat(2000)}"]`);
  assert.equal((await peer.closed()).code, 1009);
});

Deno.test("original §4.3.13: beyond the connection limit the upgrade is refused before a handshake", async () => {
  await using t = await startServer({ ...ON, maxConnectionsPerIp: 1 });
  const { peer } = await originalPeer(t.url);
  const r = await fetch(t.http + "/chsk", { headers: { upgrade: "websocket" } });
  assert.equal(r.status, 429);
  await r.body?.cancel();
  await peer.close();
});

Deno.test("original §4.3.14: broadcasts reach every connection as bare events", async () => {
  await using t = await startServer(ON);
  const peers = await Promise.all([1, 2, 3].map(() => originalPeer(t.url)));
  assert.equal(t.server.broadcast("server/news", { n: 1 }), 3);
  for (const { peer } of peers) assert.equal(await peer.next(), `[:server/news {:n 1}]`);
  for (const { peer } of peers) await peer.close();
});

Deno.test("original §4.3.15: 10 clients × 10 messages are all echoed, in order", async () => {
  await using t = await startServer(ON);
  const peers = await Promise.all(Array.from({ length: 10 }, () => originalPeer(t.url)));
  for (const { peer } of peers) for (let i = 0; i < 10; i++) peer.send(`[:load/msg ${i}]`);
  for (const { peer, uid } of peers) {
    for (let i = 0; i < 10; i++) {
      const echo = echoOf(await peer.next());
      assert.equal(echo["original-data"], i);
      assert.equal(echo["conn-id"], uid);
    }
  }
  for (const { peer } of peers) await peer.close();
});

Deno.test("original dialect is off by default: no client-id is HTTP 400", async () => {
  await using t = await startServer();
  const r = await fetch(t.http + "/chsk", { headers: { upgrade: "websocket" } });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /client-id is required/);
});

Deno.test("createDemoServer() serves original clients: demo/echo comes back as a push", async () => {
  const server = createDemoServer({ onError: () => {} });
  const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
  try {
    const { peer } = await originalPeer(handle.url);
    peer.send(`[:demo/echo {:msg "hi"}]`);
    assert.equal(await peer.next(), `[:demo/echo {:msg "hi"}]`);
    await peer.close();
  } finally {
    await handle.close();
  }
});
