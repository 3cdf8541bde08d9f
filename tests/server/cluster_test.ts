/**
 * Cluster routing through an in-process backplane: two servers sharing one LocalBus, real
 * sockets, one client on each. Every cross-node API: send(uid), sendTo, request and its reply,
 * broadcast, publish (server and client), closeConnection, connectedUids and uidport events.
 */
import assert from "node:assert/strict";
import { type Client, connect } from "../../lib/client/client.ts";
import { onPresence, presence, type PresenceEvent } from "../../lib/client/presence.ts";
import { localBackplane, LocalBus } from "../../lib/backplane/local.ts";
import { ClosedError } from "../../lib/protocol/errors.ts";
import { startServer, until } from "../_server.ts";

const byUser = (req: Request) => new URL(req.url).searchParams.get("user");

async function pair() {
  const bus = new LocalBus();
  const a = await startServer({
    authenticate: byUser,
    backplane: localBackplane({ bus, nodeId: "A" }),
  });
  const b = await startServer({
    authenticate: byUser,
    backplane: localBackplane({ bus, nodeId: "B" }),
  });
  return { a, b };
}

/** Collects pushes of `id` on a client. */
function inbox(client: Client, id: string): unknown[] {
  const got: unknown[] = [];
  client.on(id, (data) => void got.push(data));
  return got;
}

Deno.test("cluster: sends, requests, broadcasts and publishes cross nodes exactly once", async () => {
  const { a, b } = await pair();
  await using _a = a;
  await using _b = b;
  const alice = connect(`${a.url}?user=alice`, { onError: () => {} });
  const bob = connect(`${b.url}?user=bob`, { onError: () => {} });
  await Promise.all([alice.ready, bob.ready]);
  const ha = { connId: a.server.connections()[0].id };
  const hb = { connId: b.server.connections()[0].id };
  assert.match(ha.connId, /^A\./);
  assert.match(hb.connId, /^B\./);
  // Cluster-wide presence, seen from both nodes.
  await until(() => a.server.connectedUids.current().size === 2, "presence on A");
  assert.deepEqual([...b.server.connectedUids.current()].sort(), ["alice", "bob"]);

  const toBob = inbox(bob, "t/uid");
  assert.equal(a.server.send("bob", "t/uid", { n: 1 }), 0); // no local connection of bob on A
  await until(() => toBob.length === 1, "send(uid) across nodes");
  assert.deepEqual(toBob, [{ n: 1 }]);

  const direct = inbox(alice, "t/direct");
  assert.equal(b.server.sendTo(ha.connId, "t/direct", "hi"), true);
  await until(() => direct.length === 1, "sendTo across nodes");

  alice.onRequest("t/ask", (data) => ({ answer: data }));
  assert.deepEqual(await b.server.request(ha.connId, "t/ask", 42), { answer: 42 });
  await assert.rejects(b.server.request("A.nosuchconn", "t/ask", 1), ClosedError);

  const all = [inbox(alice, "t/all"), inbox(bob, "t/all")];
  assert.equal(a.server.broadcast("t/all", "x", { except: [hb.connId] }), 1);
  a.server.broadcast("t/all", "y");
  await until(() => all[1].length === 1 && all[0].length === 2, "broadcasts");
  assert.deepEqual(all, [["x", "y"], ["y"]]);

  // Channels: subscribers on both nodes; a server publish and a client publish, each once.
  const msgs: unknown[][] = [[], []];
  await alice.subscribe("room", (d) => void msgs[0].push(d));
  await bob.subscribe("room", (d) => void msgs[1].push(d));
  b.server.publish("room", "from-server");
  await until(() => msgs[0].length === 1 && msgs[1].length === 1, "server publish");
  await alice.publish("room", "from-alice");
  await until(() => msgs[0].length === 2 && msgs[1].length === 2, "client publish");
  assert.deepEqual(msgs[1], ["from-server", "from-alice"]);

  // Closing alice's connection from B.
  assert.equal(b.server.closeConnection(ha.connId, 4000, "bye"), true);
  await until(() => a.server.connections().length === 0, "remote close");
  alice.close();
  bob.close();
  await until(() => b.server.connectedUids.current().size === 0, "presence emptied");
});

Deno.test("cluster: uidport-open/close fire once per cluster; an offline send is buffered once", async () => {
  const { a, b } = await pair();
  await using _a = a;
  await using _b = b;
  const opens: string[] = [];
  const closes: string[] = [];
  for (const t of [a, b]) {
    t.server.on("chsk/uidport-open", (m) => void opens.push(m.data as string));
    t.server.on("chsk/uidport-close", (m) => void closes.push(m.data as string));
  }
  const c1 = connect(`${a.url}?user=carol`, { onError: () => {} });
  await c1.ready;
  const c2 = connect(`${b.url}?user=carol`, { onError: () => {} });
  await c2.ready;
  assert.deepEqual(opens, ["carol"]); // the second node saw carol already connected
  c1.close();
  await until(() => a.server.connections().length === 0, "c1 closed");
  assert.deepEqual(closes, []);
  c2.close();
  await until(() => closes.length === 1, "uidport-close");
  // dave is nowhere: a send from A is buffered (on A) and reaches his first connection once.
  a.server.send("dave", "t/later", 1);
  const c3 = connect(`${a.url}?user=dave`, { onError: () => {} });
  const later = inbox(c3, "t/later");
  await c3.ready;
  await until(() => later.length === 1, "offline delivery");
  c3.close();
});

