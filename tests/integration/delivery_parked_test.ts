/**
 * `delivery.maxParkedPerIp` under attack, on real sockets (docs/delivery.md "Memory"): an honest
 * client parks a resume session; a peer on another IP opens resume connections with fresh client
 * ids one after another (one at a time, so no per-IP connection cap bites) until it has parked more
 * sessions than `maxSessions`. Without the cap, `maxSessions` evicts the least recently used
 * session of anybody: the honest client's, which comes back `resumed: false` with an `unknown`
 * gap. With it, the attacker only evicts its own oldest parked sessions, each loss reported as
 * `evicted`, and the honest client resumes with all its messages.
 *
 * Both peers are 127.0.0.1 here: the test serves through `server.handler(request, info)` (what an
 * application behind a proxy does with the forwarded address) and takes the address from a test
 * query parameter.
 */
import assert from "node:assert/strict";
import type { ResumeState } from "../../lib/protocol/handshake.ts";
import type { DeliveryLoss } from "../../lib/server/delivery.ts";
import { createServer } from "../../lib/server/server.ts";
import { type RawPeer, resumingPeer } from "../_peer.ts";
import { serveAsTestIp, until } from "../_server.ts";

const MAX_SESSIONS = 16;
const CAP = 4;
const CHURN = 3 * MAX_SESSIONS;
const HONEST_IP = "192.0.2.10";
const ATTACKER_IP = "198.51.100.66";

interface Opened {
  peer: RawPeer;
  connId: string;
  resume: ResumeState;
}

Deno.test("maxParkedPerIp: one IP churning fresh resume sessions cannot evict another IP's parked session", async () => {
  const losses: DeliveryLoss[] = [];
  const server = createServer({
    onError: () => {},
    authenticate: (request) => new URL(request.url).searchParams.get("uid"),
    delivery: { maxSessions: MAX_SESSIONS, maxParkedPerIp: CAP },
    onDeliveryLoss: (l) => losses.push(l),
  });
  const { http, base } = serveAsTestIp(server);
  const peers: RawPeer[] = [];

  /** Opens a sente-lite (JSON) raw peer from `ip` asking to resume, and reads its handshake. */
  async function open(ip: string, uid: string, clientId: string, token?: string): Promise<Opened> {
    const opened = await resumingPeer(base, { "client-id": clientId, uid, "test-ip": ip }, token);
    peers.push(opened.peer);
    return opened;
  }

  /** Opens and leaves; resolves once the server has parked the session. */
  async function park(ip: string, uid: string, clientId: string): Promise<Opened> {
    const o = await open(ip, uid, clientId);
    await o.peer.close();
    await until(() => server.stats().connections === 0, "the server-side close");
    return o;
  }

  try {
    const honest = await park(HONEST_IP, "alice", "alice-tab");
    for (let n = 1; n <= 5; n++) server.send("alice", "t/n", { n });
    for (let i = 0; i < CHURN; i++) {
      await park(ATTACKER_IP, "mallory", `churn-${i}-${crypto.randomUUID()}`);
      // Each parked attacker session keeps this: its eviction is a reported loss.
      server.send("mallory", "t/m", { i });
    }
    const back = await open(HONEST_IP, "alice", "alice-tab", honest.resume.token!);
    assert.equal(back.resume.resumed, true, `gap: ${JSON.stringify(back.resume.gap)}`);
    assert.equal(back.resume.gap, null);
    server.sendTo(back.connId, "t/end");
    const ns: number[] = [];
    for (let i = 0; i < 100; i++) {
      const [payload] = JSON.parse(await back.peer.next()) as [[string, unknown][]];
      const [id, data] = payload[0];
      const inner = id === "sente-lite/msg" ? (data as { event: [string, unknown] }).event : [id];
      if (inner[0] === "t/end") break;
      assert.equal(inner[0], "t/n");
      ns.push((inner[1] as { n: number }).n);
    }
    assert.deepEqual(ns, [1, 2, 3, 4, 5], "every message kept while away");
    // The attacker's evictions are its own, each reported as `evicted`.
    // The attacker's evictions are its own, oldest first, each reported as `evicted`: a session
    // parked at round i kept rounds i..i+CAP-1 until the session of round i+CAP evicted it.
    assert.deepEqual(
      losses.map((l) => [l.reason, l.uid, l.clientId!.split("-")[1], l.dropped]),
      Array.from({ length: CHURN - CAP }, (_, i) => ["evicted", "mallory", String(i), CAP]),
    );
    assert.equal(server.stats().offlineDropped, losses.reduce((n, l) => n + l.dropped, 0));
    await back.peer.close();
  } finally {
    for (const p of peers) p.ws.close();
    server.closeAll();
    await http.shutdown();
  }
});
