/** Unit tests of lib/server/delivery.ts in virtual time: numbering, acks, TTL, overflow, eviction, dedup. */
import assert from "node:assert/strict";
import {
  type Attachment,
  Delivery,
  type DeliveryLoss,
  type DeliveryOptions,
  ENTRY_BYTES,
  estimateBytes,
  parseResumeParam,
  resolveDelivery,
} from "../../lib/server/delivery.ts";
import { parseResumeToken } from "../../lib/protocol/resume_token.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { zeroDeliveryCounters } from "../../lib/server/session.ts";

function setup(options: DeliveryOptions = {}) {
  const clock = new VirtualClock();
  const losses: DeliveryLoss[] = [];
  const acks: [string, number][] = [];
  const stats = zeroDeliveryCounters();
  const d = new Delivery<string>(resolveDelivery(options) as Required<DeliveryOptions>, clock, {
    loss: (l) => losses.push(l),
    ack: (conn, seq) => acks.push([conn, seq]),
  }, stats);
  return { clock, losses, acks, stats, d };
}

const ev = (n: number): [string, unknown] => ["t/n", { n }];

/** The token the handshake of `a` gave its client. */
const tokenOf = (a: Attachment<string>): string => a.state.token!;

/** The handshake state without its (random) token. */
function stateOf(a: Attachment<string>): Omit<Attachment<string>["state"], "token"> {
  const { token: _, ...rest } = a.state;
  return rest;
}

Deno.test("resolveDelivery() fills defaults and range-checks every field", () => {
  assert.deepEqual(resolveDelivery(undefined), {
    maxMessages: 10000,
    maxBytes: 1048576,
    maxTotalBytes: 67108864,
    ttlMs: 300000,
    maxSessions: 10000,
    maxParkedPerIp: 256,
    maxReplayBytes: 1048576,
    ackEvery: 16,
    ackDelayMs: 50,
  });
  assert.equal(resolveDelivery(false), false);
  assert.throws(() => resolveDelivery({ maxMessages: 0 }), RangeError);
  assert.throws(() => resolveDelivery({ ttlMs: 1.5 }), /delivery.ttlMs/);
  assert.throws(() => resolveDelivery({ maxTotalBytes: 0 }), /delivery.maxTotalBytes/);
  assert.throws(() => resolveDelivery({ maxParkedPerIp: 0 }), /delivery.maxParkedPerIp/);
  assert.equal(parseResumeParam("12"), 12);
  assert.equal(parseResumeParam("-1"), null);
  assert.equal(parseResumeParam("x"), null);
  assert.equal(parseResumeParam(null), null);
});

Deno.test("Delivery.attach() resumes a detached session: replays exactly the unacked messages after lastSeq", () => {
  const { d, stats, clock } = setup();
  const first = d.attach("u", "c1", "conn1", 0);
  assert.deepEqual(stateOf(first), { resumed: false, gap: null, ack: 0, seq: 0 });
  for (let i = 1; i <= 5; i++) d.account(first.session, d.sequence(first.session, ev(i)), 10);
  d.acked(first.session, 2);
  d.detach(first.session, "conn1");
  // While away, sends to the uid are kept for the session.
  assert.equal(d.hold("u", ev(6), 0), 1);
  clock.tick(1000);
  const again = d.attach("u", "c1", "conn2", 4, tokenOf(first));
  assert.deepEqual(stateOf(again), { resumed: true, gap: null, ack: 0, seq: 4 });
  assert.deepEqual(again.replay.map((m) => m.seq), [5, 6]);
  assert.equal(again.superseded, null);
  assert.equal(stats.resumed, 1);
  assert.equal(stats.offlineBuffered, 1);
  assert.equal(clock.pending, 0, "the TTL timer is cancelled on resume");
});