Deno.test("cluster: a client resumes on another node: what was sent meanwhile, in order", async () => {
  const bus = new LocalBus();
  const a = await startServer({ authenticate: byUser, backplane: localBackplane({ bus }) });
  const b = await startServer({ authenticate: byUser, backplane: localBackplane({ bus }) });
  await using _b = b;
  let target = a.url;
  const client = connect(() => `${target}?user=erin`, {
    onError: () => {},
    reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
  });
  const got: unknown[] = [];
  client.on("t/n", (n) => void got.push(n));
  const room: unknown[] = [];
  await client.ready;
  await client.subscribe("room", (d) => void room.push(d));
  b.server.send("erin", "t/n", 1);
  b.server.publish("room", 1);
  await until(() => got.length === 1 && room.length === 1, "before the move");
  // Node A goes away (its sockets close); the client's next attempt lands on B.
  target = b.url;
  const resumed = new Promise<unknown>((r) => client.on("chsk/handshake", (hs) => r(hs)));
  await a.handle.close();
  b.server.send("erin", "t/n", 2); // while erin is away: kept in her session
  b.server.publish("room", 2);
  const hs = await resumed as { server: { resume: { resumed: boolean } } };
  assert.equal(hs.server.resume.resumed, true);
  b.server.send("erin", "t/n", 3);
  b.server.publish("room", 3);
  await until(() => got.length === 3 && room.length === 3, "after the move");
  assert.deepEqual([got, room], [[1, 2, 3], [1, 2, 3]]);
  client.close();
});

Deno.test("cluster: client→server dedup moves with the session (the new node's ack)", async () => {
  const bus = new LocalBus();
  const a = await startServer({ authenticate: byUser, backplane: localBackplane({ bus }) });
  const b = await startServer({ authenticate: byUser, backplane: localBackplane({ bus }) });
  await using _b = b;
  const handled: unknown[] = [];
  for (const t of [a, b]) t.server.on("c/n", (m) => void handled.push(m.data));
  let target = a.url;
  const client = connect(() => `${target}?user=finn`, {
    onError: () => {},
    reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
  });
  await client.ready;
  for (let n = 1; n <= 3; n++) client.send("c/n", n);
  await until(() => handled.length === 3, "handled on A");
  await until(() => a.server.stats().messagesIn >= 3, "A read them");
  target = b.url;
  const moved = new Promise<unknown>((r) => client.on("chsk/handshake", (hs) => r(hs)));
  // A records each client seq in the store (in-process: settled within the turn) before
  // acknowledging it.
  await new Promise((r) => setTimeout(r, 0));
  await a.handle.close();
  const hs = await moved as { server: { resume: { resumed: boolean; ack: number } } };
  assert.equal(hs.server.resume.resumed, true);
  assert.equal(hs.server.resume.ack, 3); // B knows A handled 1–3: the client re-sends none
  client.send("c/n", 4);
  await until(() => handled.length === 4, "handled on B");
  assert.deepEqual(handled, [1, 2, 3, 4]);
  client.close();
});

Deno.test("cluster: a node that dies: uidport-close fires once in the cluster for its uids only", async () => {
  const bus = new LocalBus();
  const start = (nodeId: string) =>
    startServer({ authenticate: byUser, backplane: localBackplane({ bus, nodeId }) });
  const a = await start("A");
  await using _a = a;
  const b = await start("B");
  await using _b = b;
  const cPlane = localBackplane({ bus, nodeId: "C" });
  const c = await startServer({ authenticate: byUser, backplane: cPlane });
  await using _c = c;
  const closes: [string, string, string][] = [];
  for (const [name, t] of [["A", a], ["B", b]] as const) {
    t.server.on("chsk/uidport-close", (m) => void closes.push([name, m.uid, m.connId]));
  }
  // carol only on C; dan on B and C; erin on A.
  const clients = [
    connect(`${c.url}?user=carol`, { onError: () => {} }),
    connect(`${c.url}?user=dan`, { onError: () => {} }),
    connect(`${b.url}?user=dan`, { onError: () => {} }),
    connect(`${a.url}?user=erin`, { onError: () => {} }),
  ];
  await Promise.all(clients.map((cl) => cl.ready));
  await until(() => a.server.connectedUids.current().size === 3, "presence on A");
  // C "dies": it leaves the bus with its connections still open (no close seen anywhere).
  await cPlane.close();
  await until(() => closes.length > 0, "uidport-close for carol");
  assert.deepEqual(closes, [["A", "carol", "C.departed"]]); // once (on A, elected), carol only
  assert.deepEqual([...a.server.connectedUids.current()].sort(), ["dan", "erin"]);
  assert.deepEqual([...b.server.connectedUids.current()].sort(), ["dan", "erin"]);
  for (const cl of clients) cl.close();
  await until(() => closes.length === 3, "dan and erin close normally");
  assert.deepEqual(closes.slice(1).map(([, uid]) => uid).sort(), ["dan", "erin"]);
});

