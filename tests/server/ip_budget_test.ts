/**
 * Per-IP budgets of inflated bytes: unit tests of the bounded map, and the attack through real
 * sockets (an attacker reconnecting to get a fresh byte burst on every connection).
 */
import assert from "node:assert/strict";
import { IpBudget, ipKey } from "../../lib/server/ip_budget.ts";
import { TokenBucket } from "../../lib/server/rate_limit.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { rawPeer } from "../_peer.ts";
import { startServer } from "../_server.ts";
import { createServer } from "../../lib/server/server.ts";
import { compress } from "../../lib/wire/compression.ts";
import { FLAG_DEFLATE_RAW } from "../../lib/wire/flags.ts";

const RATE = { perSecond: 1000, burst: 4000 };

Deno.test("IpBudget: one bucket per IP, shared by its connections and charged by theirs", () => {
  const clock = new VirtualClock();
  const budget = new IpBudget(RATE, clock);
  assert.equal(budget.forIp(null), undefined);
  // A connection's byte bucket charges its IP's alongside; a new connection sees the IP's debt.
  const conn = { perSecond: 1000, burst: 100_000 };
  const conn1 = new TokenBucket(conn, clock, budget.forIp("10.0.0.1"));
  assert.equal(conn1.charge(5000), false, "the IP is in debt, the connection is not");
  assert.equal(budget.tokens("10.0.0.1"), -1000);
  const conn2 = new TokenBucket(conn, clock, budget.forIp("10.0.0.1"));
  assert.equal(conn2.charge(0), false, "a fresh connection of the same IP is in debt too");
  assert.equal(new TokenBucket(conn, clock, budget.forIp("10.0.0.2")).charge(0), true);
  assert.equal(conn2.take(50_000), true, "take (raw frame bytes) does not look at the IP");
  clock.tick(1001); // the IP's debt of 1000 is paid back
  assert.equal(conn2.charge(0), true);
});

Deno.test("IpBudget: entries are dropped once refilled, and never more than maxIps are kept", () => {
  const clock = new VirtualClock();
  const budget = new IpBudget(RATE, clock, 3);
  for (let i = 0; i < 10; i++) budget.charge(`10.0.0.${i}`, 100);
  assert.equal(budget.size, 3, "least recently charged dropped");
  budget.charge("10.0.0.9", 5000);
  clock.tick(1000); // every bucket refilled but 10.0.0.9's
  budget.charge("10.0.1.1", 0);
  assert.equal(budget.size, 1, "refilled entries dropped on the next charge");
  assert.ok(budget.tokens("10.0.0.9") < RATE.burst, "an IP in debt is kept");
  assert.throws(() => new IpBudget({ perSecond: 0, burst: 1 }, clock), RangeError);
  assert.throws(() => new IpBudget(RATE, clock, 0), RangeError);
  const bad = { rateLimit: { bytesPerIp: { perSecond: -1, burst: 10 } } };
  assert.throws(() => createServer(bad), RangeError, "checked when the server is made");
});

Deno.test("ipKey: IPv4 as is, IPv6 by its /64 (a host's usual block), IPv4-mapped as IPv4", () => {
  assert.equal(ipKey("192.0.2.7"), "192.0.2.7");
  assert.equal(ipKey("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(ipKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(ipKey("2001:DB8:1:2:bbbb:cccc:dddd:eeee"), "2001:db8:1:2::/64");
  assert.equal(ipKey("[2001:db8::1%eth0]"), "2001:db8:0:0::/64");
  assert.equal(ipKey("::1"), "0:0:0:0::/64");
  assert.equal(ipKey("2001:0db8:0000:00a0:1::1"), "2001:db8:0:a0::/64", "leading zeros");
  assert.equal(ipKey("2001:db8:1::1"), "2001:db8:1:0::/64", "`::` inside the /64");
  assert.equal(ipKey("2001:db8:1:2::"), "2001:db8:1:2::/64");
  assert.equal(ipKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(ipKey("2001:db8:1:2%eth0"), "2001:db8:1:2::/64");
  // The fast path and the parser agree on every form the fast path takes.
  for (let i = 0; i < 2000; i++) {
    const groups = Array.from({ length: 8 }, () => {
      const n = Math.floor(Math.random() ** 3 * 0x10000);
      return n.toString(16).padStart(1 + Math.floor(Math.random() * 4), "0").slice(-4);
    });
    const full = groups.join(":");
    const want = `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
    assert.equal(ipKey(full), want, full);
    assert.equal(ipKey(full.toUpperCase()), want, full.toUpperCase());
    assert.equal(ipKey(`[${full}]`), want);
  }
  const budget = new IpBudget(RATE, new VirtualClock());
  budget.forIp("2001:db8:1:2::1")!.charge(5000, 0);
  assert.equal(budget.forIp("2001:db8:1:2::99")!.charge(0, 0), false, "same /64, same budget");
  assert.equal(budget.forIp("2001:db8:1:3::1")!.charge(0, 0), true);
});

/** A compressed frame of `[["test/echo","aaa…"],cbId]`: about 600 bytes that inflate to 600 kB. */
async function bomb(cbId: string): Promise<Uint8Array> {
  const event = `[["test/echo","${"a".repeat(600_000)}"],"${cbId}"]`;
  const body = await compress(new TextEncoder().encode(event), "deflate-raw");
  const frame = new Uint8Array(body.byteLength + 1);
  frame[0] = FLAG_DEFLATE_RAW;
  frame.set(body, 1);
  return frame;
}

Deno.test("reconnecting does not buy a fresh budget: the IP's inflated bytes are bounded across connections", async () => {
  await using t = await startServer({
    rateLimit: { bytesPerIp: { perSecond: 1, burst: 2_000_000 } }, // connection budgets: default
  });
  t.server.on("test/echo", () => "ok");
  const answers: string[] = [];
  // Each connection sends ONE compressed frame (far under its own 32 MiB burst), then leaves.
  for (let i = 0; i < 8; i++) {
    const { peer } = await rawPeer(`${t.url}?wire=compression:deflate-raw`);
    peer.send(await bomb(`c${i}`));
    const answer = await peer.next(10_000);
    answers.push(answer.includes('"rate-limited"') ? "refused" : answer);
    await peer.close();
  }
  // 2 MB of burst: four 600 kB messages (the fourth starts before the debt, and completes).
  assert.deepEqual(answers.slice(0, 4), [
    '["ok","c0"]',
    '["ok","c1"]',
    '["ok","c2"]',
    '["ok","c3"]',
  ]);
  assert.deepEqual(answers.slice(4), ["refused", "refused", "refused", "refused"]);
  // The IP budget counts inflation only: a plain client from the same IP is served.
  const { peer: plain } = await rawPeer(t.url);
  plain.send(`[["test/echo","hi"],"p1"]`);
  assert.equal(await plain.next(10_000), '["ok","p1"]');
  await plain.close();
});
