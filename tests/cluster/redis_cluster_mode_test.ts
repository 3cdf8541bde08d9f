/**
 * Two server processes (one on Bun) on a real **Redis Cluster** (three masters,
 * tests/_redis_cluster.ts; missing tools: skipped locally, failed under CI=true): cross-node
 * send/sendTo/publish, then a node SIGKILLed while the other sends to a uid and a channel of its
 * client, which resumes on the survivor from the store: lost 0, duplicated 0, out of order 0.
 */
import assert from "node:assert/strict";
import { type Client, connect } from "../../client.ts";
import { IGNORE_REDIS_CLUSTER, startRedisCluster } from "../_redis_cluster.ts";
import { waitFor } from "../_util.ts";
import { audit, BUN, bunNode, ctl, EVENT_MS, type Peer, peer, startNode } from "./_cluster.ts";

Deno.test({
  name: "redis cluster mode: 2 processes on a Redis Cluster: cross-node APIs, SIGKILL, resume",
  ignore: IGNORE_REDIS_CLUSTER,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await startRedisCluster();
    const spec = `cluster=${redis.urls.join(",")}`;
    const nodes = await Promise.all([
      startNode("deno", spec, "rc1"),
      startNode(bunNode(), spec, "rc1"),
    ]);
    const peers: Peer[] = [];
    const clients: Client[] = [];
    try {
      if (BUN) assert.equal(nodes[1].runtime, "bun");
      const [alice, bob] = await Promise.all([peer(nodes[0], "alice"), peer(nodes[1], "bob")]);
      peers.push(alice, bob);
      await waitFor(
        async () => (await ctl<string[]>(alice, "uids")).includes("bob") ? true : undefined,
        "bob seen from A",
        { timeoutMs: EVENT_MS, intervalMs: 50 },
      );
      // send(uid) both ways, sendTo, a channel with a subscriber on each node.
      await ctl(alice, "send", { uid: "bob", id: "t/uid", data: "a→b" });
      await ctl(bob, "send", { uid: "alice", id: "t/uid", data: "b→a" });
      await bob.until("t/uid", (l) => l.length === 1, "send(uid) A→B");
      await alice.until("t/uid", (l) => l.length === 1, "send(uid) B→A");
      assert.equal(await ctl(bob, "sendTo", { connId: alice.connId, id: "t/to", data: 1 }), true);
      await alice.until("t/to", (l) => l.length === 1, "sendTo B→A");
      const room: unknown[][] = [[], []];
      await Promise.all(
        peers.map((p, i) => p.client.subscribe("room", (d) => void room[i].push(d))),
      );
      await alice.client.publish("room", "from-alice");
      await ctl(bob, "publish", { channel: "room", data: "from-B" });
      await waitFor(
        () => room.every((r) => r.length >= 2) ? true : undefined,
        `publishes on both nodes: ${JSON.stringify(room)}`,
        { timeoutMs: EVENT_MS, intervalMs: 10 },
      );
      for (const r of room) assert.deepEqual(r, ["from-alice", "from-B"]);

      // Resume across a node's death: carol on A, the stream from B; A is SIGKILLed mid-stream.
      let dead = false;
      const carol = connect(() => `${(dead ? nodes[1] : nodes[0]).url}?user=carol`, {
        onError: () => {},
        reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      });
      clients.push(carol);
      const byUid: number[] = [];
      const byChannel: number[] = [];
      carol.on("s/n", (n) => void byUid.push(n as number));
      await carol.ready;
      await carol.subscribe("feed", (n) => void byChannel.push(n as number));
      const COUNT = 80;
      await ctl(bob, "stream", { uids: ["carol"], channels: ["feed"], count: COUNT, everyMs: 15 });
      await waitFor(() => byUid.length >= 10 ? true : undefined, "stream reached carol", {
        timeoutMs: EVENT_MS,
        intervalMs: 10,
      });
      dead = true;
      await nodes[0].child.stop("SIGKILL");
      await waitFor(
        () => byUid.includes(COUNT) && byChannel.includes(COUNT) ? true : undefined,
        "carol's last messages after the move",
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      assert.deepEqual(audit(byUid, COUNT), { lost: 0, dup: 0, ooo: 0 }, `${byUid}`);
      assert.deepEqual(audit(byChannel, COUNT), { lost: 0, dup: 0, ooo: 0 }, `${byChannel}`);
      const stats = await ctl<{ resumed: number }>(bob, "stats");
      assert.ok(stats.resumed >= 1, "carol resumed on B");
      assert.equal(nodes[1].child.status, null, "node B alive");
    } finally {
      for (const c of clients) c.close();
      for (const p of peers) p.client.close();
      await Promise.all(nodes.map((n) => n.child.stop("SIGKILL")));
    }
  },
});
