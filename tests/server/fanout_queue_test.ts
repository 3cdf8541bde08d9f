import assert from "node:assert/strict";
import { everyone, FanOutQueue, ofUid, type Sequencer, topicOf } from "../../lib/server/fanout.ts";
import { Connection } from "../../lib/server/connection.ts";
import { resolveServerOptions } from "../../lib/server/options.ts";
import { ServerContext } from "../../lib/server/context.ts";
import { jsonPacker } from "../../lib/packers/json.ts";
import { ednPacker } from "../../lib/packers/edn.ts";
import { senteLiteDialect } from "../../lib/dialects/sente_lite.ts";
import type { Frame, Packer } from "../../lib/packers/packer.ts";
import { Hub, type PendingUpgrade } from "../../lib/server/hub.ts";
import { Session } from "../../lib/server/session.ts";
import { ConnStreams } from "../../lib/server/channel_seq.ts";
import { topicConn, topicHub, TopicSocket } from "./_topic_hub.ts";

const NO_SEQUENCER: Sequencer = { sequenced: () => assert.fail("no recipient resumes here") };

/** A connection over a socket that records what it is sent. */
function conn(ctx: ServerContext, id: string, packer: Packer = jsonPacker) {
  const sent: string[] = [];
  const socket = {
    send: (f: Frame) => void sent.push(String(f)),
    close: () => {},
    bufferedAmount: 0,
  };
  const request = new Request("http://localhost/chsk");
  const c = new Connection(id, "u", id, request, packer, senteLiteDialect, socket, 0, ctx.stats);
  return { c, sent };
}

/** A queue whose slices run when the test says so, and `n` connections opened on it. */
function manualQueue(slice: number, n: number) {
  const ctx = new ServerContext(resolveServerOptions({ fanOutSlice: slice }));
  const turns: (() => void)[] = [];
  const queue = new FanOutQueue(ctx.options, NO_SEQUENCER, (fn) => void turns.push(fn));
  const turn = () => {
    const fns = turns.splice(0);
    for (const fn of fns) fn();
    return fns.length;
  };
  const cs = Array.from({ length: n }, (_, i) => {
    const x = conn(ctx, `c${i}`);
    queue.opened(x.c);
    ctx.conns.add(x.c);
    return x;
  });
  return { ctx, queue, turn, cs, all: () => everyone(ctx.conns) };
}

const push = (n: number) => ({ type: "push" as const, events: [["app/m", n] as [string, number]] });

Deno.test("FanOutQueue serves fanOutSlice recipients per turn and counts the waiting ones", () => {
  const { queue, turn, cs, all } = manualQueue(2, 5);
  assert.equal(queue.run(all(), push(1)), 5);
  assert.deepEqual(cs.map((x) => x.sent.length), [1, 1, 0, 0, 0]);
  assert.equal(turn(), 1);
  assert.deepEqual(cs.map((x) => x.sent.length), [1, 1, 1, 1, 0]);
  assert.equal(turn(), 1);
  assert.deepEqual(cs.map((x) => x.sent.length), [1, 1, 1, 1, 1]);
  assert.equal(turn(), 0);
  assert.equal(queue.queued, 0);
});

/** The `n` of every `app/m` push a connection got, in order. */
function ns(sent: string[]): number[] {
  return sent.map((f) => ((JSON.parse(f) as unknown[][][])[0][0][1]) as number);
}

Deno.test("FanOutQueue keeps order per connection: a later send gets what it is owed first", () => {
  const { queue, turn, cs, all } = manualQueue(2, 20);
  const last = cs[19];
  queue.run(all(), push(1)); // two now, 18 wait
  assert.equal(queue.run(all(), push(2)), 20); // over SMALL_FANOUT (16): everything waits
  assert.deepEqual(ns(cs[0].sent), [1]);
  assert.deepEqual(ns(last.sent), []);
  last.c.send(push(99)); // a direct send: it first gets 1 and 2
  assert.deepEqual(ns(last.sent), [1, 2, 99]);
  // A small fan-out while others wait: its recipients get what they are owed first, now.
  assert.equal(queue.run(ofUid(new Set([cs[5].c]), "u"), push(3)), 1);
  assert.deepEqual(ns(cs[5].sent), [1, 2, 3]);
  let turns = 0;
  while (turn() > 0) assert.ok(++turns < 50);
  for (const [i, x] of cs.entries()) {
    const want = i === 5 ? [1, 2, 3] : i === 19 ? [1, 2, 99] : [1, 2];
    assert.deepEqual(ns(x.sent), want, x.c.id); // in order, nothing twice
  }
  assert.equal(queue.queued, 0);
});

