/**
 * `rateLimit.presenceJoinsPerIp` under attack on real sockets (docs/security.md): a client
 * allowed only to subscribe toggles its subscription to a presence channel; each join and each
 * leave is a push to every other subscriber. At the frame rate limit (2000 frames/s) that was
 * 2000 × subscribers pushes per second from one connection (measured: 2000 frames → 400,000
 * pushes to 200 listeners, 14 s of delivery). Now joins to presence channels are budgeted per
 * client IP: past it the subscribe is answered `rate-limited`, and the listeners (another
 * address, with its own budget) get a bounded number of presence pushes.
 */
import assert from "node:assert/strict";
import { createServer } from "../../lib/server/server.ts";
import { RawPeer } from "../_peer.ts";
import { serveAsTestIp, until } from "../_server.ts";

const LISTENERS = 5;
const TOGGLES = 60;
const BURST = 10;

Deno.test("rateLimit.presenceJoinsPerIp: subscribe/unsubscribe in a loop on a presence channel is refused past the IP's budget", async () => {
  const server = createServer({
    onError: () => {},
    presence: ["room"],
    rateLimit: { presenceJoinsPerIp: { perSecond: 1, burst: BURST } },
  });
  const { http } = serveAsTestIp(server);
  const peers: RawPeer[] = [];
  async function open(ip: string): Promise<[RawPeer, string]> {
    const u = new URL(`ws://127.0.0.1:${http.addr.port}/chsk`);
    u.searchParams.set("client-id", crypto.randomUUID());
    u.searchParams.set("packer", "json");
    u.searchParams.set("test-ip", ip);
    const peer = new RawPeer(u.href);
    peers.push(peer);
    await peer.opened;
    const [[, [, , data]]] = await peer.nextJson() as [
      [string, [string, null, { "sente-lite": { "conn-id": string } }]],
    ];
    return [peer, data["sente-lite"]["conn-id"]];
  }
  try {
    const pushes: number[] = [];
    let attacker = "(not yet)"; // its connection id: the listeners count its joins and leaves
    for (let i = 0; i < LISTENERS; i++) {
      const [l] = await open("192.0.2.10");
      l.send(`[["sente-lite/subscribe",{"channel-id":"room"}],"s"]`);
      assert.match(await l.next(), /"success":true/);
      pushes.push(0);
      l.ws.addEventListener("message", (e) => {
        const text = String(e.data);
        if (text.includes(`"sente-lite/presence"`) && text.includes(attacker)) pushes[i]++;
      });
    }
    const started = Date.now();
    const [atk, id] = await open("198.51.100.66");
    attacker = `"${id}"`;
    const answers: string[] = [];
    atk.ws.addEventListener("message", (e) => {
      const [value, cb] = JSON.parse(String(e.data));
      if (cb === "a") answers.push(value.success ? "ok" : value.error);
    });
    for (let i = 0; i < TOGGLES; i++) {
      atk.send(`[["sente-lite/subscribe",{"channel-id":"room"}],"a"]`);
      atk.send(`[["sente-lite/unsubscribe",{"channel-id":"room"}],"u"]`);
    }
    await until(() => answers.length === TOGGLES, "every subscribe answered");
    const seconds = Math.ceil((Date.now() - started) / 1000);
    const joined = answers.filter((a) => a === "ok").length;
    assert.ok(joined >= BURST && joined <= BURST + seconds, `joined ${joined} of ${TOGGLES}`);
    assert.ok(answers.every((a) => a === "ok" || a === "rate-limited"));
    assert.equal(server.stats().errors["rate-limited"], TOGGLES - joined);
    // Each listener got one join and one leave per accepted subscribe, no more.
    await until(() => pushes.every((n) => n === 2 * joined), "the presence pushes");
  } finally {
    for (const p of peers) p.ws.close();
    server.closeAll();
    await http.shutdown();
  }
});
