import assert from "node:assert/strict";
import { type Handshake, HANDSHAKE_EVENT, QueueFullError } from "../../lib/client/types.ts";
import { ClosedError } from "../../lib/protocol/errors.ts";
import { FakeWebSocket, setup } from "./_setup.ts";

Deno.test("Client opens on the handshake and reports a first handshake", async () => {
  const h = setup();
  assert.equal(h.client.state, "connecting");
  FakeWebSocket.last.open();
  assert.equal(h.client.state, "connecting");
  FakeWebSocket.last.handshake("alice");
  assert.equal(h.client.state, "open");
  const hs = await h.client.ready;
  assert.equal(hs.uid, "alice");
  assert.equal(hs.first, true);
  assert.deepEqual(h.path(), ["connecting→open"]);
  h.client.close();
});

Deno.test("Client reconnects after an unexpected close and flags the handshake as a reconnect", () => {
  const h = setup();
  const handshakes: Handshake[] = [];
  h.client.on(HANDSHAKE_EVENT, (d) => void handshakes.push(d as Handshake));
  FakeWebSocket.last.accept();
  FakeWebSocket.last.serverClose(1006);
  assert.equal(h.client.state, "reconnecting");
  const change = h.changes.at(-1)!;
  assert.deepEqual(
    { from: change.from, to: change.to, code: change.code, retryInMs: change.retryInMs },
    { from: "open", to: "reconnecting", code: 1006, retryInMs: 1000 },
  );
  assert.match(change.reason, /close 1006/);
  assert.equal(FakeWebSocket.instances.length, 1);
  h.clock.tick(999);
  assert.equal(FakeWebSocket.instances.length, 1);
  h.clock.tick(1);
  assert.equal(FakeWebSocket.instances.length, 2);
  FakeWebSocket.last.accept();
  assert.equal(h.client.state, "open");
  assert.deepEqual(handshakes.map((x) => x.first), [true, false]);
  assert.equal(h.client.stats().reconnects, 1);
  h.client.close();
});

Deno.test("Client backs off 1, 2, 4, 8, 16, 30, 30 s while attempts keep failing", () => {
  const h = setup();
  FakeWebSocket.last.accept();
  FakeWebSocket.last.serverClose(1001);
  for (let i = 0; i < 6; i++) {
    h.clock.tick(h.changes.at(-1)!.retryInMs!);
    FakeWebSocket.last.serverClose(1006); // refused: server still down
  }
  assert.deepEqual(h.changes.slice(1).map((c) => c.retryInMs), [
    1000,
    2000,
    4000,
    8000,
    16000,
    30000,
    30000,
  ]);
  assert.deepEqual(h.changes.slice(1).map((c) => c.attempt), [1, 2, 3, 4, 5, 6, 7]);
  h.client.close();
});

Deno.test("Client jitters every reconnect delay by ±25 %", () => {
  const delays: number[] = [];
  for (let i = 0; i < 40; i++) {
    const h = setup({ reconnect: { jitter: 0.25 } });
    FakeWebSocket.last.accept();
    FakeWebSocket.last.serverClose(1006);
    delays.push(h.changes.at(-1)!.retryInMs!);
    h.client.close();
  }
  assert.ok(delays.every((d) => d >= 750 && d <= 1250), String(delays));
  assert.ok(new Set(delays).size > 20);
});

Deno.test("Client resets the attempt counter only after minUptimeMs open", () => {
  const h = setup({ reconnect: { minUptimeMs: 5000 } });
  FakeWebSocket.last.accept();
  FakeWebSocket.last.serverClose(1006); // attempt 1: 1 s
  h.clock.tick(1000);
  FakeWebSocket.last.accept();
  h.clock.tick(4999);
  FakeWebSocket.last.serverClose(1006); // up 4.999 s: attempt 2, 2 s
  assert.equal(h.changes.at(-1)!.retryInMs, 2000);
  h.clock.tick(2000);
  FakeWebSocket.last.accept();
  h.clock.tick(5000);
  FakeWebSocket.last.serverClose(1006); // up 5 s: back to 1 s
  assert.equal(h.changes.at(-1)!.retryInMs, 1000);
  assert.equal(h.changes.at(-1)!.attempt, 1);
  h.client.close();
});

