import assert from "node:assert/strict";
import {
  Admission,
  FALLBACK_MAX_CONNECTIONS,
  maxConnectionsFor,
  openFileLimit,
  parseOpenFileLimit,
  Slot,
} from "../../lib/server/admission.ts";
import { Hub, type PendingUpgrade } from "../../lib/server/hub.ts";
import { resolveServerOptions } from "../../lib/server/options.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { startServer, until } from "../_server.ts";
import { RawPeer } from "../_peer.ts";
import { upgradeStatus } from "./_slow_peer.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

Deno.test("parseOpenFileLimit reads the soft 'Max open files' of /proc/self/limits", () => {
  assert.equal(parseOpenFileLimit(LIMITS), 1024);
  assert.equal(parseOpenFileLimit(LIMITS.replace("1024    ", "unlimited")), null);
  assert.equal(parseOpenFileLimit("Max cpu time  unlimited  unlimited  seconds\n"), null);
  assert.equal(parseOpenFileLimit(""), null);
});

Deno.test("maxConnectionsFor leaves 10 % (at least 64) of the open-file limit as headroom", () => {
  assert.equal(maxConnectionsFor(256), 192);
  assert.equal(maxConnectionsFor(1024), 921);
  assert.equal(maxConnectionsFor(65536), 58982);
  assert.equal(maxConnectionsFor(10), 1);
  assert.equal(maxConnectionsFor(null), FALLBACK_MAX_CONNECTIONS);
});

Deno.test("the default maxConnections follows this process's open-file limit", () => {
  assert.equal(resolveServerOptions().maxConnections, maxConnectionsFor(openFileLimit()));
  if (Deno.build.os === "linux") assert.notEqual(openFileLimit(), null);
  assert.equal(resolveServerOptions({ maxConnections: 7 }).maxConnections, 7);
  assert.throws(() => resolveServerOptions({ maxConnections: 0 }), RangeError);
  assert.throws(() => resolveServerOptions({ handshakeTimeoutMs: -1 }), RangeError);
  assert.throws(() => resolveServerOptions({ closeTimeoutMs: 1.5 }), RangeError);
});

Deno.test("Admission counts pending and open slots against both limits; release is idempotent", () => {
  const clock = new VirtualClock();
  const a = new Admission(
    { maxConnections: 3, maxConnectionsPerIp: 2, handshakeTimeoutMs: 100 },
    clock,
  );
  const s1 = a.reserve("1.1.1.1") as Slot;
  const s2 = a.reserve("1.1.1.1") as Slot;
  assert.ok(s1 instanceof Slot && s2 instanceof Slot);
  assert.equal(a.reserve("1.1.1.1"), "ip-full");
  const s3 = a.reserve(null) as Slot;
  assert.equal(a.reserve("2.2.2.2"), "server-full");
  assert.equal(a.pending, 3);
  assert.ok(s1.open(clock));
  assert.equal(a.pending, 2);
  s1.release(clock);
  s1.release(clock);
  s3.release(clock);
  assert.equal(a.total, 1);
  assert.equal(a.perIp("1.1.1.1"), 1);
  assert.ok(a.reserve("1.1.1.1") instanceof Slot);
});

Deno.test("Slot.handOver: only an opened slot of that admission and IP; it counts until released once", () => {
  const clock = new VirtualClock();
  const limits = { maxConnections: 3, maxConnectionsPerIp: 3, handshakeTimeoutMs: 100 };
  const a = new Admission(limits, clock);
  const other = new Admission(limits, clock);
  const s = a.reserve("1.1.1.1") as Slot;
  assert.equal(s.handOver(a, "1.1.1.1"), false); // still pending
  assert.ok(s.open(clock));
  assert.equal(s.handOver(other, "1.1.1.1"), false);
  assert.equal(s.handOver(a, "2.2.2.2"), false);
  assert.equal(s.handOver(a, "1.1.1.1"), true);
  s.release(clock); // the connection holds the place now: the slot gives nothing back
  assert.equal(a.total, 1);
  assert.equal(a.perIp("1.1.1.1"), 1);
  a.released("1.1.1.1", false); // what the connection does when it closes
  assert.equal(a.total, 0);
  assert.equal(a.perIp("1.1.1.1"), 0);
});

