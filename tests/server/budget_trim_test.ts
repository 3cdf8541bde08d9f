/**
 * Unit tests of lib/server/budget_trim.ts over hand-made books: the largest buffer away loses its
 * oldest messages first, each buffer reports its loss once, connected sessions only as a last resort.
 */
import assert from "node:assert/strict";
import { type BudgetBooks, trimToBudget } from "../../lib/server/budget_trim.ts";
import { type Held, SizeIndex } from "../../lib/server/delivery_budget.ts";
import { ENTRY_BYTES } from "../../lib/server/delivery_options.ts";
import { emptyOfflineBuffer, type OfflineBuffer } from "../../lib/server/offline.ts";
import { type Buffered, NO_MESSAGES, Session } from "../../lib/server/session.ts";

type Loss = [reason: string, uid: string, clientId: string | null, dropped: number];

/** Books kept the way `Delivery` keeps them: the total and the size index follow every change. */
function books() {
  let total = 0;
  const away = new SizeIndex<Held>();
  const sessions: Session<string>[] = [];
  const losses: Loss[] = [];
  const b: BudgetBooks<string> = {
    total: () => total,
    away,
    sessions: () => sessions,
    sync(h) {
      total += h.bytes - h.counted;
      h.counted = h.bytes;
      if (!(h instanceof Session) || h.conn === null) away.place(h);
      else away.remove(h);
    },
    clear(s) {
      s.buffer = NO_MESSAGES;
      s.bytes = 0;
      b.sync(s);
    },
    lose: (reason, uid, clientId, dropped) => void losses.push([reason, uid, clientId, dropped]),
  };
  /** A session of `uid` holding `count` messages of `bytes` each, connected to `conn` or away. */
  const session = (uid: string, count: number, bytes: number, conn: string | null = null) => {
    const s = new Session<string>(uid, `${uid}-client`, sessions.length + 1, sessions.length + 1);
    s.conn = conn;
    const buffer: Buffered[] = [];
    for (let i = 1; i <= count; i++) buffer.push({ seq: i, event: ["t/n", i], bytes, at: 0 });
    s.buffer = buffer;
    s.outSeq = count;
    s.bytes = count * (bytes + ENTRY_BYTES);
    sessions.push(s);
    b.sync(s);
    return s;
  };
  /** An offline buffer of `uid` holding `count` messages of `bytes` each. */
  const offline = (uid: string, count: number, bytes: number): OfflineBuffer => {
    const messages: Buffered[] = [];
    for (let i = 0; i < count; i++) messages.push({ seq: 0, event: ["t/n", i], bytes, at: 0 });
    const buf = emptyOfflineBuffer(uid);
    buf.messages = messages;
    buf.bytes = count * (bytes + ENTRY_BYTES);
    b.sync(buf);
    return buf;
  };
  return { b, total: () => total, losses, session, offline };
}

Deno.test("trimToBudget() drops the oldest messages of the largest buffer away, one loss report each", () => {
  const { b, total, losses, session, offline } = books();
  const small = session("alice", 2, 100);
  const big = session("mallory", 10, 1000);
  const buf = offline("bob", 2, 100);
  const before = total();
  trimToBudget(b, before - 2000); // two of mallory's messages cover it
  assert.ok(total() <= before - 2000);
  assert.deepEqual(big.buffer.map((m) => m.seq), [3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(big.lostThrough, 2);
  assert.equal(small.buffer.length, 2);
  assert.equal(buf.messages.length, 2);
  assert.deepEqual(losses, [["overflow", "mallory", "mallory-client", 2]]);
});

Deno.test("trimToBudget() trims an offline buffer as overflow told to the uid's next connection", () => {
  const { b, losses, offline } = books();
  const buf = offline("bob", 5, 1000);
  trimToBudget(b, 3 * (1000 + ENTRY_BYTES));
  assert.equal(buf.messages.length, 3);
  assert.equal(buf.overflow, 2);
  assert.deepEqual(losses, [["overflow", "bob", null, 2]]);
});

Deno.test("trimToBudget() clears connected sessions only when nothing away is left, down to 7/8, no loss", () => {
  const { b, total, losses, session } = books();
  const away = session("alice", 1, 100);
  const large = session("carol", 10, 1000, "c1");
  const small = session("dave", 2, 1000, "d1");
  const max = total() - away.bytes - 1; // over even without alice's buffer
  trimToBudget(b, max);
  assert.equal(away.buffer.length, 0); // what was away went first
  assert.equal(large.buffer.length, 0); // then the largest connected one, whole
  assert.equal(large.lostThrough, 10); // a resume without them finds an overflow gap
  assert.equal(small.buffer.length, 2); // 7/8 of the budget reached before it
  assert.ok(total() <= max - Math.floor(max / 8));
  assert.deepEqual(losses, [["overflow", "alice", "alice-client", 1]]); // connected: no loss now
});
