import assert from "node:assert/strict";
import { FanOutQueue, type Sequencer, subscribers } from "../../lib/server/fanout.ts";
import { resolveServerOptions } from "../../lib/server/options.ts";
import { ServerContext } from "../../lib/server/context.ts";
import { Hub } from "../../lib/server/hub.ts";
import { topicOf } from "../../lib/server/fanout_job.ts";
import { topicConn, topicHub } from "./_topic_hub.ts";

const SUBSCRIBE_ROOM = '[["sente-lite/subscribe",{"channel-id":"room"}],"c1"]';

/** Lets the Hub answer what its connections sent (a subscribe is handled asynchronously). */
const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("Hub: a channel publish reads its native subscribers' buffers on its first publish, then once per 64 KiB", async () => {
  const hub = new Hub({ onError: () => {}, backpressure: { maxBufferedBytes: 100_000 } });
  const { publishes, open } = topicHub(hub);
  const subs = [await open("client-id=a&packer=json"), await open("client-id=b&packer=json")];
  for (const s of subs) s.sink.received(SUBSCRIBE_ROOM);
  await settle();
  const [a, b] = subs.map((s) => s.socket);
  a.reads = b.reads = 0;
  publishes.length = 0;
  assert.equal(hub.publish("room", 1), 2);
  assert.deepEqual([a.reads, b.reads], [1, 1]); // a new group is looked at first
  for (let i = 0; i < 20; i++) hub.publish("room", i);
  assert.deepEqual([a.reads, b.reads], [1, 1]); // no work per subscriber and publish
  assert.equal(publishes.length, 21);
  assert.ok(publishes.every((t) => t === topicOf("sente-lite/json", "room")));

  // b stops reading: it is closed (1013) within 64 KiB and one message of what it was sent.
  b.bufferedAmount = 200_000;
  const before = b.sent.length;
  const data = "x".repeat(1000);
  for (let i = 0; i < 100 && b.closedWith === null; i++) hub.publish("room", data);
  assert.equal(b.closedWith, 1013);
  assert.equal(b.topics.size, 0); // it left its topics
  const got = b.sent.slice(before).reduce((n, f) => n + f.length, 0);
  assert.ok(got <= 64 * 1024 + 1100, `${got} bytes after it filled up`);
  const sentA = a.sent.length;
  assert.equal(hub.publish("room", 2), 1);
  assert.equal(a.sent.length, sentA + 1);
  assert.equal(hub.stats().slowConsumerCloses, 1);
  hub.closeAll();
});

Deno.test("Hub: one look covers a native connection's broadcasts and channels together (64 KiB across its topics)", async () => {
  const hub = new Hub({ onError: () => {}, backpressure: { maxBufferedBytes: 100_000 } });
  const { open } = topicHub(hub);
  const { socket, sink } = await open("client-id=a&packer=json");
  sink.received(SUBSCRIBE_ROOM);
  await settle();
  hub.publish("room", 0);
  hub.broadcast("app/b", 0); // both groups looked at once
  socket.bufferedAmount = 200_000;
  const before = socket.sent.length;
  const data = "x".repeat(1000);
  // Half the bytes by each topic: its 64 KiB is counted across both.
  for (let i = 0; i < 100 && socket.closedWith === null; i++) {
    if (i % 2 === 0) hub.publish("room", data);
    else hub.broadcast("app/b", data);
  }
  assert.equal(socket.closedWith, 1013);
  const got = socket.sent.slice(before).reduce((n, f) => n + f.length, 0);
  assert.ok(got <= 64 * 1024 + 1100, `${got} bytes after it filled up`);
  hub.closeAll();
});

Deno.test("Hub: a channel with native and per-connection subscribers sends each one copy, in order", async () => {
  const hub = new Hub({ onError: () => {} });
  const { publishes, open } = topicHub(hub);
  const native = await open("client-id=n&packer=json");
  const resuming = await open("client-id=r&packer=json&resume=0"); // numbered: its own frames
  const batching = await open("client-id=b&packer=json&wire=batching");
  for (const s of [native, resuming, batching]) s.sink.received(SUBSCRIBE_ROOM);
  await settle();
  for (const s of [native, resuming, batching]) s.socket.sent.length = 0;
  for (let i = 1; i <= 3; i++) assert.equal(hub.publish("room", i), 3);
  assert.equal(publishes.filter((t) => t.endsWith("\nroom")).length, 3);
  const datas = (sent: string[]) =>
    sent.flatMap((f) => [...f.matchAll(/"data":(\d)/g)].map((m) => m[1]));
  assert.deepEqual(datas(native.socket.sent), ["1", "2", "3"]);
  assert.deepEqual(datas(resuming.socket.sent), ["1", "2", "3"]);
  // Its batch goes out when its window ends: wait for it (bounded), not for a time.
  for (let i = 0; i < 500 && datas(batching.socket.sent).length < 3; i++) await settle();
  assert.deepEqual(datas(batching.socket.sent), ["1", "2", "3"]);

  // Once only natives are left, a publish is the topic alone.
  resuming.sink.received('[["sente-lite/unsubscribe",{"channel-id":"room"}],"c2"]');
  batching.sink.received('[["sente-lite/unsubscribe",{"channel-id":"room"}],"c2"]');
  await settle();
  resuming.socket.sent.length = 0;
  assert.equal(hub.publish("room", 4), 1);
  assert.deepEqual(datas(native.socket.sent), ["1", "2", "3", "4"]);
  assert.deepEqual(resuming.socket.sent, []);
  hub.closeAll();
});

Deno.test("FanOutQueue: a channel subscriber moves between its variant's topic and the per-connection path", () => {
  const ctx = new ServerContext(resolveServerOptions({}));
  const none: Sequencer = { sequenced: () => assert.fail("no session here") };
  const queue = new FanOutQueue(ctx.options, none, (fn) => fn());
  const { c, socket, publishes } = topicConn(ctx, queue);
  const members = new Set([c]);
  const publish = (n: number) =>
    queue.run(subscribers(members, "room"), { type: "push", events: [["app/m", n]] }, "room");
  c.subscribe("room"); // not native yet (a cluster's channel-seq connection before its replay)
  assert.equal(publish(1), 1);
  assert.deepEqual(publishes, []);
  assert.equal(socket.sent.length, 1);
  c.joinTopics("sente-lite/json");
  assert.ok(socket.topics.has(topicOf("sente-lite/json", "room")));
  assert.equal(publish(2), 1);
  assert.deepEqual(publishes, [topicOf("sente-lite/json", "room")]);
  c.leaveTopics();
  assert.equal(publish(3), 1);
  assert.equal(publishes.length, 1);
  assert.equal(socket.sent.length, 3); // 1 and 3 sent to it, 2 by its topic
  c.unsubscribe("room");
  members.delete(c);
  assert.equal(publish(4), 0);
});