Deno.test("Client goes to failed after maxAttempts and reconnect() brings it back", async () => {
  const h = setup({ reconnect: { maxAttempts: 2 } });
  FakeWebSocket.last.serverClose(1006); // the first connect fails
  assert.equal(h.client.state, "reconnecting");
  h.clock.tick(1000);
  FakeWebSocket.last.serverClose(1006);
  h.clock.tick(2000);
  FakeWebSocket.last.serverClose(1006);
  assert.equal(h.client.state, "failed");
  assert.match(h.changes.at(-1)!.reason, /2 reconnect attempts failed/);
  await assert.rejects(h.client.ready, ClosedError);
  h.clock.tick(1e6);
  assert.equal(FakeWebSocket.instances.length, 3);
  h.client.reconnect();
  assert.equal(h.client.state, "connecting");
  assert.equal(FakeWebSocket.instances.length, 4);
  FakeWebSocket.last.accept();
  assert.equal(h.client.state, "open");
  // and the counter starts again: two more attempts are allowed
  FakeWebSocket.last.serverClose(1006);
  assert.equal(h.changes.at(-1)!.retryInMs, 1000);
  h.client.close();
});

Deno.test("Client with reconnect: false fails on the first loss", () => {
  const h = setup({ reconnect: false });
  FakeWebSocket.last.accept();
  FakeWebSocket.last.serverClose(1001);
  assert.equal(h.client.state, "failed");
  h.clock.tick(1e6);
  assert.equal(FakeWebSocket.instances.length, 1);
});

for (const code of [4001, 4003, 1008, 1002, 1003, 1007, 1009]) {
  Deno.test(`Client does not reconnect after close ${code}`, () => {
    const h = setup();
    FakeWebSocket.last.accept();
    FakeWebSocket.last.serverClose(code, "nope");
    assert.equal(h.client.state, "failed");
    assert.deepEqual(h.changes.at(-1), {
      from: "open",
      to: "failed",
      reason: `close ${code} nope`,
      code,
    });
    h.clock.tick(1e6);
    assert.equal(FakeWebSocket.instances.length, 1);
    assert.throws(() => h.client.send("a/b"), ClosedError);
  });
}

for (const code of [1000, 1001, 1005, 1006, 1011, 1012, 1013, 4008, 4500]) {
  Deno.test(`Client reconnects after close ${code}`, () => {
    const h = setup();
    FakeWebSocket.last.accept();
    FakeWebSocket.last.serverClose(code);
    assert.equal(h.client.state, "reconnecting");
    h.clock.tick(1000);
    assert.equal(FakeWebSocket.instances.length, 2);
    h.client.close();
  });
}

Deno.test("Client waits at least half the cap after close 4029 rate limited", () => {
  const h = setup({ reconnect: { jitter: 0.25 } });
  FakeWebSocket.last.accept();
  FakeWebSocket.last.serverClose(4029);
  assert.equal(h.client.state, "reconnecting");
  assert.ok(h.changes.at(-1)!.retryInMs! >= 15000);
  h.client.close();
});

Deno.test("Client fails when the server refuses during connecting with a terminal code", async () => {
  const h = setup();
  FakeWebSocket.last.open().serverClose(4001, "bad token");
  assert.equal(h.client.state, "failed");
  await assert.rejects(h.client.ready, /bad token/);
});

Deno.test("Client retries when the server closes during connecting", () => {
  const h = setup();
  FakeWebSocket.last.open().serverClose(1011);
  assert.deepEqual(h.path(), ["connecting→reconnecting"]);
  h.clock.tick(1000);
  FakeWebSocket.last.accept();
  assert.equal(h.client.state, "open");
  h.client.close();
});