Deno.test("FanOutQueue cuts a backlog bigger than the slice across turns, in order", () => {
  const { queue, turn, cs, all } = manualQueue(3, 20);
  for (let i = 1; i <= 10; i++) queue.run(all(), push(i)); // 3 get #1 now; the rest wait
  assert.equal(turn(), 1);
  // The slice is 3 frames: the first owed connection gets #1 to #3, not its whole backlog (one
  // connection's backlog no longer overshoots the slice).
  assert.deepEqual(cs.slice(3, 6).map((x) => ns(x.sent)), [[1, 2, 3], [], []]);
  cs[4].c.send(push(99)); // a direct send still gets everything owed first
  assert.deepEqual(ns(cs[4].sent), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99]);
  let turns = 0;
  while (turn() > 0) assert.ok(++turns < 200);
  const want = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  for (const [i, x] of cs.entries()) {
    assert.deepEqual(ns(x.sent), i === 4 ? [...want, 99] : want, x.c.id);
  }
  assert.equal(queue.queued, 0);
});

Deno.test("FanOutQueue: closing a connection sends what it is owed before the close", () => {
  const { queue, turn, cs, all } = manualQueue(1, 2);
  const events: string[] = [];
  cs[1].c.socket.close = () => void events.push("close");
  const send = cs[1].c.socket.send;
  cs[1].c.socket.send = (f: Frame) => {
    events.push("frame");
    send(f);
  };
  queue.run(all(), push(1));
  cs[1].c.close(1000, "bye");
  assert.deepEqual(events, ["frame", "close"]);
  turn();
  assert.deepEqual(ns(cs[1].sent), [1]);
});

Deno.test("Hub uses native topics per frame variant; resuming and batching peers stay per connection", async () => {
  const hub = new Hub({ packers: [jsonPacker, ednPacker()], onError: () => {} });
  const { publishes, open } = topicHub(hub);
  const json1 = await open("client-id=j1&packer=json");
  const json2 = await open("client-id=j2&packer=json");
  const edn = await open("client-id=e1&packer=edn");
  const sente = await open("client-id=s1"); // the Sente dialect, EDN
  const resuming = await open("client-id=r1&packer=json&resume=0");
  const batching = await open("client-id=b1&packer=json&wire=batching");
  assert.deepEqual([...json1.socket.topics], ["sente-lite/json"]);
  assert.deepEqual([...resuming.socket.topics], []);
  assert.deepEqual([...batching.socket.topics], []);

  assert.equal(hub.broadcast("app/hi", 1), 6);
  // One publish per variant present among the native recipients.
  assert.deepEqual(publishes.sort(), ["sente-lite/edn", "sente-lite/json", "sente/edn"].sort());
  assert.deepEqual(json1.socket.sent, ['[[["app/hi",1]],null]']);
  assert.deepEqual(json2.socket.sent, json1.socket.sent);
  assert.equal(edn.socket.sent.length, 1);
  assert.equal(sente.socket.sent.length, 1);
  assert.equal(resuming.socket.sent.length, 1); // numbered: its own frame
  assert.match(resuming.socket.sent[0], /sente-lite\/msg/);

  // Channels: a topic per variant and channel, left on unsubscribe.
  json1.sink.received('[["sente-lite/subscribe",{"channel-id":"room"}],"c1"]');
  await new Promise((r) => setTimeout(r, 0));
  assert.ok(json1.socket.topics.has("sente-lite/json\nroom"));
  publishes.length = 0;
  json1.socket.sent.length = 0;
  json2.socket.sent.length = 0;
  assert.equal(hub.publish("room", "x"), 1);
  assert.deepEqual(publishes, [topicOf("sente-lite/json", "room")]);
  assert.equal(json1.socket.sent.length, 1);
  assert.equal(json2.socket.sent.length, 0);

  // A broadcast with `except` goes per connection.
  publishes.length = 0;
  const except = hub.connections().find((c) => c.clientId === "j2")!.id;
  assert.equal(hub.broadcast("app/hi", 2, { except: [except] }), 5);
  assert.deepEqual(publishes, []);
  hub.closeAll();
  assert.deepEqual([...json1.socket.topics], []); // closing leaves the topics
});

