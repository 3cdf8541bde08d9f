import assert from "node:assert/strict";
import { HeartbeatScheduler, type HeartbeatTarget } from "../../lib/server/heartbeat.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import type { ServerMessage } from "../../lib/protocol/envelope.ts";

class Target implements HeartbeatTarget {
  hbAt = 0;
  hbPingedAt = -Infinity;
  hbIndex = -1;
  pings: number[] = [];
  closed: number | null = null;
  constructor(readonly clock: VirtualClock, public lastSeen: number) {}
  send(message: ServerMessage): boolean {
    assert.equal(message.type, "ping");
    this.pings.push(this.clock.now());
    return true;
  }
  close(code: number): void {
    this.closed = code;
  }
}

Deno.test("HeartbeatScheduler runs every connection's heartbeat on one timer, at each one's time", () => {
  const clock = new VirtualClock();
  const dead: Target[] = [];
  const hb = new HeartbeatScheduler<Target>(clock, { intervalMs: 100, timeoutMs: 250 }, (t) => {
    dead.push(t);
  });
  const targets = Array.from({ length: 50 }, (_, i) => {
    clock.tick(i === 0 ? 0 : 1); // opened 1 ms apart
    const t = new Target(clock, clock.now());
    hb.add(t);
    return t;
  });
  assert.equal(clock.pending, 1); // one timer for all
  clock.tick(100 - 49); // t = 100: only the first is due
  assert.deepEqual(targets[0].pings, [100]);
  assert.deepEqual(targets[1].pings, []);
  clock.tick(49); // t = 149: all pinged, each 100 ms after it was opened
  targets.forEach((t, i) => assert.deepEqual(t.pings, [100 + i], `target ${i}`));
  // Target 1 answers at 149: not dead at 251 (its next look, as with a timer of its own), and
  // pinged again then, since 100 ms passed since the answer.
  targets[1].lastSeen = clock.now();
  clock.tick(101); // t = 250
  assert.deepEqual(dead, [targets[0]]);
  assert.equal(targets[0].closed, 4008);
  clock.tick(1); // t = 251
  assert.deepEqual(targets[1].pings, [101, 251]);
  assert.equal(targets[1].closed, null);
  assert.deepEqual(dead, [targets[0]]);
  assert.equal(clock.pending, 1);
  // Removing every connection: the timer runs out, finds nothing and leaves none behind.
  for (const t of targets) hb.remove(t);
  assert.equal(hb.size, 0);
  clock.tick(10_000);
  assert.equal(clock.pending, 0);
  assert.equal(dead.length, 1);
});

Deno.test("HeartbeatScheduler: a frame between looks postpones the ping without touching the timer", () => {
  const clock = new VirtualClock();
  const hb = new HeartbeatScheduler<Target>(clock, { intervalMs: 100, timeoutMs: 250 }, () => {});
  const t = new Target(clock, 0);
  hb.add(t);
  clock.tick(60);
  t.lastSeen = 60; // a frame: no timer work
  clock.tick(40); // t = 100: looked at, not due (60 + 100)
  assert.deepEqual(t.pings, []);
  clock.tick(60);
  assert.deepEqual(t.pings, [160]);
  hb.remove(t);
  clock.tick(1000); // the timer runs out and leaves none
  assert.equal(clock.pending, 0);
  assert.deepEqual(t.pings, [160]);
});