Deno.test("Client abandons an attempt without a handshake after connectTimeoutMs", () => {
  const h = setup({ connectTimeoutMs: 3000 });
  FakeWebSocket.last.open(); // accepts TCP, never answers
  h.clock.tick(2999);
  assert.equal(h.client.state, "connecting");
  h.clock.tick(1);
  assert.equal(h.client.state, "reconnecting");
  assert.match(h.changes.at(-1)!.reason, /no handshake within 3000 ms/);
  assert.equal(FakeWebSocket.instances[0].closedWith?.code, 4008);
  h.client.close();
});

Deno.test("Client pings when idle and reconnects when the peer stops answering", () => {
  const h = setup({ heartbeat: { intervalMs: 35000, timeoutMs: 50000 } });
  const ws = FakeWebSocket.last.accept();
  h.clock.tick(34999);
  assert.equal(ws.sentEvents("chsk/ws-ping").length, 0);
  h.clock.tick(1);
  const pings = ws.sentEvents("chsk/ws-ping");
  assert.equal(pings.length, 1);
  assert.equal(typeof pings[0][1], "string"); // a request: the server answers "pong"
  h.clock.tick(14999);
  assert.equal(h.client.state, "open");
  h.clock.tick(1);
  assert.equal(h.client.state, "reconnecting");
  assert.match(h.changes.at(-1)!.reason, /heartbeat/);
  assert.deepEqual(ws.closedWith, { code: 4008, reason: "heartbeat timeout" });
  h.client.close();
});

Deno.test("Client counts any frame as liveness and answers server pings", () => {
  const h = setup({ heartbeat: { intervalMs: 35000, timeoutMs: 50000 } });
  const ws = FakeWebSocket.last.accept();
  for (let i = 0; i < 10; i++) {
    h.clock.tick(30000);
    ws.serverSend(["chsk/ws-ping", null]);
  }
  assert.equal(h.client.state, "open");
  assert.equal(ws.sentEvents("chsk/ws-ping").length, 0);
  assert.equal(ws.sentEvents("chsk/ws-pong").length, 10);
  // the pong reply to our own ping is not a late reply
  h.clock.tick(35000);
  ws.reply("chsk/ws-ping", "pong");
  assert.equal(h.client.stats().lateReplies, 0);
  h.clock.tick(49999);
  assert.equal(h.client.state, "open");
  h.client.close();
});

Deno.test("Client.close() goes through closing to closed and stops everything", async () => {
  const h = setup();
  const ws = FakeWebSocket.last.accept();
  const pending = h.client.request("a/b");
  h.client.close(1000, "bye");
  assert.equal(h.client.state, "closing");
  assert.deepEqual(ws.closedWith, { code: 1000, reason: "bye" });
  await assert.rejects(pending, ClosedError);
  ws.serverClose(1000);
  assert.deepEqual(h.path(), ["connecting→open", "open→closing", "closing→closed"]);
  h.clock.tick(1e6);
  assert.equal(FakeWebSocket.instances.length, 1);
  assert.equal(h.clock.pending, 0);
});

Deno.test("Client.close() rejects close codes a client may not send with RangeError", () => {
  const h = setup();
  assert.throws(() => h.client.close(1006), RangeError);
  assert.throws(() => h.client.close(5000), RangeError);
  assert.equal(h.client.state, "connecting");
  h.client.close(4000, "done");
  assert.equal(h.client.state, "closed");
});

Deno.test("Client.close() counts the socket closed when the server never answers", () => {
  const h = setup();
  FakeWebSocket.last.accept();
  h.client.close();
  h.clock.tick(2000);
  assert.equal(h.client.state, "closed");
  assert.equal(h.clock.pending, 0);
});

