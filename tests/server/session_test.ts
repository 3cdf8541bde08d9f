/** Unit tests of lib/server/session.ts: what an idle session holds, and its secrets. */
import assert from "node:assert/strict";
import {
  Delivery,
  type DeliveryOptions,
  NO_MESSAGES,
  resolveDelivery,
  Session,
} from "../../lib/server/delivery.ts";
import { parseResumeToken } from "../../lib/protocol/resume_token.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { zeroDeliveryCounters } from "../../lib/server/session.ts";

function books(): Delivery<string> {
  const stats = zeroDeliveryCounters();
  const options = resolveDelivery({}) as Required<DeliveryOptions>;
  return new Delivery<string>(options, new VirtualClock(), { loss() {}, ack() {} }, stats);
}

Deno.test("Session: an idle session shares the empty buffer and keeps no channel set", () => {
  const d = books();
  const { session } = d.attach("u", "c", "conn", 0);
  assert.equal(session.buffer, NO_MESSAGES);
  assert.ok(Object.isFrozen(NO_MESSAGES));
  assert.equal(session.keepsChannels, false);
  d.detach(session, "conn");
  assert.equal(session.buffer, NO_MESSAGES);
  assert.equal(session.keepsChannels, false);
});

Deno.test("Session: the first message gets a buffer of its own; emptied, it shares again", () => {
  const d = books();
  const a = d.attach("u", "c", "a", 0).session;
  const b = d.attach("u", "c2", "b", 0).session;
  d.account(a, d.sequence(a, ["t/x", 1]), 10);
  assert.notEqual(a.buffer, NO_MESSAGES);
  assert.deepEqual(a.buffer.map((m) => m.seq), [1]);
  assert.equal(b.buffer, NO_MESSAGES); // nothing reached the other session
  assert.equal(NO_MESSAGES.length, 0);
  d.acked(a, 1);
  assert.equal(a.buffer, NO_MESSAGES);
  d.account(a, d.sequence(a, ["t/x", 2]), 10); // numbering goes on after the swap back
  assert.deepEqual(a.buffer.map((m) => m.seq), [2]);
});

Deno.test("Session keeps a 16-hex id as two words and writes it back; any other id as it is", () => {
  const s = new Session<string>("u", "c", "0123456789abcdef");
  assert.equal(s.id, "0123456789abcdef");
  assert.equal(s.idHi, 0x01234567);
  assert.equal(s.idLo, 0x89abcdef | 0);
  assert.equal(parseResumeToken(s.rotate(null))!.sessionId, "0123456789abcdef");
  const other = new Session<string>("u", "c", "store-7");
  assert.equal(other.id, "store-7");
  const drawn = new Session<string>("u", "c", 0x01234567, 0x89abcdef | 0); // a fresh id's words
  assert.equal(drawn.id, "0123456789abcdef");
  assert.equal(parseResumeToken(drawn.rotate(null))!.sessionId, "0123456789abcdef");
});

Deno.test("Delivery.attach() draws a fresh 16-hex session id and a new 32-hex secret per attach", () => {
  const d = books();
  const first = d.attach("u", "c", "conn", 0);
  const token = parseResumeToken(first.state.token!)!;
  assert.match(token.sessionId, /^[0-9a-f]{16}$/);
  assert.equal(token.sessionId, first.session.id);
  assert.equal(d.session(token.sessionId), first.session);
  d.detach(first.session, "conn");
  const again = d.attach("u", "c", "conn2", 0, first.state.token!);
  const next = parseResumeToken(again.state.token!)!;
  assert.equal(again.session, first.session);
  assert.equal(next.sessionId, token.sessionId);
  assert.notEqual(next.secret, token.secret);
});

Deno.test("Session fields read their defaults until written, and keep what is written", () => {
  const s = new Session<string>("u", "c", "ffffffffffffffff");
  assert.deepEqual(
    [s.outSeq, s.inAck, s.bytes, s.counted, s.bucket, s.index, s.lostThrough, s.expired],
    [0, 0, 0, 0, -1, null, 0, false],
  );
  assert.equal(s.buffer, NO_MESSAGES);
  assert.equal(s.timer, undefined);
  s.outSeq = 3;
  s.expired = true;
  s.unacked = 2;
  assert.deepEqual([s.outSeq, s.expired, s.unacked, s.inAck], [3, true, 2, 0]);
  s.outSeq = 0;
  assert.equal(s.outSeq, 0);
});

Deno.test("Session.channels is made on first use and dropped with dropChannels()", () => {
  const s = new Session<string>("u", "c", "0123456789abcdef");
  assert.equal(s.keepsChannels, false);
  s.channels.add("room");
  assert.equal(s.keepsChannels, true);
  assert.deepEqual([...s.channels], ["room"]);
  s.dropChannels();
  assert.equal(s.keepsChannels, false);
  assert.equal(s.channels.size, 0);
});

Deno.test("Session.opens() takes the last secret and the one presented for it, nothing else", () => {
  const s = new Session<string>("u", "c", "0123456789abcdef");
  const first = parseResumeToken(s.rotate(null))!;
  // The presented secret arrives as a slice of a longer header string.
  const header = `sente-lite, sente-lite.resume.${s.id}${first.secret}`;
  const presented = header.slice(header.length - first.secret.length);
  const second = parseResumeToken(s.rotate(presented))!;
  assert.equal(second.sessionId, s.id);
  assert.ok(s.opens("u", "c", second.secret));
  assert.ok(s.opens("u", "c", first.secret));
  assert.ok(!s.opens("u", "other", second.secret));
  assert.ok(!s.opens("u", "c", "0".repeat(32)));
  s.rotate(second.secret);
  assert.ok(!s.opens("u", "c", first.secret)); // two rotations later: gone
});

Deno.test("Delivery.hold() reaches every away session of a uid as it gains and loses sessions", () => {
  const clock = new VirtualClock();
  const stats = zeroDeliveryCounters();
  const options = resolveDelivery({ ttlMs: 1000 }) as Required<DeliveryOptions>;
  const d = new Delivery<string>(options, clock, { loss() {}, ack() {} }, stats);
  const a = d.attach("u", "c1", "a", 0).session;
  d.detach(a, "a");
  assert.equal(d.hold("u", ["t/x", 1], 0), 1); // one session: held there, not offline
  clock.tick(500);
  const b = d.attach("u", "c2", "b", 0).session;
  d.detach(b, "b");
  assert.equal(d.hold("u", ["t/x", 2], 0), 2);
  clock.tick(600); // a expires, b does not
  assert.equal(d.hold("u", ["t/x", 3], 0), 1);
  assert.deepEqual(b.buffer.map((m) => m.seq), [1, 2]);
  const c = d.attach("u", "c3", "c", 0).session;
  d.detach(c, "c");
  assert.equal(d.hold("u", ["t/x", 4], 0), 2);
  clock.tick(2000); // all expire: the next send waits offline
  assert.equal(d.hold("u", ["t/x", 5], 0), 1);
  assert.equal(d.offlineUids, 1);
  assert.deepEqual(c.buffer, []);
});
