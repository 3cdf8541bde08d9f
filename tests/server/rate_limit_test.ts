import assert from "node:assert/strict";
import { TokenBucket } from "../../lib/server/rate_limit.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { rawPeer } from "../_peer.ts";
import { startServer } from "../_server.ts";

Deno.test("TokenBucket allows the burst, then the sustained rate, in virtual time", () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket({ perSecond: 10, burst: 5 }, clock);
  for (let i = 0; i < 5; i++) assert.ok(bucket.take(), `burst ${i}`);
  assert.equal(bucket.take(), false);
  clock.tick(100); // one token
  assert.ok(bucket.take());
  assert.equal(bucket.take(), false);
  clock.tick(10_000); // refills to the burst, not beyond
  let n = 0;
  while (bucket.take()) n++;
  assert.equal(n, 5);
});

Deno.test("TokenBucket lets one item larger than the burst through only when full", () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket({ perSecond: 100, burst: 100 }, clock);
  assert.ok(bucket.take(1000));
  assert.equal(bucket.take(1000), false);
  clock.tick(1000);
  assert.ok(bucket.take(1000));
});

Deno.test("TokenBucket rejects nonsensical rates with RangeError", () => {
  const clock = new VirtualClock();
  assert.throws(() => new TokenBucket({ perSecond: 0, burst: 1 }, clock), RangeError);
  assert.throws(() => new TokenBucket({ perSecond: 1, burst: 0 }, clock), RangeError);
});

Deno.test("TokenBucket.charge() takes work already done into debt; take() refuses until repaid", () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket({ perSecond: 100, burst: 100 }, clock);
  assert.ok(bucket.charge(60));
  assert.equal(bucket.charge(60), false, "in debt");
  assert.equal(bucket.tokens, -20);
  assert.equal(bucket.take(1), false);
  clock.tick(200); // +20: debt repaid, nothing left
  assert.equal(bucket.take(1), false);
  clock.tick(10);
  assert.ok(bucket.take(1));
});

Deno.test("Hub closes a peer that sends at full speed with 4029, although a frame gets through per refill", async () => {
  const clock = new VirtualClock();
  let closed!: (code: number) => void;
  const closeCode = new Promise<number>((resolve) => closed = resolve);
  await using t = await startServer({
    clock,
    heartbeat: false,
    rateLimit: { messages: { perSecond: 1000, burst: 1 }, maxViolations: 20, backoffMs: 1000 },
    onClose: (_conn, code) => closed(code),
  });
  t.server.on("test/echo", (msg) => msg.data);
  const { peer } = await rawPeer(t.url);
  let rounds = 0;
  let closedWith: number | null = null;
  // Each round: the refilled token lets one frame through, the next two are refused. The old rule
  // (a frame accepted resets the count) never closed such a peer.
  for (; rounds < 30 && closedWith === null; rounds++) {
    for (let i = 0; i < 3; i++) peer.send(`[["test/echo",${i}],"r${rounds}-${i}"]`);
    try {
      for (let i = 0; i < 3; i++) await peer.next();
    } catch {
      closedWith = (await peer.closed()).code;
    }
    clock.tick(1); // one token
  }
  closedWith ??= await peer.closed(200).then((e) => e.code, () => null);
  assert.notEqual(closedWith, null, `still open after ${rounds} rounds`);
  assert.ok(rounds <= 12, `closed after ${rounds} rounds`);
  // The server closed it with 4029 (the peer may see an abnormal close: it was still sending).
  assert.equal(t.server.stats().errors["rate-limit-exceeded"], 1);
  assert.equal(await closeCode, 4029);
});

Deno.test("Hub forgives refusals once the peer backed off for backoffMs", async () => {
  const clock = new VirtualClock();
  await using t = await startServer({
    clock,
    heartbeat: false,
    rateLimit: { messages: { perSecond: 1000, burst: 1 }, maxViolations: 20, backoffMs: 1000 },
  });
  t.server.on("test/echo", (msg) => msg.data);
  const { peer } = await rawPeer(t.url);
  const burst = async (tag: string) => {
    // One accepted, 15 refused (under maxViolations 20 on their own, over it together).
    for (let i = 0; i < 16; i++) peer.send(`[["test/echo",${i}],"${tag}${i}"]`);
    assert.equal(await peer.next(), `[0,"${tag}0"]`);
    for (let i = 1; i < 16; i++) assert.match(await peer.next(), /"rate-limited"/);
  };
  await burst("a");
  clock.tick(1000); // backs off: the next accepted frame resets the count
  await burst("b");
  clock.tick(1000);
  peer.send(`[["test/echo","still"],"c"]`);
  assert.equal(await peer.next(), `["still","c"]`);
  await peer.close();
});