Deno.test("Client.close() while reconnecting cancels the pending attempt", () => {
  const h = setup();
  FakeWebSocket.last.accept();
  FakeWebSocket.last.serverClose(1006);
  h.client.close();
  assert.equal(h.client.state, "closed");
  h.clock.tick(1e6);
  assert.equal(FakeWebSocket.instances.length, 1);
  assert.equal(h.clock.pending, 0);
});

Deno.test("Client.close() during connecting drops the socket in flight", async () => {
  const h = setup();
  const ws = FakeWebSocket.last;
  h.client.close();
  assert.equal(h.client.state, "closed");
  await assert.rejects(h.client.ready, ClosedError);
  ws.open(); // late events of the abandoned socket go nowhere
  ws.handshake();
  ws.serverClose(1006);
  assert.equal(h.client.state, "closed");
  assert.equal(h.clock.pending, 0);
});

Deno.test("Client.reconnect() from open replaces the socket and ignores the old one's close", () => {
  const h = setup();
  const old = FakeWebSocket.last.accept();
  h.client.reconnect();
  assert.equal(h.client.state, "reconnecting");
  assert.equal(FakeWebSocket.instances.length, 2);
  assert.equal(old.closedWith?.code, 1000);
  old.serverClose(1006);
  assert.equal(h.client.state, "reconnecting");
  FakeWebSocket.last.accept();
  assert.equal(h.client.state, "open");
  h.client.close();
});

Deno.test("Client.reconnect() while closing starts over as connecting", () => {
  const h = setup();
  FakeWebSocket.last.accept();
  h.client.close();
  h.client.reconnect();
  assert.equal(h.client.state, "connecting");
  FakeWebSocket.instances[0].serverClose(1000); // the old close arrives late
  assert.equal(h.client.state, "connecting");
  FakeWebSocket.last.accept();
  assert.equal(h.client.state, "open");
  h.client.close();
});

Deno.test("Client.reconnect() while reconnecting skips the backoff wait", () => {
  const h = setup();
  FakeWebSocket.last.accept();
  FakeWebSocket.last.serverClose(1006);
  h.clock.tick(1000);
  FakeWebSocket.last.serverClose(1006); // now waiting 2 s
  h.client.reconnect();
  assert.equal(FakeWebSocket.instances.length, 3);
  FakeWebSocket.last.serverClose(1006);
  assert.equal(h.changes.at(-1)!.retryInMs, 1000); // counter reset
  h.client.close();
});

Deno.test("Client calls the URL provider again on every attempt", async () => {
  let calls = 0;
  const h = setup({}, () => Promise.resolve(`ws://h.test/chsk?token=t${++calls}`));
  await Promise.resolve();
  await Promise.resolve();
  FakeWebSocket.last.accept();
  FakeWebSocket.last.serverClose(1006);
  h.clock.tick(1000);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(calls, 2);
  assert.match(FakeWebSocket.last.url, /token=t2/);
  h.client.close();
});

Deno.test("Client retries with backoff when the URL provider throws", async () => {
  let calls = 0;
  const h = setup({}, () => {
    if (++calls === 1) throw new Error("token service down");
    return "ws://h.test/chsk";
  });
  assert.equal(h.client.state, "reconnecting");
  h.clock.tick(1000);
  await Promise.resolve();
  FakeWebSocket.last.accept();
  assert.equal(h.client.state, "open");
  h.client.close();
});

Deno.test("Client rejects a bad static URL at once with TypeError", () => {
  assert.throws(() => setup({}, "not a url"), TypeError);
  assert.throws(() => setup({}, "ftp://h.test/"), TypeError);
});

Deno.test("Client reconnects at once when the browser comes back online", () => {
  const h = setup();
  FakeWebSocket.last.accept();
  FakeWebSocket.last.serverClose(1006);
  h.clock.tick(500);
  globalThis.dispatchEvent(new Event("online"));
  assert.equal(FakeWebSocket.instances.length, 2);
  FakeWebSocket.last.accept();
  h.client.close();
  globalThis.dispatchEvent(new Event("online")); // listener removed
  assert.equal(FakeWebSocket.instances.length, 2);
});