Deno.test("Delivery: past the TTL a session expires, reports its messages and resumes with a gap", () => {
  const { d, stats, clock, losses } = setup({ ttlMs: 1000 });
  const a = d.attach("u", "c1", "conn1", 0);
  for (let i = 1; i <= 3; i++) d.account(a.session, d.sequence(a.session, ev(i)), 10);
  d.detach(a.session, "conn1");
  clock.tick(999);
  assert.equal(losses.length, 0);
  clock.tick(1);
  assert.deepEqual(losses, [{ reason: "expired", uid: "u", clientId: "c1", dropped: 3 }]);
  assert.equal(stats.offlineExpired, 3);
  // An expired session keeps nothing more: the uid's offline buffer takes over.
  d.hold("u", ev(4), 0);
  const b = d.attach("u", "c1", "conn2", 1, tokenOf(a));
  assert.deepEqual(stateOf(b), {
    resumed: false,
    gap: { reason: "expired", dropped: 2 },
    ack: 0,
    seq: 3,
  });
  assert.deepEqual(b.replay, []);
  assert.equal(stats.resumeFailed, 1);
  assert.deepEqual(d.takeOffline("u")?.messages.map((m) => m.event), [ev(4)]);
});

Deno.test("Delivery: overflow of a detached session is reported at once and seen as a gap on resume", () => {
  const { d, stats, losses } = setup({ maxMessages: 3 });
  const a = d.attach("u", "c1", "conn1", 0);
  d.detach(a.session, "conn1");
  for (let i = 1; i <= 5; i++) d.hold("u", ev(i), 0);
  assert.equal(stats.offlineDropped, 2);
  assert.deepEqual(losses.map((l) => [l.reason, l.dropped]), [["overflow", 1], ["overflow", 1]]);
  const b = d.attach("u", "c1", "conn2", 0, tokenOf(a));
  assert.deepEqual(b.state.gap, { reason: "overflow", dropped: 2 });
  assert.equal(b.state.resumed, false);
  assert.equal(b.state.seq, 2);
  assert.deepEqual(b.replay.map((m) => m.seq), [3, 4, 5]);
});

Deno.test("Delivery: overflow while connected is no loss when the client already had the messages", () => {
  const { d, losses } = setup({ maxMessages: 2, maxBytes: 2 * (10 + ENTRY_BYTES) + 5 });
  const a = d.attach("u", "c1", "conn1", 0);
  for (let i = 1; i <= 4; i++) d.account(a.session, d.sequence(a.session, ev(i)), 10);
  assert.equal(a.session.buffer.length, 2);
  assert.equal(losses.length, 0, "written to an open socket: not reported");
  d.detach(a.session, "conn1");
  const b = d.attach("u", "c1", "conn2", 3, tokenOf(a));
  assert.equal(b.state.resumed, true);
  assert.deepEqual(b.replay.map((m) => m.seq), [4]);
  // The byte bound drops the oldest too.
  d.account(b.session, d.sequence(b.session, ev(5)), 20);
  assert.deepEqual(b.session.buffer.map((m) => m.seq), [5]);
});

Deno.test("Delivery: with the defaults, bytes bound a buffer (ENTRY_BYTES per message), not the count", () => {
  const { d, losses } = setup();
  const a = d.attach("u", "c1", "conn1", 0);
  d.detach(a.session, "conn1");
  for (let i = 1; i <= 10_000; i++) d.account(a.session, d.sequence(a.session, ev(i)), 0);
  const fit = Math.floor(1048576 / ENTRY_BYTES);
  assert.equal(a.session.buffer.length, fit);
  assert.equal(a.session.bytes, fit * ENTRY_BYTES);
  assert.equal(losses.reduce((n, l) => n + l.dropped, 0), 10_000 - fit, "every loss reported");
  d.acked(a.session, 10_000);
  assert.equal(a.session.bytes, 0);
});

Deno.test("Delivery: an unknown session (evicted, server restarted) resumes with an unknown gap", () => {
  const { d, stats } = setup();
  const a = d.attach("u", "c9", "conn1", 57);
  assert.deepEqual(stateOf(a), {
    resumed: false,
    gap: { reason: "unknown", dropped: null },
    ack: 0,
    seq: 0,
  });
  assert.equal(stats.resumeFailed, 1);
  // A client that claims more than this session ever sent is also treated as unknown.
  d.account(a.session, d.sequence(a.session, ev(1)), 1);
  d.detach(a.session, "conn1");
  const b = d.attach("u", "c9", "conn2", 40, tokenOf(a));
  assert.deepEqual(b.state.gap, { reason: "unknown", dropped: null });
  assert.equal(b.state.seq, 1);
  assert.deepEqual(b.replay, []);
});