Deno.test("Hub: channel-seq connections share native topics per variant; their uid pushes stay numbered per connection", async () => {
  const hub = new Hub({ onError: () => {} });
  const { publishes, open } = topicHub(hub);
  const a = await open("client-id=a&packer=json&resume=0&cseq=");
  const b = await open("client-id=b&packer=json&resume=0&cseq=");
  const old = await open("client-id=o&packer=json&resume=0"); // resumes without channel-seq
  assert.deepEqual([...a.socket.topics], ["sente-lite/json+cseq"]);
  assert.deepEqual([...old.socket.topics], []);
  assert.equal(hub.broadcast("app/hi", 1), 3);
  assert.deepEqual(publishes, ["sente-lite/json+cseq"]);
  assert.equal(a.socket.sent.length, 1);
  assert.deepEqual(b.socket.sent, a.socket.sent);
  assert.match(
    a.socket.sent[0],
    /^\[\[\["sente-lite\/msg",\{"ch":null,"cseq":\d+,"event":\["app\/hi",1\]\}\]\],null\]$/,
  );
  assert.match(old.socket.sent[0], /"seq":1,/);
  for (const p of [a, b]) p.sink.received('[["sente-lite/subscribe",{"channel-id":"room"}],"c1"]');
  await new Promise((r) => setTimeout(r, 0));
  assert.ok(a.socket.topics.has("sente-lite/json+cseq\nroom"));
  publishes.length = 0;
  a.socket.sent.length = 0;
  b.socket.sent.length = 0;
  assert.equal(hub.publish("room", "x"), 2);
  assert.deepEqual(publishes, [topicOf("sente-lite/json+cseq", "room")]);
  assert.deepEqual(b.socket.sent, a.socket.sent);
  // A uid push is the session's own: numbered per connection, not published.
  publishes.length = 0;
  hub.sendTo(hub.connections().find((c) => c.clientId === "a")!.id, "app/own", 1);
  assert.deepEqual(publishes, []);
  assert.match(a.socket.sent.at(-1)!, /"seq":1,"event":\["app\/own",1\]/);
  hub.closeAll();
});

Deno.test("Hub closes a native subscriber over maxBufferedBytes (1013) instead of publishing to it", async () => {
  const hub = new Hub({ onError: () => {}, backpressure: { maxBufferedBytes: 1000 } });
  const registry = new Set<TopicSocket>();
  const publishes: string[] = [];
  const sockets: TopicSocket[] = [];
  for (const id of ["a", "b"]) {
    const req = new Request(`http://127.0.0.1/chsk?client-id=${id}&packer=json`, {
      headers: { upgrade: "websocket" },
    });
    const pending = await hub.prepare(req);
    const socket = new TopicSocket(registry, publishes);
    hub.open(pending as PendingUpgrade, socket);
    sockets.push(socket);
  }
  sockets[1].bufferedAmount = 5000;
  assert.equal(hub.broadcast("app/hi", 1), 1);
  assert.equal(sockets[1].closedWith, 1013);
  assert.equal(sockets[1].topics.size, 0);
  assert.equal(hub.stats().slowConsumerCloses, 1);
  hub.closeAll();
});

Deno.test("FanOutQueue: a queued fan-out costs nothing per recipient and skips later connections", () => {
  const { ctx, queue, turn, cs, all } = manualQueue(2, 20);
  queue.run(all(), push(1)); // two now, the rest queued
  assert.ok(queue.lastSeq > 0);
  const late = conn(ctx, "late");
  queue.opened(late.c); // opened after the fan-out was made
  late.c.send(push(7)); // owes nothing
  assert.deepEqual(ns(late.sent), [7]);
  while (turn() > 0) { /* drain */ }
  assert.deepEqual(ns(late.sent), [7]);
  assert.ok(cs.every((x) => ns(x.sent).length === 1));
  assert.equal(queue.lastSeq, 0);
});