Deno.test("Client reconnects at once when the page becomes visible", () => {
  const doc = Object.assign(new EventTarget(), { visibilityState: "hidden" });
  const g = globalThis as { document?: unknown };
  g.document = doc;
  try {
    const h = setup();
    FakeWebSocket.last.accept();
    FakeWebSocket.last.serverClose(1006);
    doc.dispatchEvent(new Event("visibilitychange")); // still hidden: wait for the backoff
    assert.equal(FakeWebSocket.instances.length, 1);
    doc.visibilityState = "visible";
    doc.dispatchEvent(new Event("visibilitychange"));
    assert.equal(FakeWebSocket.instances.length, 2);
    FakeWebSocket.last.accept();
    h.client.close();
    doc.dispatchEvent(new Event("visibilitychange")); // listener removed
    assert.equal(FakeWebSocket.instances.length, 2);
  } finally {
    delete g.document;
  }
});

Deno.test("Client probes an open connection when woken and reconnects if it is dead", () => {
  const h = setup();
  const ws = FakeWebSocket.last.accept();
  globalThis.dispatchEvent(new Event("online"));
  assert.equal(ws.sentEvents("chsk/ws-ping").length, 1);
  h.clock.tick(15000);
  assert.equal(h.client.state, "reconnecting");
  h.client.close();
});

Deno.test("Client.send() queues while reconnecting and flushes in order after the handshake", () => {
  const h = setup();
  FakeWebSocket.last.accept();
  assert.equal(h.client.send("a/one", 1), "sent");
  FakeWebSocket.last.serverClose(1006);
  assert.equal(h.client.send("a/two", 2), "queued");
  assert.equal(h.client.send("a/three", 3), "queued");
  h.clock.tick(1000);
  FakeWebSocket.last.accept();
  assert.deepEqual(FakeWebSocket.last.sentValues(), [[["a/two", 2], null], [["a/three", 3], null]]);
  h.client.close();
});

Deno.test("Client.send() throws QueueFullError past maxQueuedMessages", () => {
  const h = setup({ maxQueuedMessages: 2 });
  h.client.send("a/b");
  h.client.send("a/b");
  assert.throws(() => h.client.send("a/b"), QueueFullError);
  h.client.close();
  assert.throws(() => h.client.send("a/b"), ClosedError);
});

Deno.test("Client.send() throws ClosedError while not open when queueing is off", () => {
  const h = setup({ maxQueuedMessages: 0 });
  assert.throws(() => h.client.send("a/b"), ClosedError);
  h.client.close();
});

Deno.test("Client rejects requests in flight at a drop with ClosedError", async () => {
  const h = setup();
  FakeWebSocket.last.accept();
  const p = h.client.request("a/b", 1);
  FakeWebSocket.last.serverClose(1006);
  await assert.rejects(p, (e) => e instanceof ClosedError && /connection lost/.test(e.message));
  h.client.close();
});

Deno.test("Client re-sends requests that opted into retry after the reconnect", async () => {
  const h = setup();
  FakeWebSocket.last.accept();
  const p = h.client.request("a/b", 1, { retry: true });
  const queued = h.client.request("a/c", 2); // sent on the new socket only
  FakeWebSocket.last.serverClose(1006);
  const q2 = h.client.request("a/d", 3); // queued while reconnecting
  h.clock.tick(1000);
  const ws = FakeWebSocket.last.accept();
  assert.deepEqual(ws.sentValues().map((v) => (v as [[string]])[0][0]), ["a/b", "a/d"]);
  ws.reply("a/b", "ok");
  ws.reply("a/d", "ok3");
  assert.equal(await p, "ok");
  assert.equal(await q2, "ok3");
  await assert.rejects(queued, ClosedError);
  h.client.close();
});