Deno.test("cluster: server.join/leave reach a uid's connections and a connection on every node", async () => {
  const { a, b } = await pair();
  await using _a = a;
  await using _b = b;
  const onA = connect(`${a.url}?user=alice`, { onError: () => {} });
  const onB = connect(`${b.url}?user=alice`, { onError: () => {} });
  const bob = connect(`${b.url}?user=bob`, { onError: () => {} });
  await Promise.all([onA.ready, onB.ready, bob.ready]);
  await until(() => a.server.connectedUids.current().size === 2, "presence on A");
  const room: unknown[][] = [[], [], []];
  // From A: alice's connection here (counted) and her one on B (told through the backplane).
  assert.equal(a.server.join({ uid: "alice" }, "room"), 1);
  // From A: bob's connection on B, by id (1: sent to its node).
  const bobConn = b.server.connections().find((c) => c.uid === "bob")!.id;
  assert.equal(a.server.join(bobConn, "room"), 1);
  await until(
    () => [onA, onB, bob].every((c) => c.channels().includes("room")),
    "joined on both nodes",
  );
  assert.equal(b.server.subscribers("room").length, 2);
  // Handlers for it (no second membership).
  await Promise.all(
    [onA, onB, bob].map((c, i) => c.subscribe("room", (d) => void room[i].push(d))),
  );
  a.server.publish("room", 1);
  await until(() => room.every((r) => r.length === 1), "publish to the joined connections");
  assert.equal(b.server.leave({ uid: "alice" }, "room"), 1);
  await until(() => !onA.channels().includes("room"), "left on A too");
  assert.ok(!onB.channels().includes("room"));
  b.server.publish("room", 2);
  await until(() => room[2].length === 2, "bob still in the room");
  assert.deepEqual(room.map((r) => r.length), [1, 1, 2]);
  for (const c of [onA, onB, bob]) c.close();
});

Deno.test("cluster: channel presence and join/leave pushes cover every node; a dead node's members leave", async () => {
  const bus = new LocalBus();
  const start = (nodeId: string, backplane = localBackplane({ bus, nodeId })) =>
    startServer({ authenticate: byUser, presence: ["room:*"], backplane });
  const a = await start("A");
  await using _a = a;
  const b = await start("B");
  await using _b = b;
  const cPlane = localBackplane({ bus, nodeId: "C" });
  const c = await start("C", cPlane);
  await using _c = c;
  const alice = connect(`${a.url}?user=alice`, { onError: () => {} });
  const bob = connect(`${b.url}?user=bob`, { onError: () => {} });
  const carol = connect(`${c.url}?user=carol`, { onError: () => {} });
  await Promise.all([alice.ready, bob.ready, carol.ready]);
  const heard: PresenceEvent[] = [];
  onPresence(alice, "room:1", (e) => void heard.push(e));
  await alice.subscribe("room:1", () => {});
  await bob.subscribe("room:1", () => {});
  await carol.subscribe("room:1", () => {});
  await until(() => heard.length === 2, "bob's and carol's joins on A");
  assert.deepEqual(heard.map((e) => `${e.action}:${e.uid}`).sort(), ["join:bob", "join:carol"]);
  const uids = (ms: { uid: string }[] | null) => ms!.map((m) => m.uid).sort();
  for (const t of [a, b, c]) {
    assert.deepEqual(uids(t.server.presence("room:1")), ["alice", "bob", "carol"]);
  }
  assert.deepEqual(uids(await presence(bob, "room:1")), ["alice", "bob", "carol"]);
  assert.equal(a.server.presence("chat"), null);
  // bob leaves: A's subscriber hears it.
  await bob.unsubscribe("room:1");
  await until(() => heard.length === 3, "bob's leave on A");
  assert.deepEqual([heard[2].action, heard[2].uid], ["leave", "bob"]);
  assert.deepEqual(uids(a.server.presence("room:1")), ["alice", "carol"]);
  // C dies (leaves the bus, its connections still open): carol leaves the room everywhere.
  await cPlane.close();
  await until(() => heard.length === 4, "carol's leave on A");
  assert.deepEqual([heard[3].action, heard[3].uid], ["leave", "carol"]);
  assert.deepEqual(uids(a.server.presence("room:1")), ["alice"]);
  assert.deepEqual(uids(b.server.presence("room:1")), ["alice"]);
  for (const cl of [alice, bob, carol]) cl.close();
});
