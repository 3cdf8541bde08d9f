/**
 * `rateLimit.upgradesPerIp` under attack on real sockets (docs/security.md): one address reconnects
 * in a loop. Each upgrade costs a handshake (and, on a resume, a replay of up to
 * `delivery.maxReplayBytes`); nothing limited how often one address did it (measured: 40 of 40
 * upgrades in a tight loop completed). Now past the IP's budget the upgrade is answered 429 with
 * `Retry-After` before any WebSocket work; other addresses keep theirs, and an IPv6 host's
 * neighbours in its /64 share its budget.
 */
import assert from "node:assert/strict";
import { createServer } from "../../lib/server/server.ts";
import type { ServerContext } from "../../lib/server/context.ts";
import { UpgradeRate } from "../../lib/server/upgrade_rate.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { serveAsTestIp } from "../_server.ts";
import { rawUpgrade } from "./_raw_upgrade.ts";

const BURST = 5;
const ATTEMPTS = 40;

/** One upgrade over raw TCP from `ip`: the status and the `Retry-After` header of the answer. */
async function upgrade(
  port: number,
  ip: string,
): Promise<{ status: number; retryAfter: string | null }> {
  const { status, head, conn } = await rawUpgrade(port, `&test-ip=${encodeURIComponent(ip)}`);
  conn.close();
  return { status, retryAfter: /\r\nretry-after: *(\S+)/i.exec(head)?.[1] ?? null };
}

Deno.test("rateLimit.upgradesPerIp: one address reconnecting in a loop gets 429 with Retry-After past its budget", async () => {
  const server = createServer({
    onError: () => {},
    delivery: {},
    rateLimit: { upgradesPerIp: { perSecond: 0.5, burst: BURST } },
  });
  const { http } = serveAsTestIp(server);
  const port = http.addr.port;
  try {
    const answers = [];
    for (let i = 0; i < ATTEMPTS; i++) answers.push(await upgrade(port, "198.51.100.66"));
    const upgraded = answers.filter((a) => a.status === 101).length;
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(upgraded, BURST, `upgraded ${upgraded} of ${ATTEMPTS}`);
    assert.equal(refused.length, ATTEMPTS - BURST);
    for (const r of refused) assert.ok(Number(r.retryAfter) >= 1, `Retry-After ${r.retryAfter}`);
    assert.equal(server.stats().errors["too-many-upgrades"], ATTEMPTS - BURST);

    // Another address keeps its own budget.
    assert.equal((await upgrade(port, "192.0.2.10")).status, 101);
    // An IPv6 host's /64 is one budget: fresh addresses in it buy nothing.
    for (let i = 1; i <= BURST; i++) {
      assert.equal((await upgrade(port, `2001:db8:1:2::${i}`)).status, 101);
    }
    assert.equal((await upgrade(port, "2001:db8:1:2::ffff")).status, 429);
    assert.equal((await upgrade(port, "2001:db8:1:3::1")).status, 101);
  } finally {
    server.closeAll();
    await http.shutdown();
  }
});

Deno.test("rateLimit.upgradesPerIp: Retry-After is when the next upgrade passes", () => {
  const clock = new VirtualClock();
  const counted: string[] = [];
  const ctx = {
    options: { rateLimit: { upgradesPerIp: { perSecond: 0.25, burst: 2 } } },
    clock,
    count: (code: string) => counted.push(code),
    tel: { event: () => {} },
  } as unknown as ServerContext;
  const rate = new UpgradeRate(ctx);
  assert.equal(rate.take("192.0.2.1"), 0);
  assert.equal(rate.take("192.0.2.1"), 0);
  const retryAfter = rate.take("192.0.2.1");
  assert.equal(retryAfter, 4, "one upgrade every 4 s");
  clock.tick(retryAfter * 1000 - 1);
  assert.ok(rate.take("192.0.2.1") > 0, "not before Retry-After");
  clock.tick(1);
  assert.equal(rate.take("192.0.2.1"), 0, "at Retry-After");
  assert.deepEqual(counted, ["too-many-upgrades", "too-many-upgrades"]);
  assert.equal(rate.take(null), 0, "an unknown address is not limited");
  const off = { ...ctx, options: { rateLimit: false } } as unknown as ServerContext;
  for (let i = 0; i < 10; i++) assert.equal(new UpgradeRate(off).take("192.0.2.1"), 0);
});