Deno.test("Delivery: only the token resumes; a newer connection with it supersedes the old", () => {
  const { d } = setup();
  const a = d.attach("alice", "c1", "conn1", 0);
  // Same uid and client id, but no token, a forged one, or alice's token under another uid:
  // a fresh session each time, and alice's is untouched.
  const forged = tokenOf(a).slice(0, 16) + "0".repeat(32);
  const stolen = tokenOf(a); // used under another uid
  for (
    const [uid, token, rejected] of [
      ["alice", null, false],
      ["alice", forged, true],
      ["mallory", stolen, true],
    ] as const
  ) {
    const other = d.attach(uid, "c1", "intruder", 3, token);
    assert.notEqual(other.session, a.session, "a client id alone opens no session");
    assert.equal(other.superseded, null);
    assert.equal(other.rejected, rejected);
    assert.equal(other.state.resumed, false);
    assert.deepEqual(other.state.gap, { reason: "unknown", dropped: null });
    assert.deepEqual(other.replay, []);
  }
  assert.equal(a.session.conn, "conn1");
  // The owner's token opens it, and supersedes its older connection.
  const b = d.attach("alice", "c1", "conn3", 0, tokenOf(a));
  assert.equal(b.session, a.session);
  assert.equal(b.superseded, "conn1");
  assert.equal(b.rejected, false);
  d.detach(a.session, "conn1"); // the old connection's late close changes nothing
  assert.equal(a.session.conn, "conn3");
});

Deno.test("Delivery: a token whose session id shares only the kept key (its low word) opens nothing", () => {
  const { d } = setup();
  const a = d.attach("alice", "c1", "conn1", 0);
  const token = tokenOf(a);
  // The books key sessions by the id's low word: a different high word is another session id.
  const hi = token.slice(0, 8) === "00000000" ? "00000001" : "00000000";
  const other = hi + token.slice(8);
  assert.equal(d.session(other.slice(0, 16)), undefined);
  assert.equal(d.session(token.slice(0, 16)), a.session);
  const b = d.attach("alice", "c1", "conn2", 0, other);
  assert.notEqual(b.session, a.session);
  assert.equal(b.rejected, false); // an unknown session, not a wrong secret
  assert.deepEqual(b.state.gap, { reason: "unknown", dropped: null });
  assert.equal(a.session.conn, "conn1");
  // Every new session's low word differs from every kept one's.
  const keys = new Set([a.session.idLo, b.session.idLo]);
  for (let i = 0; i < 500; i++) keys.add(d.attach("u", `c${i}`, `k${i}`, 0).session.idLo);
  assert.equal(keys.size, 502);
});

Deno.test("Delivery: the secret rotates on every attach; the previous one works until the newer is used", () => {
  const { d } = setup();
  const a = d.attach("u", "c1", "k1", 0);
  const t1 = tokenOf(a);
  const b = d.attach("u", "c1", "k2", 0, t1);
  const t2 = tokenOf(b);
  assert.equal(parseResumeToken(t2)!.sessionId, parseResumeToken(t1)!.sessionId);
  assert.notEqual(parseResumeToken(t2)!.secret, parseResumeToken(t1)!.secret);
  // The client lost k2 before it read t2: t1 still resumes.
  const c = d.attach("u", "c1", "k3", 0, t1);
  assert.equal(c.session, a.session);
  const t3 = tokenOf(c);
  // Once t3 has been used, t1 and t2 open nothing.
  const e = d.attach("u", "c1", "k4", 0, t3);
  assert.equal(e.session, a.session);
  for (const old of [t1, t2]) {
    const x = d.attach("u", "c1", "x", 0, old);
    assert.notEqual(x.session, a.session);
    assert.equal(x.rejected, true);
  }
  assert.equal(a.session.conn, "k4");
});

