import assert from "node:assert/strict";
import { Hub, type PendingUpgrade } from "../../lib/server/hub.ts";
import {
  HEARTBEAT_DEFAULTS,
  HeartbeatScheduler,
  resolveHeartbeatOptions,
} from "../../lib/server/heartbeat.ts";
import type { ServerOptions } from "../../lib/server/options.ts";
import type { ConnectionSink, ServerSocket } from "../../lib/server/socket.ts";
import { ClosedError } from "../../lib/protocol/errors.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

class FakeSocket implements ServerSocket {
  sent: string[] = [];
  closed: { code?: number; reason?: string } | null = null;
  bufferedAmount = 0;
  send(frame: string | Uint8Array): void {
    this.sent.push(String(frame));
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }
  pings(): number {
    return this.sent.filter((f) => f === '["chsk/ws-ping",null]').length;
  }
}

async function open(options: ServerOptions = {}) {
  const clock = new VirtualClock();
  const closes: number[] = [];
  const hub = new Hub({
    clock,
    onClose: (_c, code) => void closes.push(code),
    onError: () => {},
    ...options,
  });
  const req = new Request("http://127.0.0.1/chsk?client-id=c1&packer=json", {
    headers: { upgrade: "websocket" },
  });
  const pending = await hub.prepare(req);
  assert.ok(!(pending instanceof Response));
  const socket = new FakeSocket();
  const sink: ConnectionSink = hub.open(pending as PendingUpgrade, socket);
  const connId = hub.connections()[0].id;
  return { hub, clock, socket, sink, connId, closes };
}

const PONG = '[["chsk/ws-pong"],null]';

Deno.test("Hub heartbeat pings after 30 s without a frame and closes with 4008 at 60 s", async () => {
  const { hub, clock, socket, closes } = await open();
  clock.tick(29_999);
  assert.equal(socket.pings(), 0);
  clock.tick(1);
  assert.equal(socket.pings(), 1);
  clock.tick(29_999);
  assert.equal(socket.closed, null);
  clock.tick(1);
  assert.deepEqual(socket.closed, { code: 4008, reason: "heartbeat timeout" });
  assert.equal(hub.stats().connections, 0);
  assert.deepEqual(closes, [4008]);
  assert.equal(clock.pending, 0);
});

Deno.test("Hub heartbeat counts any received frame as liveness", async () => {
  const { hub, clock, socket, sink } = await open();
  for (let i = 0; i < 10; i++) {
    clock.tick(30_000);
    sink.received(PONG); // the client answers each ping
  }
  assert.equal(socket.pings(), 10);
  assert.equal(hub.stats().connections, 1);
  // a chatty client is never pinged
  const before = socket.pings();
  for (let i = 0; i < 100; i++) {
    clock.tick(10_000);
    sink.received('[["chsk/ws-ping"],"cb1"]');
  }
  assert.equal(socket.pings(), before);
  assert.equal(hub.stats().connections, 1);
  hub.closeAll();
});

Deno.test("Hub heartbeat timeout cleans up channels, uids and pending requests at once", async () => {
  const { hub, clock, sink, connId } = await open({ authenticate: () => "alice" });
  sink.received('[["sente-lite/subscribe",{"channel-id":"room"}],"cb1"]');
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(hub.channels(), ["room"]);
  assert.deepEqual([...hub.connectedUids.current()], ["alice"]);
  const request = hub.request(connId, "app/ask", 1, { timeoutMs: 600_000 });
  clock.tick(60_000);
  await assert.rejects(request, ClosedError);
  assert.deepEqual(hub.channels(), []);
  assert.deepEqual([...hub.connectedUids.current()], []);
  assert.equal(hub.stats().connections, 0);
  // the adapter's late close report changes nothing
  sink.socketClosed(1006, "");
  assert.equal(hub.stats().connections, 0);
});

Deno.test("Hub heartbeat stops when the connection closes", async () => {
  const { clock, socket, sink } = await open();
  sink.socketClosed(1000, "");
  // Admission's handshake timer and the heartbeat's run out (admission.ts, heartbeat.ts) and
  // neither arms again: nothing is left to watch.
  clock.tick(30_000);
  assert.equal(clock.pending, 0);
  clock.tick(120_000);
  assert.equal(socket.pings(), 0);
});

