/**
 * The backplane contract, written once and run on every implementation (local_test.ts,
 * redis_test.ts): two nodes of one cluster, topics, presence, the durable store.
 */
import { strict as assert } from "node:assert";
import type { Backplane, PresenceChange } from "../../lib/backplane/backplane.ts";
import type { StoreOptions } from "../../lib/backplane/store_options.ts";
import { waitFor, withTimeout } from "../_util.ts";

/** Two (or more) nodes of one fresh cluster. */
export interface Cluster extends AsyncDisposable {
  readonly nodes: Backplane[];
}

/** Makes a fresh cluster of `n` nodes whose store has these bounds. */
export type MakeCluster = (n: number, store?: StoreOptions) => Promise<Cluster>;

/** An async queue of what a handler received, to wait on. */
function inbox<T>(): { push: (v: T) => void; next: (what: string) => Promise<T>; items: T[] } {
  const items: T[] = [];
  const waiters: ((v: T) => void)[] = [];
  let read = 0;
  return {
    items,
    push(v) {
      items.push(v);
      waiters.shift()?.(v);
    },
    next(what) {
      if (read < items.length) return Promise.resolve(items[read++]);
      return withTimeout(
        new Promise<T>((r) => waiters.push((v) => (read++, r(v)))),
        10_000,
        what,
      );
    },
  };
}

const at = (node: Backplane, connId: string) => ({ nodeId: node.nodeId, connId });