Deno.test("a slot still pending after the handshake timeout is freed, and cannot open late", async () => {
  const clock = new VirtualClock();
  const a = new Admission(
    { maxConnections: 1, maxConnectionsPerIp: 1, handshakeTimeoutMs: 100 },
    clock,
  );
  let expired = 0;
  const slot = a.reserve("1.1.1.1", () => expired++) as Slot;
  assert.equal(a.reserve("1.1.1.1"), "server-full");
  await Promise.resolve(); // the end of the turn: the timer is armed
  clock.tick(100);
  assert.equal(expired, 1);
  assert.equal(a.total, 0);
  assert.equal(slot.open(clock), false);
  assert.ok(a.reserve("1.1.1.1") instanceof Slot);
});

Deno.test("Hub: an upgrade that passed prepare but never opened frees its slot; a late socket gets 1013", async () => {
  const clock = new VirtualClock();
  const hub = new Hub({ clock, maxConnections: 1, handshakeTimeoutMs: 200, onError: () => {} });
  const req = () =>
    new Request("http://127.0.0.1/chsk?client-id=c1&packer=json", {
      headers: { upgrade: "websocket" },
    });
  const pending = await hub.prepare(req(), "10.0.0.1");
  assert.ok(!(pending instanceof Response));
  assert.equal(hub.stats().pendingUpgrades, 1);
  assert.equal(((await hub.prepare(req(), "10.0.0.2")) as Response).status, 503);
  clock.tick(200);
  assert.equal(hub.stats().pendingUpgrades, 0);
  assert.equal(hub.stats().errors["handshake-timeout"], 1);
  const closes: number[] = [];
  hub.open(pending as PendingUpgrade, {
    send: () => {},
    close: (code) => void closes.push(code ?? 0),
    bufferedAmount: 0,
  });
  assert.deepEqual(closes, [1013]);
  assert.equal(hub.stats().connections, 0);
  const next = await hub.prepare(req(), "10.0.0.2");
  assert.ok(!(next instanceof Response), "the slot is free again");
});

/** A WebSocket client of the test server (its `opened` rejects when the upgrade is refused). */
function peer(url: string): RawPeer {
  const p = new RawPeer(`${url}?client-id=${crypto.randomUUID()}&packer=json`);
  p.opened.catch(() => {}); // awaited where it matters
  return p;
}

Deno.test("maxConnections: the next upgrade gets 503 while the server is full, and a close frees a slot", async () => {
  await using t = await startServer({ maxConnections: 3 });
  const peers = [peer(t.url), peer(t.url), peer(t.url)];
  try {
    await Promise.all(peers.map((p) => p.opened));
    await until(() => t.server.stats().connections === 3, "three connections");
    assert.equal(await upgradeStatus(t.url), 503);
    assert.equal(t.server.stats().errors["server-full"], 1);
    peers[0].ws.close();
    await until(() => t.server.stats().connections === 2, "the close");
    const again = peer(t.url);
    peers.push(again);
    await again.opened;
    await until(() => t.server.stats().connections === 3, "the new connection");
  } finally {
    for (const p of peers) p.ws.close();
    await until(() => t.server.stats().connections === 0, "cleanup");
  }
});

Deno.test("maxConnectionsPerIp counts upgrades still in authenticate: the next one gets 429", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  let calls = 0;
  await using t = await startServer({
    maxConnectionsPerIp: 2,
    // The first two upgrades wait here; any later one would pass at once.
    authenticate: async () => {
      if (++calls <= 2) await gate;
      return null;
    },
  });
  const peers = [peer(t.url), peer(t.url)];
  try {
    await until(() => calls === 2, "two upgrades in authenticate");
    assert.equal(t.server.stats().connections, 0);
    assert.equal(await upgradeStatus(t.url), 429);
    assert.equal(t.server.stats().pendingUpgrades, 2);
    release();
    await Promise.all(peers.map((p) => p.opened));
    await until(() => t.server.stats().connections === 2, "both open");
    assert.equal(t.server.stats().pendingUpgrades, 0);
  } finally {
    release();
    for (const p of peers) p.ws.close();
    await until(() => t.server.stats().connections === 0, "cleanup");
  }
});