Deno.test("Hub: a broadcast whose per-connection part waits is not sent again to native subscribers", async () => {
  const hub = new Hub({ fanOutSlice: 1, onError: () => {} });
  const { publishes, open: openConn } = topicHub(hub);
  const open = async (query: string) => (await openConn(query)).socket;
  const natives = [await open("client-id=n1&packer=json"), await open("client-id=n2&packer=json")];
  const resuming: TopicSocket[] = [];
  for (const id of ["r1", "r2", "r3"]) {
    resuming.push(await open(`client-id=${id}&packer=json&resume=0`));
  }
  assert.equal(hub.broadcast("app/hi", 1), 5);
  assert.deepEqual(publishes, ["sente-lite/json"]);
  assert.deepEqual(resuming.map((s) => s.sent.length), [1, 0, 0]); // one now, two wait
  const n1 = hub.connections().find((c) => c.clientId === "n1")!.id;
  assert.ok(hub.sendTo(n1, "app/direct", 2));
  assert.equal(natives[0].sent.length, 2); // the broadcast (published) and the push: no copy
  assert.match(natives[0].sent[1], /app\/direct/);
  // The queue runs a slice per event-loop turn: wait turns (bounded), not time.
  for (let i = 0; i < 100 && resuming.some((s) => s.sent.length === 0); i++) {
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.deepEqual(resuming.map((s) => s.sent.length), [1, 1, 1]);
  assert.equal(natives[1].sent.length, 1);
  hub.closeAll();
});

Deno.test("FanOutQueue: a broadcast walked across turns skips who closes, not who stays, once each", () => {
  const { ctx, queue, turn, cs, all } = manualQueue(3, 12);
  queue.run(all(), push(1)); // c0–c2 now, the rest walked in later turns
  const closed = [2, 3, 4, 8].map((i) => cs[i]); // the one just served, the next ones, one further
  for (const x of closed) ctx.conns.remove(x.c);
  const late = Array.from({ length: 3 }, (_, i) => {
    const x = conn(ctx, `late${i}`);
    queue.opened(x.c);
    ctx.conns.add(x.c);
    return x;
  });
  assert.equal(turn(), 1); // c5–c7
  ctx.conns.remove(cs[9].c); // the next one of the paused walk
  ctx.conns.remove(cs[0].c); // one it passed
  while (turn() > 0) { /* drain */ }
  assert.equal(queue.queued, 0);
  assert.deepEqual(cs.map((x) => ns(x.sent)), [
    [1],
    [1],
    [1],
    [],
    [],
    [1],
    [1],
    [1],
    [],
    [],
    [1],
    [1],
  ]);
  assert.ok(late.every((x) => x.sent.length === 0)); // opened after it was made
  queue.run(all(), push(2));
  while (turn() > 0) { /* drain */ }
  assert.deepEqual(late.map((x) => ns(x.sent)), [[2], [2], [2]]);
});

Deno.test("FanOutQueue: a channel-seq native gets a broadcast its session numbers (a cluster's) per connection, a streamed one by topic", () => {
  const ctx = new ServerContext(resolveServerOptions({}));
  const numbered: unknown[] = [];
  const sequencer: Sequencer = {
    sequenced: (_c, _s, event) => {
      numbered.push(event);
      return true;
    },
  };
  const queue = new FanOutQueue(ctx.options, sequencer, (fn) => fn());
  const { c, socket, publishes } = topicConn(ctx, queue);
  c.session = new Session<Connection>("u", "c1", "s1");
  c.cseq = new ConnStreams({
    retain: () => {},
    release: () => {},
    pending: () => {},
    subscribed: () => ({}),
    activate: () => ({}),
  });
  c.joinTopics("sente-lite/json+cseq");
  const conns = new Map([[c.id, c]]);
  assert.equal(queue.run(everyone(conns), push(1), null), 1);
  assert.deepEqual(publishes, []);
  assert.deepEqual(numbered, [["app/m", 1]]);
  assert.equal(queue.run(everyone(conns), push(2), null, undefined, { key: "", cseq: 7 }), 1);
  assert.deepEqual(publishes, ["sente-lite/json+cseq"]);
  assert.deepEqual(socket.sent, [
    '[[["sente-lite/msg",{"ch":null,"cseq":7,"event":["app/m",2]}]],null]',
  ]);
});