Deno.test("Hub heartbeat follows custom timings and can be turned off", async () => {
  const a = await open({ heartbeat: { intervalMs: 1000, timeoutMs: 2500 } });
  a.clock.tick(1000);
  assert.equal(a.socket.pings(), 1);
  a.clock.tick(1500);
  assert.equal(a.socket.closed?.code, 4008);
  const b = await open({ heartbeat: false });
  b.clock.tick(1e7);
  assert.equal(b.socket.pings(), 0);
  assert.equal(b.socket.closed, null);
  b.hub.closeAll();
});

Deno.test("resolveHeartbeatOptions() fills defaults and rejects bad timings with RangeError", () => {
  assert.deepEqual(resolveHeartbeatOptions(undefined), { intervalMs: 30000, timeoutMs: 60000 });
  assert.deepEqual(HEARTBEAT_DEFAULTS, { intervalMs: 30000, timeoutMs: 60000 });
  assert.deepEqual(resolveHeartbeatOptions({ intervalMs: 5000 }), {
    intervalMs: 5000,
    timeoutMs: 60000,
  });
  assert.equal(resolveHeartbeatOptions(false), false);
  assert.throws(() => resolveHeartbeatOptions({ intervalMs: 0 }), RangeError);
  assert.throws(() => resolveHeartbeatOptions({ intervalMs: 100, timeoutMs: 100 }), RangeError);
  assert.throws(() => new Hub({ heartbeat: { timeoutMs: 10 } }), /heartbeat.timeoutMs/);
});

Deno.test("HeartbeatScheduler: connections closing in the order they opened re-arm no timer, and the next ping keeps its time", () => {
  const clock = new VirtualClock();
  const scheduler = new HeartbeatScheduler(clock, { intervalMs: 100, timeoutMs: 200 }, () => {});
  const pings: number[] = [];
  const target = (i: number) => ({
    lastSeen: clock.now(),
    hbAt: 0,
    hbPingedAt: -Infinity,
    hbIndex: -1,
    send: () => (pings.push(i), true),
    close: () => {},
  });
  const targets = Array.from({ length: 5 }, (_, i) => {
    if (i > 0) clock.tick(10);
    const t = target(i);
    scheduler.add(t);
    return t;
  });
  for (const t of targets.slice(0, 4)) scheduler.remove(t); // the heap's top each time
  assert.equal(clock.scheduled, 1);
  assert.equal(clock.pending, 1);
  clock.tick(99); // t = 139: the first timer (t = 100) found nothing due
  assert.deepEqual(pings, []);
  clock.tick(1); // t = 140: the last connection's ping, 100 ms after it opened
  assert.deepEqual(pings, [4]);
  scheduler.remove(targets[4]);
  clock.tick(1000); // none watched: the timer runs out and arms no other
  assert.equal(clock.pending, 0);
  assert.equal(clock.scheduled, 3); // t = 100, t = 140 and the look after the ping: none for the removals
});

Deno.test("HeartbeatScheduler: connections that each close before the next opens set a timer per interval, not per connection", () => {
  const clock = new VirtualClock();
  const scheduler = new HeartbeatScheduler(clock, { intervalMs: 100, timeoutMs: 200 }, () => {});
  const pings: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = {
      lastSeen: clock.now(),
      hbAt: 0,
      hbPingedAt: -Infinity,
      hbIndex: -1,
      send: () => (pings.push(i), true),
      close: () => {},
    };
    scheduler.add(t);
    clock.tick(3);
    scheduler.remove(t); // the heap is empty again (a churn of short connections)
  }
  // 300 ms of churn at a 100 ms interval: a timer per 100 ms (each finds nothing due), not 100.
  assert.ok(clock.scheduled <= 4, `${clock.scheduled} timers set`);
  assert.deepEqual(pings, []);
  clock.tick(1000);
  assert.equal(clock.pending, 0);
});
