import assert from "node:assert/strict";
import { IpMessageRates } from "../../lib/server/ip_message_rate.ts";
import { resolveServerOptions } from "../../lib/server/options.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { type RawPeer, rawPeer } from "../_peer.ts";
import { startServer } from "../_server.ts";

Deno.test("IpMessageRates: one bucket per IP (IPv6 by its /64), kept past the last close until refilled", () => {
  const clock = new VirtualClock();
  const rates = new IpMessageRates({ perSecond: 10, burst: 3 }, clock, 2);
  assert.equal(rates.join(null), null);
  const a = rates.join("192.0.2.1")!;
  const b = rates.join("192.0.2.1")!;
  assert.equal(a, b);
  assert.ok(a.take() && b.take() && a.take());
  assert.equal(b.take(), false); // the IP's three are spent, whichever connection sent them
  assert.equal(rates.join("2001:db8:1:2::5"), rates.join("2001:db8:1:2::9")); // one /64
  rates.leave("192.0.2.1");
  rates.leave("192.0.2.1");
  // Every connection closed, the bucket still empty: a reconnect gets it back, not a fresh one.
  const again = rates.join("192.0.2.1")!;
  assert.equal(again, a);
  assert.equal(again.take(), false);
  rates.leave("192.0.2.1");
  clock.tick(1000); // refilled: dropped at the next open or close
  rates.join("198.51.100.7");
  assert.equal(rates.size, 2); // 198.51.100.7 and the /64; 192.0.2.1 refilled and went
  // Idle IPs are bounded: the least recently left go first.
  for (const ip of ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) {
    const bucket = rates.join(ip)!;
    bucket.take();
    rates.leave(ip);
  }
  assert.equal(rates.size, 2 + 2);
  assert.throws(() => new IpMessageRates({ perSecond: 0, burst: 1 }, clock), RangeError);
});

Deno.test("rateLimit.messagesPerIp defaults to 20000/s, burst 40000", () => {
  const limits = resolveServerOptions().rateLimit;
  assert.ok(limits);
  assert.deepEqual(limits.messagesPerIp, { perSecond: 20_000, burst: 40_000 });
});

/** Sends `n` requests on `peer` and reads its `n` answers: how many were refused as over the rate. */
async function flood(peer: RawPeer, tag: string, n: number): Promise<number> {
  for (let i = 0; i < n; i++) peer.send(`[["t/echo",${i}],"${tag}${i}"]`);
  let refused = 0;
  for (let i = 0; i < n; i++) {
    const frame = await peer.next(10_000);
    if (frame.includes('"code":"rate-limited"')) refused++;
    else assert.match(frame, new RegExp(`^\\[\\d+,"${tag}\\d+"\\]$`));
  }
  return refused;
}

Deno.test("attack: many connections from one IP, each under its own rate, are held to the IP's rate together", async () => {
  let handled = 0;
  await using t = await startServer({
    rateLimit: {
      messages: { perSecond: 1_000_000, burst: 1_000_000 }, // no connection is over its own rate
      messagesPerIp: { perSecond: 1, burst: 100 },
      maxViolations: 1_000_000,
    },
  });
  t.server.on("t/echo", (msg) => (handled++, msg.data));
  const peers = await Promise.all(Array.from({ length: 4 }, () => rawPeer(t.url)));
  const refused = await Promise.all(peers.map(({ peer }, i) => flood(peer, `p${i}-`, 100)));
  const total = refused.reduce((a, b) => a + b, 0);
  // 400 requests from 127.0.0.1: the IP's 100, and a token a second of refill.
  assert.ok(handled >= 100 && handled <= 110, `${handled} handled`);
  assert.equal(handled + total, 400);
  // Closing every connection and coming back buys no fresh budget.
  await Promise.all(peers.map(({ peer }) => peer.close()));
  const { peer } = await rawPeer(t.url);
  const before = handled;
  const refusedAgain = await flood(peer, "again-", 20);
  assert.ok(
    handled - before <= 10 && refusedAgain >= 10,
    `${handled - before} handled after reconnecting`,
  );
  await peer.close();
});

Deno.test("messagesPerIp: false leaves only the per-connection rate", async () => {
  let handled = 0;
  await using t = await startServer({
    rateLimit: { messages: { perSecond: 1_000_000, burst: 1_000_000 }, messagesPerIp: false },
  });
  t.server.on("t/echo", (msg) => (handled++, msg.data));
  const peers = await Promise.all(Array.from({ length: 4 }, () => rawPeer(t.url)));
  const refused = await Promise.all(peers.map(({ peer }, i) => flood(peer, `p${i}-`, 100)));
  assert.deepEqual(refused, [0, 0, 0, 0]);
  assert.equal(handled, 400);
  await Promise.all(peers.map(({ peer }) => peer.close()));
});
