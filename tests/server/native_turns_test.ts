/**
 * Native publishes take turns (lib/server/fanout.ts, `nativeTurnMs: 3`): past 3 ms of them in one
 * event-loop turn the rest wait in the queue, and every connection still gets every message once, in order.
 * The clock is virtual: each publish takes 1 ms of it.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { everyone, FanOutQueue, type Sequencer, subscribers } from "../../lib/server/fanout.ts";
import type { Connection } from "../../lib/server/connection.ts";
import { resolveServerOptions } from "../../lib/server/options.ts";
import { ServerContext } from "../../lib/server/context.ts";
import { openOn, TopicSocket } from "./_topic_hub.ts";

const NO_SEQUENCER: Sequencer = { sequenced: () => assert.fail("no recipient resumes here") };
const VARIANT = "sente-lite/json";

/** Lets the turn end (its microtasks run), as the event loop would. */
const endTurn = () => Promise.resolve();

/** A queue over native topics whose publishes take 1 ms of a virtual clock; slices run by hand. */
function nativeQueue(nativeTurnMs = 3) {
  const ctx = new ServerContext(resolveServerOptions({ nativeTurnMs }));
  const clock = { t: 0 };
  const turns: (() => void)[] = [];
  const queue = new FanOutQueue(
    ctx.options,
    NO_SEQUENCER,
    (fn) => void turns.push(fn),
    () => clock.t,
  );
  const registry = new Set<TopicSocket>();
  const publishes: string[] = [];
  let ids = 0;
  const open = () => {
    const socket = new TopicSocket(registry, publishes);
    const publish = socket.publish.bind(socket);
    socket.publish = (topic, frame) => {
      clock.t += 1;
      publish(topic, frame);
    };
    const c = openOn(ctx, queue, socket, `c${ids++}`);
    ctx.conns.add(c);
    c.joinTopics(VARIANT);
    return { c, socket };
  };
  /** Runs the slices scheduled so far, then ends the turn. */
  const turn = async () => {
    for (const fn of turns.splice(0)) fn();
    await endTurn();
  };
  /** Runs the queue's slices until it is empty (bounded); returns how many turns it took. */
  const drain = async () => {
    let n = 0;
    for (; turns.length > 0 && n < 1000; n++) await turn();
    return n;
  };
  const broadcast = (n: number) => queue.run(everyone(ctx.conns), push(n), null);
  /** A broadcast but to `except`: per connection (a native topic would reach it too). */
  const broadcastExcept = (n: number, except: string) =>
    queue.run(everyone(ctx.conns, new Set([except])), push(n), null);
  const room = new Set<Connection>();
  const join = (c: Connection) => {
    room.add(c);
    c.subscribe("room");
  };
  const publish = (n: number) => queue.run(subscribers(room, "room"), push(n), "room");
  return {
    ctx,
    queue,
    clock,
    open,
    turn,
    drain,
    broadcast,
    broadcastExcept,
    join,
    publish,
    publishes,
  };
}

const push = (n: number) => ({ type: "push" as const, events: [["app/m", n] as [string, number]] });