Deno.test("Delivery: a session inspected or logged shows no secret", () => {
  const { d } = setup();
  const a = d.attach("u", "c1", "k1", 0);
  const shown = Deno.inspect(a.session, { depth: 10, showHidden: true }) +
    JSON.stringify(a.session);
  assert.ok(!shown.includes(tokenOf(a).slice(16)));
});

Deno.test("Delivery: the least recently used detached session is evicted beyond maxSessions", () => {
  const { d, losses } = setup({ maxSessions: 2 });
  const s1 = d.attach("u", "c1", "k1", 0);
  const id1 = s1.session.id;
  d.account(s1.session, d.sequence(s1.session, ev(1)), 1);
  d.detach(s1.session, "k1");
  const s2 = d.attach("u", "c2", "k2", 0);
  d.detach(s2.session, "k2");
  const s3 = d.attach("u", "c3", "k3", 0);
  assert.equal(d.sessions, 2);
  assert.equal(d.session(id1), undefined);
  assert.deepEqual(losses, [{ reason: "evicted", uid: "u", clientId: "c1", dropped: 1 }]);
  // Attached sessions are never evicted.
  const s4 = d.attach("u", "c4", "k4", 0);
  const s5 = d.attach("u", "c5", "k5", 0);
  assert.ok(d.session(s3.session.id) && d.session(s4.session.id) && d.session(s5.session.id));
});

Deno.test("Delivery.received() drops duplicates and acks every ackEvery messages or after ackDelayMs", () => {
  const { d, acks, stats, clock } = setup({ ackEvery: 3, ackDelayMs: 50 });
  const a = d.attach("u", "c1", "conn1", 0);
  assert.equal(d.received(a.session, 1), true);
  assert.equal(d.received(a.session, 2), true);
  assert.deepEqual(acks, []);
  assert.equal(d.received(a.session, 2), false, "a re-sent duplicate");
  assert.deepEqual(acks, [["conn1", 2]]);
  assert.equal(stats.duplicatesDropped, 1);
  assert.equal(d.received(a.session, 3), true);
  clock.tick(49);
  assert.equal(acks.length, 1);
  clock.tick(1);
  assert.deepEqual(acks, [["conn1", 2], ["conn1", 3]]);
  // Dedup survives a reconnect; the handshake tells the client what the server has.
  d.detach(a.session, "conn1");
  const b = d.attach("u", "c1", "conn2", 0, tokenOf(a));
  assert.equal(b.state.ack, 3);
  assert.equal(d.received(b.session, 3), false);
  assert.equal(d.received(b.session, 4), true);
});

Deno.test("Delivery offline buffer: per uid, bounded, oldest dropped, per-message TTL, reported", () => {
  const { d, losses, stats, clock } = setup({ maxMessages: 3, ttlMs: 1000 });
  for (let i = 1; i <= 4; i++) {
    d.hold("bob", ev(i), 0);
    clock.tick(100);
  }
  assert.equal(stats.offlineBuffered, 4);
  assert.equal(stats.offlineDropped, 1);
  assert.deepEqual(losses, [{ reason: "overflow", uid: "bob", clientId: null, dropped: 1 }]);
  clock.tick(650); // t = 1050: message 2 (t = 100) is past its TTL at 1100, not yet
  clock.tick(50);
  assert.equal(stats.offlineExpired, 1);
  const got = d.takeOffline("bob")!;
  assert.deepEqual(got.messages.map((m) => m.event), [ev(3), ev(4)]);
  assert.equal(got.overflow, 1);
  assert.equal(got.expired, 1);
  assert.equal(d.takeOffline("bob"), null);
  assert.equal(clock.pending, 0);
  // Delivered to a connection: nothing is held.
  assert.equal(d.hold("bob", ev(5), 1), 0);
  assert.equal(d.offlineUids, 0);
});

Deno.test("Delivery offline buffers are bounded globally: the least recently used uid goes", () => {
  const { d, losses } = setup({ maxSessions: 2 });
  d.hold("a", ev(1), 0);
  d.hold("b", ev(1), 0);
  d.hold("a", ev(2), 0);
  d.hold("c", ev(1), 0);
  assert.equal(d.offlineUids, 2);
  assert.deepEqual(losses, [{ reason: "evicted", uid: "b", clientId: null, dropped: 1 }]);
});