Deno.test("Client with retryRequests re-sends every request in flight", async () => {
  const h = setup({ retryRequests: true });
  FakeWebSocket.last.accept();
  const p = h.client.request("a/b", 1);
  FakeWebSocket.last.serverClose(1012);
  h.clock.tick(1000);
  FakeWebSocket.last.accept().reply("a/b", 42);
  assert.equal(await p, 42);
  h.client.close();
});

Deno.test("Client drops a queued request that timed out instead of sending it later", async () => {
  const h = setup({ requestTimeoutMs: 500 });
  const p = h.client.request("a/b");
  h.clock.tick(500);
  await assert.rejects(p, /no reply/);
  FakeWebSocket.last.accept();
  assert.deepEqual(FakeWebSocket.last.sent, []);
  h.client.close();
});

Deno.test("Client re-subscribes its channels after each reconnect", async () => {
  const h = setup();
  let ws = FakeWebSocket.last.accept();
  const got: unknown[] = [];
  const sub = h.client.subscribe("room", (d) => void got.push(d));
  ws.reply("sente-lite/subscribe", { "channel-id": "room", success: true });
  await sub;
  ws.serverClose(1006);
  h.clock.tick(1000);
  ws = FakeWebSocket.last.accept();
  const resub = ws.sentEvents("sente-lite/subscribe");
  assert.equal(resub.length, 1);
  assert.deepEqual(resub[0][0], ["sente-lite/subscribe", { "channel-id": "room" }]);
  ws.reply("sente-lite/subscribe", { "channel-id": "room", success: true });
  ws.serverSend([
    [["sente-lite/channel-msg", { "channel-id": "room", data: "hi", from: null }]],
    null,
  ]);
  assert.deepEqual(got, ["hi"]);
  assert.deepEqual(h.client.channels(), ["room"]);
  h.client.close();
});

Deno.test("Client reports a channel the server refuses on re-subscribe", async () => {
  const h = setup();
  let ws = FakeWebSocket.last.accept();
  const sub = h.client.subscribe("room", () => {});
  ws.reply("sente-lite/subscribe", { "channel-id": "room", success: true });
  await sub;
  const failures: unknown[] = [];
  h.client.on("chsk/resubscribe-failed", (d) => void failures.push(d));
  ws.serverClose(1006);
  h.clock.tick(1000);
  ws = FakeWebSocket.last.accept();
  ws.reply("sente-lite/subscribe", { "channel-id": "room", success: false, error: "forbidden" });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(failures.length, 1);
  assert.equal((failures[0] as { channel: string }).channel, "room");
  assert.deepEqual(h.client.channels(), []);
  assert.equal(h.errors.length, 1);
  h.client.close();
});

Deno.test("Client keeps a subscribe in flight across a drop", async () => {
  const h = setup();
  FakeWebSocket.last.accept();
  const sub = h.client.subscribe("room", () => {});
  FakeWebSocket.last.serverClose(1006);
  h.clock.tick(1000);
  const ws = FakeWebSocket.last.accept();
  assert.equal(ws.sentEvents("sente-lite/subscribe").length, 1);
  ws.reply("sente-lite/subscribe", { "channel-id": "room", success: true });
  await sub;
  assert.deepEqual(h.client.channels(), ["room"]);
  h.client.close();
});

Deno.test("Client lets close() inside a state handler finish the current transition first", () => {
  const h = setup();
  h.client.on("chsk/state", (c) => {
    if ((c as { to: string }).to === "reconnecting") h.client.close();
  });
  FakeWebSocket.last.accept();
  FakeWebSocket.last.serverClose(1006);
  assert.equal(h.client.state, "closed");
  assert.deepEqual(h.path(), ["connecting→open", "open→reconnecting", "reconnecting→closed"]);
  assert.equal(h.clock.pending, 0);
});