/** The `n` of every `app/m` push a socket got, in order. */
function ns(sent: string[]): number[] {
  return sent.map((f) => ((JSON.parse(f) as unknown[][][])[0][0][1]) as number);
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

Deno.test("FanOutQueue: native publishes past a turn's 3 ms wait for later turns, one publish each", async () => {
  const { queue, open, drain, broadcast, publishes } = nativeQueue();
  const cs = [open(), open(), open()];
  for (let i = 1; i <= 10; i++) assert.equal(broadcast(i), 3);
  for (const { socket } of cs) assert.deepEqual(ns(socket.sent), [1, 2, 3]); // 3 ms of publishes
  assert.equal(queue.queued, 7);
  assert.equal(await drain(), 3); // about 3 ms per turn
  for (const { socket } of cs) assert.deepEqual(ns(socket.sent), range(1, 10));
  assert.equal(publishes.length, 10); // no per-connection sends
  await endTurn();
  assert.equal(broadcast(11), 3); // a new turn publishes at once
  assert.equal(queue.queued, 0);
});

Deno.test("FanOutQueue: a native connection sent something while publishes wait gets them first, once, and rejoins its topics after", async () => {
  const { queue, open, drain, broadcast, publishes } = nativeQueue();
  const [a, b] = [open(), open()];
  for (let i = 1; i <= 10; i++) broadcast(i);
  a.c.send(push(99)); // a reply, say: after what it is owed
  assert.deepEqual(ns(a.socket.sent), [...range(1, 10), 99]);
  assert.equal(a.socket.topics.size, 0); // out of its topics: the publishes to come skip it
  assert.deepEqual(ns(b.socket.sent), [1, 2, 3]);
  await drain();
  assert.deepEqual(ns(a.socket.sent), [...range(1, 10), 99]);
  assert.deepEqual(ns(b.socket.sent), range(1, 10));
  assert.ok(a.socket.topics.has(VARIANT)); // the queue is empty: back in its topics
  await endTurn();
  const before = publishes.length;
  broadcast(11);
  assert.equal(publishes.length, before + 1);
  assert.deepEqual(ns(a.socket.sent).at(-1), 11);
  assert.equal(queue.queued, 0);
});

Deno.test("FanOutQueue: a connection opening while publishes wait gets none made before it and joins its topics after", async () => {
  const { open, drain, broadcast } = nativeQueue();
  const a = open();
  for (let i = 1; i <= 10; i++) broadcast(i);
  const late = open();
  assert.equal(late.socket.topics.size, 0);
  broadcast(11); // made after it opened: it gets this one (per connection)
  await drain();
  assert.deepEqual(ns(a.socket.sent), range(1, 11));
  assert.deepEqual(ns(late.socket.sent), [11]);
  assert.ok(late.socket.topics.has(VARIANT));
});

type Op =
  | { op: "broadcast" }
  | { op: "except"; who: number }
  | { op: "publish" }
  | { op: "send"; to: number }
  | { op: "open" }
  | { op: "close"; who: number }
  | { op: "turn" };

const ops: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.constant<Op>({ op: "broadcast" }) },
    { weight: 1, arbitrary: fc.nat(31).map((who): Op => ({ op: "except", who })) },
    { weight: 3, arbitrary: fc.constant<Op>({ op: "publish" }) },
    { weight: 2, arbitrary: fc.nat(31).map((to): Op => ({ op: "send", to })) },
    { weight: 1, arbitrary: fc.constant<Op>({ op: "open" }) },
    { weight: 1, arbitrary: fc.nat(31).map((who): Op => ({ op: "close", who })) },
    { weight: 2, arbitrary: fc.constant<Op>({ op: "turn" }) },
  ),
  { maxLength: 80 },
);

Deno.test("FanOutQueue: with publishes taking turns, every connection gets what was made while it was open, once and in order (property)", async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 20 }), ops, async (initial, script) => {
      const { open, turn, drain, broadcast, broadcastExcept, join, publish } = nativeQueue();
      const conns: { c: Connection; socket: TopicSocket; want: number[]; closed: boolean }[] = [];
      const add = () => {
        const x = open();
        if (conns.length % 2 === 0) join(x.c); // every other one is in the channel
        conns.push({ ...x, want: [], closed: false });
      };
      for (let i = 0; i < initial; i++) add();
      let next = 1;
      for (const step of script) {
        if (step.op === "broadcast") {
          const n = next++;
          broadcast(n);
          for (const x of conns) if (!x.closed) x.want.push(n);
        } else if (step.op === "except") {
          const n = next++;
          const left = conns[step.who % conns.length];
          broadcastExcept(n, left.c.id);
          for (const x of conns) if (!x.closed && x !== left) x.want.push(n);
        } else if (step.op === "publish") {
          const n = next++;
          publish(n);
          for (const [i, x] of conns.entries()) if (!x.closed && i % 2 === 0) x.want.push(n);
        } else if (step.op === "send") {
          const x = conns[step.to % conns.length];
          const n = 1000 + next++;
          x.c.send(push(n));
          if (!x.closed) x.want.push(n);
        } else if (step.op === "open") add();
        else if (step.op === "close") {
          const x = conns[step.who % conns.length];
          x.c.close(1000, "bye"); // what it was owed goes out first
          x.closed = true;
        } else await turn();
      }
      await drain();
      for (const [i, x] of conns.entries()) {
        assert.deepEqual(ns(x.socket.sent), x.want, `connection ${i}`);
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("ServerOptions.nativeTurnMs: off by default, above 0 when set", () => {
  assert.equal(resolveServerOptions({}).nativeTurnMs, Infinity);
  assert.equal(resolveServerOptions({ nativeTurnMs: 5 }).nativeTurnMs, 5);
  for (const bad of [0, -1, NaN]) {
    assert.throws(() => resolveServerOptions({ nativeTurnMs: bad }), RangeError);
  }
});

Deno.test("FanOutQueue: with nativeTurnMs off, a burst of native publishes goes out at once, one publish each", () => {
  const { queue, open, broadcast, publishes } = nativeQueue(Infinity);
  const { socket } = open();
  for (let i = 1; i <= 20; i++) broadcast(i);
  assert.deepEqual(ns(socket.sent), range(1, 20));
  assert.equal(publishes.length, 20);
  assert.equal(queue.queued, 0);
});