// ---------------------------------------------------------------- the budget (maxTotalBytes)

/** Bytes charged for one message of 100 bytes. */
const M = 100 + ENTRY_BYTES;

/** A `t/n` event of exactly 100 bytes of JSON (the size `hold()` charges). */
function ev100(n: number): [string, unknown] {
  const pad = 100 - estimateBytes(["t/n", { n, p: "" }]);
  return ["t/n", { n, p: "x".repeat(pad) }];
}

/** A session attached as `conn` and detached at once (parked, as an attacker leaves it). */
function parked(d: Delivery<string>, uid: string, clientId: string): Attachment<string> {
  const a = d.attach(uid, clientId, clientId, 0);
  d.detach(a.session, clientId);
  return a;
}

Deno.test("Delivery budget: the largest disconnected sessions lose their oldest messages first; the total holds", () => {
  const { d, losses, stats } = setup({ maxTotalBytes: 10 * M });
  // The victim dropped with 2 messages waiting.
  const victim = parked(d, "alice", "v");
  for (let i = 1; i <= 2; i++) d.hold("alice", ev100(i), 0);
  // An attacker parks 3 anonymous sessions on a busy stream (every send lands in each).
  const attackers = ["a1", "a2", "a3"].map((c) => parked(d, "anon", c));
  let held = 2;
  for (let i = 1; i <= 50; i++) {
    held += d.hold("anon", ev100(i), 0);
    assert.ok(d.bytes <= 10 * M, `budget holds after send ${i}: ${d.bytes}`);
  }
  assert.equal(d.bytes, 10 * M);
  // The victim, smaller than every attacker session, lost nothing.
  assert.ok(losses.every((l) => l.clientId !== "v"));
  const sizes = attackers.map((a) => a.session.buffer.length).sort();
  assert.deepEqual(sizes, [2, 3, 3], "the attacker's sessions were levelled, largest first");
  // Every trimmed message is reported once, as overflow, and counted.
  assert.ok(losses.every((l) => l.reason === "overflow" && l.uid === "anon"));
  const dropped = losses.reduce((n, l) => n + l.dropped, 0);
  assert.equal(dropped, held - 10);
  assert.equal(stats.offlineDropped, dropped);
  // The victim resumes without a gap; an attacker session learns its gap (the same count).
  const back = d.attach("alice", "v", "v2", 0, tokenOf(victim));
  assert.equal(back.state.resumed, true);
  assert.deepEqual(back.replay.map((m) => m.event), [ev100(1), ev100(2)]);
  const a1 = attackers[0];
  const lostA1 = losses.filter((l) => l.clientId === "a1").reduce((n, l) => n + l.dropped, 0);
  const again = d.attach("anon", "a1", "a1b", 0, tokenOf(a1));
  assert.deepEqual(again.state.gap, { reason: "overflow", dropped: lostA1 });
  assert.equal(lostA1 + again.replay.length, 50);
});

Deno.test("Delivery budget: a connected session keeps working; it is trimmed only when nothing is away, silently, whole", () => {
  const { d, losses } = setup({ maxTotalBytes: 4 * M });
  const live = d.attach("u", "live", "k1", 0);
  const away = parked(d, "anon", "x");
  for (let i = 1; i <= 3; i++) d.hold("anon", ev100(i), 0);
  // Pushes to the connected client push the parked session out, not its own messages.
  for (let i = 1; i <= 3; i++) d.account(live.session, d.sequence(live.session, ev100(i)), 100);
  assert.deepEqual(live.session.buffer.map((m) => m.seq), [1, 2, 3]);
  assert.equal(away.session.buffer.length, 1);
  assert.deepEqual(losses, [
    { reason: "overflow", uid: "anon", clientId: "x", dropped: 1 },
    { reason: "overflow", uid: "anon", clientId: "x", dropped: 1 },
  ]);
  d.acked(live.session, 3);
  assert.equal(d.bytes, M);
  // Nothing left away: the connected session, largest, loses its buffer (written to its socket:
  // no loss now; a gap if it resumes without them), down to 7/8 of the budget.
  for (let i = 4; i <= 7; i++) d.account(live.session, d.sequence(live.session, ev100(i)), 100);
  assert.equal(d.bytes, 4 * M);
  assert.equal(away.session.buffer.length, 0);
  assert.equal(losses.length, 3);
  assert.deepEqual(live.session.buffer.map((m) => m.seq), [4, 5, 6, 7]);
  d.account(live.session, d.sequence(live.session, ev100(8)), 100);
  assert.equal(d.bytes, 0);
  assert.equal(losses.length, 3);
  d.account(live.session, d.sequence(live.session, ev100(9)), 100);
  d.detach(live.session, "k1");
  const b = d.attach("u", "live", "k2", 7, tokenOf(live));
  assert.deepEqual(b.state.gap, { reason: "overflow", dropped: 1 });
  assert.deepEqual(b.replay.map((m) => m.seq), [9]);
});

