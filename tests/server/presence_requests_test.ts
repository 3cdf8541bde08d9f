/**
 * `sente-lite/presence` requests under attack on real sockets (docs/security.md): a subscriber
 * of a presence channel asks for its member list in a loop; each small request is answered with
 * every member of the channel (on every node), so it cost the server O(members) per frame at the
 * frame rate (measured: 100 requests, 100 lists of 51 members: 5100 members listed; 2000 requests
 * a second from one connection). Now a member list takes one token of
 * `rateLimit.presenceJoinsPerIp`, the budget of the other O(members) presence operation: past it
 * the request is answered `rate-limited`. A non-subscriber's request is refused before any list
 * is made.
 */
import assert from "node:assert/strict";
import { createServer } from "../../lib/server/server.ts";
import { peerAt, type RawPeer } from "../_peer.ts";
import { serveAsTestIp, until } from "../_server.ts";

const MEMBERS = 50;
const REQUESTS = 100;
const BURST = 10;

Deno.test("rateLimit.presenceJoinsPerIp: member lists count against the IP's presence budget", async () => {
  const server = createServer({
    onError: () => {},
    presence: ["room"],
    rateLimit: { presenceJoinsPerIp: { perSecond: 1, burst: BURST } },
  });
  const { http, base } = serveAsTestIp(server);
  const peers: RawPeer[] = [];
  async function open(ip: string): Promise<RawPeer> {
    const peer = peerAt(base, ip);
    peers.push(peer);
    await peer.opened;
    await peer.next(); // the handshake
    return peer;
  }
  try {
    for (let i = 0; i < MEMBERS; i++) {
      const m = await open(`192.0.2.${10 + (i % 200)}`);
      m.send(`[["sente-lite/subscribe",{"channel-id":"room"}],"s"]`);
      assert.match(await m.next(), /"success":true/);
    }
    const started = Date.now();
    const atk = await open("198.51.100.66");
    const answers: string[] = [];
    let listed = 0;
    atk.ws.addEventListener("message", (e) => {
      const [value, cb] = JSON.parse(String(e.data));
      if (cb !== "p") return;
      answers.push(value.success ? "ok" : value.error);
      listed += value.members?.length ?? 0;
    });
    atk.send(`[["sente-lite/subscribe",{"channel-id":"room"}],"s"]`);
    for (let i = 0; i < REQUESTS; i++) {
      atk.send(`[["sente-lite/presence",{"channel-id":"room"}],"p"]`);
    }
    await until(() => answers.length === REQUESTS, "every request answered");
    const seconds = Math.ceil((Date.now() - started) / 1000);
    const lists = answers.filter((a) => a === "ok").length;
    assert.ok(lists <= BURST + seconds, `${lists} member lists (${listed} members) of ${REQUESTS}`);
    assert.ok(answers.every((a) => a === "ok" || a === "rate-limited"));
  } finally {
    for (const p of peers) p.ws.close();
    server.closeAll();
    await http.shutdown();
  }
});