Deno.test("an upgrade the runtime cannot complete (no Sec-WebSocket-Key) frees its slot at once", async () => {
  await using t = await startServer({ maxConnections: 1 });
  const headers = { upgrade: "websocket", connection: "Upgrade" };
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${t.http}/chsk?client-id=c${i}&packer=json`, { headers });
    await r.body?.cancel();
    assert.equal(r.status, 400, `attempt ${i}`);
  }
  assert.equal(t.server.stats().pendingUpgrades, 0);
});

Deno.test("Admission times every pending upgrade on one timer and leaves none when nothing is pending", async () => {
  const clock = new VirtualClock();
  const a = new Admission(
    { maxConnections: 100, maxConnectionsPerIp: 100, handshakeTimeoutMs: 100 },
    clock,
  );
  const expired: number[] = [];
  const slots = Array.from({ length: 10 }, (_, i) => {
    if (i > 0) clock.tick(10);
    return a.reserve(`10.0.0.${i}`, () => void expired.push(i)) as Slot;
  });
  assert.equal(clock.pending, 0); // armed at the end of the turn, if any is still pending
  await Promise.resolve();
  assert.equal(clock.pending, 1); // one timer for ten upgrades
  slots[0].open(clock);
  slots[2].release(clock);
  clock.tick(10); // t = 100: slot 0 opened, so nothing expires
  assert.deepEqual(expired, []);
  clock.tick(20); // t = 120: slot 1 (110) expired, slot 2 was released
  assert.deepEqual(expired, [1]);
  assert.equal(slots[1].open(clock), false);
  assert.equal(clock.pending, 1);
  for (const s of slots.slice(3)) s.open(clock);
  assert.equal(a.pending, 0);
  assert.equal(clock.pending, 1); // nothing pending: the timer runs out (a churn sets no more)
  clock.tick(1000);
  assert.equal(clock.pending, 0); // it fired, found nothing, and left no timer
  assert.deepEqual(expired, [1]);
  assert.equal(a.total, 8);
});

Deno.test("Admission sets one timer per timeout, not per upgrade, when each socket opens a turn later (Deno)", async () => {
  const clock = new VirtualClock();
  const a = new Admission(
    { maxConnections: 100, maxConnectionsPerIp: 100, handshakeTimeoutMs: 100 },
    clock,
  );
  const expired: number[] = [];
  for (let i = 0; i < 50; i++) {
    const slot = a.reserve("10.0.0.1", () => void expired.push(i)) as Slot;
    await Promise.resolve(); // the end of the turn: still pending, so a timer is armed
    clock.tick(3);
    assert.ok(slot.open(clock)); // the next turn: it opened, nothing pending
  }
  // 50 upgrades over 150 ms with a 100 ms timeout: the first timer, and one armed after it ran out.
  assert.equal(clock.scheduled, 2);
  assert.equal(expired.length, 0);
  // A slow upgrade admitted while the old timer still runs is timed out all the same.
  const slow = a.reserve("10.0.0.2", () => void expired.push(-1)) as Slot;
  await Promise.resolve();
  clock.tick(99);
  assert.equal(slow.pending, true);
  clock.tick(1);
  assert.equal(slow.pending, false);
  assert.deepEqual(expired, [-1]);
  clock.tick(1000);
  assert.equal(clock.pending, 0);
});

Deno.test("Admission arms no timer for an upgrade that opens in the turn it was admitted", async () => {
  const clock = new VirtualClock();
  const a = new Admission(
    { maxConnections: 100, maxConnectionsPerIp: 100, handshakeTimeoutMs: 100 },
    clock,
  );
  for (let i = 0; i < 5; i++) (a.reserve("10.0.0.1") as Slot).open(clock); // as on Bun
  await Promise.resolve();
  assert.equal(clock.pending, 0);
  const slow = a.reserve("10.0.0.2", () => {}) as Slot;
  (a.reserve("10.0.0.3") as Slot).open(clock);
  await Promise.resolve();
  assert.equal(clock.pending, 1); // the slow one is still pending at the end of the turn
  clock.tick(100);
  assert.equal(slow.pending, false);
  assert.equal(clock.pending, 0);
});