Deno.test("Delivery budget: offline buffers count and are trimmed like sessions; overflow told to the next connection", () => {
  const { d, losses } = setup({ maxTotalBytes: 3 * M });
  for (let i = 1; i <= 3; i++) d.hold("big", ev100(i), 0);
  d.hold("small", ev100(1), 0);
  assert.equal(d.bytes, 3 * M);
  assert.deepEqual(losses, [{ reason: "overflow", uid: "big", clientId: null, dropped: 1 }]);
  const got = d.takeOffline("big")!;
  assert.deepEqual(got.messages.map((m) => m.event), [ev100(2), ev100(3)]);
  assert.equal(got.overflow, 1);
  assert.equal(d.bytes, M, "taken messages leave the budget");
});

Deno.test("Delivery budget: every byte leaves the total when acknowledged, expired, evicted or taken", () => {
  const { d, clock } = setup({ ttlMs: 1000, maxSessions: 2, maxTotalBytes: 50 * M });
  const a = d.attach("u", "c1", "k1", 0);
  for (let i = 1; i <= 5; i++) d.account(a.session, d.sequence(a.session, ev100(i)), 100);
  assert.equal(d.bytes, 5 * M);
  d.acked(a.session, 5);
  assert.equal(d.bytes, 0);
  d.detach(a.session, "k1");
  d.hold("u", ev100(6), 0); // kept for the parked session
  parked(d, "v", "c2");
  d.hold("v", ev100(1), 0);
  parked(d, "w", "c3"); // evicts c1's session (least recently used)
  d.hold("nobody", ev100(1), 0);
  assert.equal(d.bytes, 2 * M);
  clock.tick(1000); // c2's session and nobody's message expire
  assert.equal(d.bytes, 0);
  d.hold("z", ev100(1), 0);
  d.takeOffline("z");
  assert.equal(d.bytes, 0);
});

Deno.test("Delivery budget: 5,000 parked sessions on a busy stream stay within the budget", () => {
  const { d, losses } = setup({ maxTotalBytes: 1000 * M });
  for (let i = 0; i < 5000; i++) parked(d, "anon", `c${i}`);
  let held = 0;
  for (let i = 1; i <= 20; i++) held += d.hold("anon", ev100(i), 0);
  assert.equal(held, 100_000);
  assert.equal(d.bytes, 1000 * M);
  assert.equal(losses.reduce((n, l) => n + l.dropped, 0), held - 1000);
});

Deno.test("attach and detach of a session with no ack timer touch no timer but the TTL's", () => {
  const clock = new VirtualClock();
  const d = new Delivery<string>(
    resolveDelivery({}) as Required<DeliveryOptions>,
    clock,
    { loss: () => {}, ack: () => {} },
    zeroDeliveryCounters(),
  );
  for (let i = 0; i < 100; i++) {
    const a = d.attach("u", `c${i}`, `conn${i}`, 0);
    d.detach(a.session, `conn${i}`);
  }
  // One timer for every parked session's TTL (expiry_queue.ts); a session that never received a
  // numbered message has no ack timer to clear.
  assert.equal(clock.scheduled, 1);
  assert.equal(clock.cleared, 0);
});