/** Registers the contract tests for one implementation. */
export function backplaneContract(name: string, make: MakeCluster, ignore = false): void {
  const test = (title: string, fn: () => Promise<void>) =>
    Deno.test({ name: `${name}: ${title}`, ignore, fn });

  test("a topic reaches the other nodes in order, not the publisher", async () => {
    await using c = await make(3);
    const [a, b, d] = c.nodes;
    const atB = inbox<[string, string]>();
    const atD = inbox<[string, string]>();
    const atA: string[] = [];
    await b.subscribe("c:room", (p, from) => atB.push([p, from]));
    await d.subscribe("c:room", (p, from) => atD.push([p, from]));
    await a.subscribe("c:room", (p) => atA.push(p));
    for (let i = 1; i <= 3; i++) assert.equal(a.publish("c:room", `{"n":${i}}`), true);
    for (const box of [atB, atD]) {
      for (let i = 1; i <= 3; i++) {
        assert.deepEqual(await box.next(`message ${i}`), [`{"n":${i}}`, a.nodeId]);
      }
    }
    // A message b publishes after a's arrived at a: a's own three never came back to it.
    const echo = inbox<string>();
    await a.subscribe("c:echo", (p) => echo.push(p));
    b.publish("c:echo", "done");
    assert.equal(await echo.next("b's message at a"), "done");
    assert.deepEqual(atA, []);
  });

  test("unsubscribe stops delivery; other handlers of the topic keep theirs", async () => {
    await using c = await make(2);
    const [a, b] = c.nodes;
    const first: string[] = [];
    const second = inbox<string>();
    const stop = await b.subscribe("u:x", (p) => first.push(p));
    await b.subscribe("u:x", (p) => second.push(p));
    a.publish("u:x", "1");
    assert.equal(await second.next("1"), "1");
    stop();
    a.publish("u:x", "2");
    assert.equal(await second.next("2"), "2");
    assert.deepEqual(first, ["1"]);
    assert.ok(b.stats().received >= 3);
  });

  test("presence is cluster-wide: open once, close at the last connection anywhere", async () => {
    await using c = await make(2);
    const [a, b] = c.nodes;
    const seenAtB = inbox<PresenceChange>();
    b.presence.watch((ch) => seenAtB.push(ch));
    assert.equal(a.presence.add("alice"), true);
    assert.equal(a.presence.add("alice"), false);
    assert.deepEqual(await seenAtB.next("alice online at b"), { uid: "alice", online: true });
    assert.equal(b.presence.has("alice"), true);
    assert.deepEqual([...b.presence.nodesOf("alice")], [a.nodeId]);
    // A second node holding alice: no new open anywhere.
    assert.equal(b.presence.add("alice"), true);
    assert.equal(a.presence.remove("alice"), false);
    assert.equal(a.presence.remove("alice"), true);
    await waitFor(
      () => b.presence.nodesOf("alice").size === 1 ? true : undefined,
      "a's release of alice at b",
    );
    assert.equal(b.presence.has("alice"), true);
    assert.equal(b.presence.remove("alice"), true);
    assert.deepEqual(await seenAtB.next("alice offline"), { uid: "alice", online: false });
    assert.deepEqual(seenAtB.items.length, 2);
    assert.ok(a.presence.nodes().has(b.nodeId) || a.presence.nodes().size >= 1);
  });

  test("close() releases the node's uids at the others", async () => {
    await using c = await make(2);
    const [a, b] = c.nodes;
    const seenAtB = inbox<PresenceChange>();
    b.presence.watch((ch) => seenAtB.push(ch));
    a.presence.add("bob");
    assert.deepEqual(await seenAtB.next("bob online"), { uid: "bob", online: true });
    await a.close();
    // Gone with its node (no connection closed): the change names the node (on Redis a reload
    // of the node's set racing its close may see the set emptied first: no name then).
    const off = await seenAtB.next("bob offline");
    assert.deepEqual({ uid: off.uid, online: off.online }, { uid: "bob", online: false });
    if (name === "local" || off.node !== undefined) assert.equal(off.node, a.nodeId);
    assert.equal(a.link.state, "closed");
    assert.equal(a.publish("b", "x"), false);
  });

  test("a session made on one node resumes on another, in order, from any seq", async () => {
    await using c = await make(2);
    const [a, b] = c.nodes;
    const s = await a.store.create("alice", "tab", at(a, "c1"));
    assert.equal(s.outSeq, 0);
    for (let i = 1; i <= 3; i++) {
      assert.equal(await a.store.append("alice", s.sessionId, `m${i}`), i);
    }
    const opened = await b.store.open("alice", "tab", s.token, at(b, "c2"));
    assert.equal(opened.status, "opened");
    if (opened.status !== "opened") return;
    assert.equal(opened.session.outSeq, 3);
    assert.deepEqual(opened.superseded, at(a, "c1"));
    assert.notEqual(opened.session.token, s.token);
    const r = await b.store.replay("alice", s.sessionId, 1);
    assert.deepEqual(r, {
      messages: [{ seq: 2, payload: "m2" }, { seq: 3, payload: "m3" }],
      dropped: 0,
      outSeq: 3,
    });
    await b.store.ack("alice", s.sessionId, 2);
    const after = await a.store.replay("alice", s.sessionId, 2);
    assert.deepEqual(after.messages, [{ seq: 3, payload: "m3" }]);
    // Detaching the old attachment does not detach the new one.
    await a.store.detach("alice", s.sessionId, at(a, "c1"));
    assert.equal(await b.store.append("alice", s.sessionId, "m4"), 4);
  });

  test("tokens: wrong secret or client id rejected and harmless; previous token once", async () => {
    await using c = await make(2);
    const [a, b] = c.nodes;
    const s = await a.store.create("alice", "tab", at(a, "c1"));
    const forged = s.token.slice(0, 16) + "0".repeat(32);
    assert.deepEqual(await b.store.open("alice", "tab", forged, at(b, "x")), {
      status: "rejected",
    });
    assert.deepEqual(await b.store.open("alice", "evil", s.token, at(b, "x")), {
      status: "rejected",
    });
    assert.deepEqual(await b.store.open("mallory", "tab", s.token, at(b, "x")), {
      status: "unknown",
    });
    assert.deepEqual(await b.store.open("alice", "tab", "not-a-token", at(b, "x")), {
      status: "unknown",
    });
    const first = await b.store.open("alice", "tab", s.token, at(b, "c2"));
    assert.equal(first.status, "opened");
    if (first.status !== "opened") return;
    // The client may have lost the handshake with the new token: the presented one works again.
    const again = await a.store.open("alice", "tab", s.token, at(a, "c3"));
    assert.equal(again.status, "opened");
    // …but the token that `first` issued is now two rotations old.
    assert.equal(
      (await a.store.open("alice", "tab", first.session.token, at(a, "c4"))).status,
      "rejected",
    );
  });

  test("the dedup high-water mark only rises and survives a node change", async () => {
    await using c = await make(2);
    const [a, b] = c.nodes;
    const s = await a.store.create("u", "t", at(a, "c1"));
    assert.equal(await a.store.markInbound("u", s.sessionId, 5), 5);
    assert.equal(await a.store.markInbound("u", s.sessionId, 3), 5);
    const opened = await b.store.open("u", "t", s.token, at(b, "c2"));
    assert.equal(opened.status === "opened" && opened.session.inAck, 5);
  });

  test("a session keeps a bounded number of messages; the rest is an exact gap", async () => {
    await using c = await make(2, { maxMessages: 10 });
    const [a, b] = c.nodes;
    const s = await a.store.create("u", "t", at(a, "c1"));
    const total = 250;
    // One writer appends in order (the Hub chains a connection's pushes); concurrent appends
    // get their seqs in the order they reach the store, not the order they were called.
    for (let i = 1; i <= total; i++) await a.store.append("u", s.sessionId, `m${i}`);
    const r = await b.store.replay("u", s.sessionId, 0);
    assert.equal(r.outSeq, total);
    assert.equal(r.dropped + r.messages.length, total);
    // Exact in memory; Redis trims whole stream nodes (≤ 100 entries more).
    assert.ok(r.messages.length >= 10 && r.messages.length <= 110, `${r.messages.length} kept`);
    r.messages.forEach((m, i) => assert.equal(m.seq, r.dropped + i + 1));
    assert.equal(r.messages.at(-1)?.payload, `m${total}`);
  });

  test("detached sessions and offline buffers expire after ttlMs; attached ones stay", async () => {
    await using c = await make(2, { ttlMs: 300 });
    const [a, b] = c.nodes;
    const kept = await a.store.create("u", "kept", at(a, "c1"));
    const gone = await a.store.create("u", "gone", at(a, "c2"));
    await a.store.detach("u", gone.sessionId, at(a, "c2"));
    await b.store.hold("v", "old", true);
    // Probed with append (0 = no such session): opening it would attach it again.
    await waitFor(
      async () => (await b.store.append("u", gone.sessionId, "probe")) === 0 ? true : undefined,
      "the detached session to expire",
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    assert.equal((await b.store.open("u", "gone", gone.token, at(b, "x"))).status, "unknown");
    const stay = await b.store.open("u", "kept", kept.token, at(b, "c3"));
    assert.equal(stay.status, "opened");
    const drained = await a.store.drain("v");
    assert.deepEqual(drained.messages, []);
    assert.equal(drained.expired, 1);
  });

  test("a detached session keeps its channels' messages; the next connection gets them", async () => {
    await using c = await make(2);
    const [a, b] = c.nodes;
    const s = await a.store.create("u", "t", at(a, "c1"));
    await a.store.append("u", s.sessionId, "before");
    await a.store.detach("u", s.sessionId, at(a, "c1"), ["room", "lobby"]);
    assert.equal(await b.store.holdChannel("room", "r1"), 1);
    assert.equal(await b.store.holdChannel("elsewhere", "x"), 0);
    assert.equal(await a.store.holdChannel("lobby", "l1"), 1);
    const opened = await b.store.open("u", "t", s.token, at(b, "c2"));
    assert.equal(opened.status, "opened");
    if (opened.status !== "opened") return;
    assert.deepEqual([...opened.session.channels].sort(), ["lobby", "room"]);
    assert.deepEqual((await b.store.replay("u", s.sessionId, 0)).messages, [
      { seq: 1, payload: "before" },
      { seq: 2, payload: "r1" },
      { seq: 3, payload: "l1" },
    ]);
    // Attached again: its connection gets channel messages through the topic, not the store.
    assert.equal(await a.store.holdChannel("room", "r2"), 0);
    await b.store.detach("u", s.sessionId, at(b, "c2"));
    assert.equal(await a.store.holdChannel("room", "r3"), 0);
    assert.equal((await b.store.replay("u", s.sessionId, 0)).outSeq, 3);
  });

  test("evict drops a session only while the connection that parked it still has it parked", async () => {
    await using c = await make(2);
    const [a, b] = c.nodes;
    const s = await a.store.create("u", "t", at(a, "c1"));
    await a.store.append("u", s.sessionId, "m1");
    assert.equal(await a.store.evict!("u", s.sessionId, at(a, "c1")), null, "attached: kept");
    assert.equal(await a.store.detach("u", s.sessionId, at(a, "c1"), ["room"]), true);
    assert.equal(await a.store.detach("u", s.sessionId, at(a, "c1")), false, "detached once");
    // Resumed elsewhere, then parked by that connection: the first parker's eviction keeps it.
    const opened = await b.store.open("u", "t", s.token, at(b, "c2"));
    assert.equal(opened.status, "opened");
    assert.equal(await a.store.evict!("u", s.sessionId, at(a, "c1")), null, "resumed: kept");
    assert.equal(await b.store.detach("u", s.sessionId, at(b, "c2"), ["room"]), true);
    assert.equal(await a.store.evict!("u", s.sessionId, at(a, "c1")), null, "re-parked: kept");
    assert.equal(await b.store.evict!("u", s.sessionId, at(b, "c2")), 1, "one message dropped");
    const token = opened.status === "opened" ? opened.session.token : s.token;
    assert.equal((await a.store.open("u", "t", token, at(a, "c3"))).status, "unknown");
    assert.equal(await a.store.holdChannel("room", "r1"), 0, "no longer keeps its channel");
    assert.equal(await a.store.evict!("u", s.sessionId, at(b, "c2")), null, "gone");
  });

  test("hold: detached sessions get the message numbered, else the offline buffer", async () => {
    await using c = await make(2, { maxMessages: 10 });
    const [a, b] = c.nodes;
    assert.deepEqual(await a.store.hold("nobody", "x", false), { sessions: 0, buffered: false });
    for (let i = 1; i <= 15; i++) {
      assert.deepEqual(await a.store.hold("off", `o${i}`, true), { sessions: 0, buffered: true });
    }
    const d = await b.store.drain("off");
    assert.deepEqual(d.messages, Array.from({ length: 10 }, (_, i) => `o${i + 6}`));
    assert.deepEqual([d.overflow, d.expired], [5, 0]);
    assert.deepEqual(await a.store.drain("off"), { messages: [], overflow: 0, expired: 0 });

    const attached = await a.store.create("u", "t1", at(a, "c1"));
    const away = await a.store.create("u", "t2", at(a, "c2"));
    await a.store.detach("u", away.sessionId, at(a, "c2"));
    assert.deepEqual(await b.store.hold("u", "while-away", true), { sessions: 1, buffered: false });
    const r = await b.store.replay("u", away.sessionId, 0);
    assert.deepEqual(r.messages, [{ seq: 1, payload: "while-away" }]);
    assert.equal((await b.store.replay("u", attached.sessionId, 0)).outSeq, 0);
    await b.store.end("u", away.sessionId);
    assert.deepEqual(await b.store.hold("u", "later", false), { sessions: 0, buffered: false });
  });

  test("store-first: hold/holdChannel with attached number attached sessions; channels kept open", async () => {
    await using c = await make(2);
    const [a, b] = c.nodes;
    const s = await a.store.create("u", "t", at(a, "c1"));
    assert.deepEqual(await b.store.hold("u", "m1", true, { attached: true }), {
      sessions: 1,
      buffered: false,
    });
    await a.store.keepChannel("u", s.sessionId, "room", true);
    assert.equal(await b.store.holdChannel("room", "r1"), 0); // attached: not without the option
    assert.equal(await b.store.holdChannel("room", "r2", { attached: true }), 1);
    const r = await b.store.replay("u", s.sessionId, 0);
    assert.deepEqual(r.messages.map((m) => m.payload), ["m1", "r2"]);
    // The node dies without detaching; another opens the session and keeps its channel set, so
    // a publish during the open is still numbered into it.
    const opened = await b.store.open("u", "t", s.token, at(b, "c2"), { keepChannels: true });
    assert.equal(opened.status, "opened");
    if (opened.status !== "opened") return;
    assert.deepEqual(opened.session.channels, ["room"]);
    assert.deepEqual(opened.superseded, at(a, "c1"));
    assert.equal(await a.store.holdChannel("room", "r3", { attached: true }), 1);
    await b.store.keepChannel("u", s.sessionId, "room", false);
    assert.equal(await a.store.holdChannel("room", "r4", { attached: true }), 0);
    const after = await b.store.replay("u", s.sessionId, 2);
    assert.deepEqual(after.messages, [{ seq: 3, payload: "r3" }]);
  });

  test("channel streams keep at most maxChannelBytes of payload, oldest first, never the newest", async () => {
    await using c = await make(1, { maxChannelBytes: 1000 });
    const [a] = c.nodes;
    const first = await a.store.appendChannel("big", "x".repeat(300));
    for (let i = 2; i <= 10; i++) await a.store.appendChannel("big", `${i}`.padEnd(300, "x"));
    const r = await a.store.channelSince("big", first - 1);
    assert.deepEqual(r.messages.map((m) => m.seq - first + 1), [8, 9, 10]);
    assert.deepEqual([r.dropped, r.reason], [7, "overflow"]);
    // One message over the bound is kept alone (the newest is never trimmed), then replaced.
    await a.store.appendChannel("big", "y".repeat(5000));
    assert.equal((await a.store.channelSince("big", first - 1)).messages.length, 1);
    await a.store.appendChannel("big", "z");
    const last = await a.store.channelSince("big", first - 1);
    assert.deepEqual(last.messages.map((m) => m.payload), ["z"]);
    assert.equal(last.dropped, 11);
  });

  test("channel streams with held: numbered only while a session with channel sequences holds them", async () => {
    await using c = await make(2);
    const [a, b] = c.nodes;
    const held = { held: true };
    assert.equal(await a.store.appendChannel("room", "nobody", held), 0, "no holder: not stored");
    assert.equal((await b.store.channelSince("room", null)).current, 0, "no stream made");
    // A session subscribing on b reads the stream as its holder: a's publishes are numbered.
    const s = await b.store.create("u", "t", at(b, "c1"));
    await b.store.keepChannel("u", s.sessionId, "room", true, { indexed: false });
    const holder = { uid: "u", sessionId: s.sessionId };
    assert.equal((await b.store.channelSince("room", null, holder)).current, 0);
    const first = await a.store.appendChannel("room", "r1", held);
    assert.ok(first > 0, "held: numbered");
    // Parked keeping the channel: still held, replayed from its cursor when it comes back.
    await b.store.detach("u", s.sessionId, at(b, "c1"), ["room"], { indexed: false });
    assert.equal(await a.store.appendChannel("room", "r2", held), first + 1);
    const opened = await a.store.open("u", "t", s.token, at(a, "c2"), {
      keepChannels: true,
      holdStreams: true,
    });
    assert.equal(opened.status, "opened");
    assert.deepEqual(
      (await a.store.channelSince("room", first, holder)).messages.map((m) => m.payload),
      ["r2"],
    );
    // Leaving the channel lets go: nothing more is stored.
    await a.store.keepChannel("u", s.sessionId, "room", false);
    assert.equal(await b.store.appendChannel("room", "r3", held), 0);
    // Without held (broadcasts) it is numbered whoever holds it.
    assert.equal(await b.store.appendChannel("room", "r4"), first + 2);
  });

  test("channel streams: numbered once for the cluster, replayed after a cursor, gaps counted", async () => {
    await using c = await make(2, { maxMessages: 10 });
    const [a, b] = c.nodes;
    assert.deepEqual(await a.store.channelSince("room", null), {
      messages: [],
      dropped: 0,
      reason: null,
      current: 0,
    });
    const first = await a.store.appendChannel("room", "r1");
    assert.ok(first > 1_000_000_000_000_000, `numbers start above ms × 1000: ${first}`);
    assert.equal(await b.store.appendChannel("room", "r2"), first + 1);
    const r = await b.store.channelSince("room", first);
    assert.deepEqual(r, {
      messages: [{ seq: first + 1, payload: "r2" }],
      dropped: 0,
      reason: null,
      current: first + 1,
    });
    assert.equal((await a.store.channelSince("room", null)).current, first + 1);
    for (let i = 3; i <= 250; i++) await a.store.appendChannel("room", `r${i}`);
    const old = await b.store.channelSince("room", first);
    assert.equal(old.reason, "overflow");
    assert.equal(old.dropped! + old.messages.length, 249);
    assert.equal(old.messages.at(-1)?.payload, "r250");
    // A cursor of a later stream (another incarnation) is unknown.
    const future = await b.store.channelSince("room", first + 10_000);
    assert.deepEqual([future.dropped, future.reason], [null, "unknown"]);
    // Sessions kept without the index are not numbered by holdChannel.
    const s = await a.store.create("u", "t", at(a, "c1"));
    await a.store.keepChannel("u", s.sessionId, "room", true, { indexed: false });
    assert.equal(await b.store.holdChannel("room", "x", { attached: true }), 0);
    await a.store.detach("u", s.sessionId, at(a, "c1"), ["room"], { indexed: false });
    assert.equal(await b.store.holdChannel("room", "y"), 0);
    const opened = await b.store.open("u", "t", s.token, at(b, "c2"));
    assert.ok(opened.status === "opened" && opened.session.channels.includes("room"));
  });
}
