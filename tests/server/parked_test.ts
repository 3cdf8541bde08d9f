/**
 * `maxParkedPerIp` (lib/server/parked.ts, lib/server/delivery.ts) in virtual time: one IP that
 * churns fresh resume sessions evicts only its own oldest parked sessions, never another IP's;
 * every eviction is reported like `maxSessions`' and the client learns an `unknown` gap.
 */
import assert from "node:assert/strict";
import {
  Delivery,
  type DeliveryLoss,
  type DeliveryOptions,
  resolveDelivery,
} from "../../lib/server/delivery.ts";
import { ParkedByIp } from "../../lib/server/parked.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { zeroDeliveryCounters } from "../../lib/server/session.ts";

function setup(options: DeliveryOptions) {
  const clock = new VirtualClock();
  const losses: DeliveryLoss[] = [];
  const ended: string[] = [];
  const stats = zeroDeliveryCounters();
  const d = new Delivery<string>(resolveDelivery(options) as Required<DeliveryOptions>, clock, {
    loss: (l) => losses.push(l),
    ack: () => {},
    ended: (s) => ended.push(s.clientId),
  }, stats);
  return { clock, losses, ended, stats, d };
}

/** Attaches a fresh session from `ip`, buffers `n` messages for it and disconnects it. */
function park(d: Delivery<string>, ip: string | null, clientId: string, n = 1) {
  const a = d.attach("anon", clientId, `conn-${clientId}`, 0, null, ip);
  for (let i = 1; i <= n; i++) d.account(a.session, d.sequence(a.session, ["t/n", { i }]), 10);
  d.detach(a.session, `conn-${clientId}`);
  return a;
}

Deno.test("ParkedByIp: past max the IP's own oldest is returned; re-parking makes an item the newest", () => {
  const p = new ParkedByIp<string>(2);
  assert.equal(p.park("a", "a1"), undefined);
  assert.equal(p.park("b", "b1"), undefined);
  assert.equal(p.park("a", "a2"), undefined);
  assert.equal(p.park("a", "a1"), undefined, "parked again: no growth");
  assert.equal(p.park("a", "a3"), "a2", "a1 was re-parked, so a2 is the oldest");
  p.unpark("a", "a2");
  assert.equal(p.count("a"), 2);
  assert.equal(p.count("b"), 1, "the other IP is untouched");
  p.unpark("b", "b1");
  p.unpark("b", "nope");
  assert.equal(p.ips, 1, "an IP with nothing parked is forgotten");
});

Deno.test("maxParkedPerIp: churn from one IP evicts its own oldest parked sessions, never another IP's", () => {
  const { d, losses, ended, stats } = setup({ maxParkedPerIp: 3, maxSessions: 10 });
  const honest = park(d, "192.0.2.1", "honest", 2);
  for (let i = 0; i < 20; i++) park(d, "198.51.100.7", `churn${i}`);
  // The attacker keeps its 3 newest; the honest session (parked first, so least recently used)
  // survives. Without the cap, maxSessions (10) would have evicted it at the 10th churn.
  assert.equal(d.sessions, 4);
  assert.deepEqual(ended, Array.from({ length: 17 }, (_, i) => `churn${i}`), "oldest first");
  assert.deepEqual(
    losses,
    ended.map((clientId) => ({ reason: "evicted", uid: "anon", clientId, dropped: 1 })),
  );
  assert.equal(stats.offlineDropped, 17);
  const back = d.attach("anon", "honest", "conn-honest-2", 0, honest.state.token, "192.0.2.1");
  assert.equal(back.state.resumed, true);
  assert.deepEqual(back.replay.map((e) => e.seq), [1, 2]);
  // An evicted churn session coming back learns an unknown gap.
  const gone = d.attach("anon", "churn0", "conn-c0", 1, null, "198.51.100.7");
  assert.deepEqual(gone.state.gap, { reason: "unknown", dropped: null });
});

Deno.test("maxParkedPerIp: connected sessions, expired ones, resumes and unknown addresses", () => {
  const { d, clock, ended } = setup({ maxParkedPerIp: 2, ttlMs: 1000 });
  // Connected sessions do not count (they are bounded by maxConnectionsPerIp).
  for (let i = 0; i < 5; i++) d.attach("anon", `live${i}`, `conn-live${i}`, 0, null, "192.0.2.1");
  const a = park(d, "192.0.2.1", "a");
  clock.tick(1000); // a expires (ended), and stays kept (a few numbers): it still counts as parked
  assert.deepEqual(ended, ["a"]);
  const b = park(d, "192.0.2.1", "b");
  // a resumes (expired gap): no longer parked, so b and c fit.
  const a2 = d.attach("anon", "a", "conn-a2", 1, a.state.token, "192.0.2.1");
  assert.equal(a2.state.gap?.reason, "expired");
  park(d, "192.0.2.1", "c");
  assert.deepEqual(ended, ["a"]);
  d.detach(a2.session, "conn-a2"); // parked again, now the newest: b is the oldest
  assert.deepEqual(ended, ["a", "b"]);
  assert.equal(d.session(b.session.id), undefined);
  // IPv6 counts by /64, like the per-IP byte budget.
  park(d, "2001:db8:1:2::1", "v1");
  park(d, "2001:db8:1:2::2", "v2");
  park(d, "2001:db8:1:2:ffff::3", "v3");
  assert.deepEqual(ended, ["a", "b", "v1"]);
  // Without a known address nothing is capped.
  for (let i = 0; i < 5; i++) park(d, null, `n${i}`);
  assert.deepEqual(ended, ["a", "b", "v1"]);
});
