/**
 * Order on a node of a cluster right after it starts (real redis-server, node processes): the
 * store's scripts are first called by a burst of numbered sends, so each call is still looking up
 * its script while the next ones are made; every recipient must get them in the order they were
 * made — a local uid, a uid on another node, and a channel's subscribers on both nodes.
 */
import assert from "node:assert/strict";
import { IGNORE_REDIS, startRedis } from "../_redis.ts";
import { waitFor } from "../_util.ts";
import {
  audit,
  bunNode,
  ctl,
  EVENT_MS,
  type Node,
  type Peer,
  peer,
  startNode,
} from "./_cluster.ts";

const COUNT = 200;

async function stopAll(nodes: Node[], peers: Peer[]): Promise<void> {
  for (const p of peers) p.client.close();
  await Promise.all(nodes.map((n) => n.child.stop("SIGKILL")));
}

/** Waits for `1…COUNT` on `list()` and checks they came in order, once each. */
async function inOrder(list: () => unknown[], what: string): Promise<void> {
  await waitFor(() => list().length >= COUNT ? true : undefined, `${what}: ${COUNT} arrived`, {
    timeoutMs: EVENT_MS,
    intervalMs: 10,
  });
  const got = list() as number[];
  assert.deepEqual(audit(got, COUNT), { lost: 0, dup: 0, ooo: 0 }, `${what}: ${got}`);
}

Deno.test({
  name:
    "cluster order: a burst of sends to a local uid right after the node started arrives in order",
  ignore: IGNORE_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await startRedis();
    const nodes = [await startNode("deno", redis.url, "o1")];
    const peers: Peer[] = [];
    try {
      const alice = await peer(nodes[0], "alice");
      peers.push(alice);
      await ctl(alice, "burst-n", { uid: "alice", count: COUNT });
      await inOrder(() => alice.of("s/n"), "alice (local)");
    } finally {
      await stopAll(nodes, peers);
    }
  },
});

Deno.test({
  name: "cluster order: a burst of sends to a uid on another node (Bun) arrives in order",
  ignore: IGNORE_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await startRedis();
    const nodes = await Promise.all([
      startNode("deno", redis.url, "o2"),
      startNode(bunNode(), redis.url, "o2"), // the sender on Bun
    ]);
    const peers: Peer[] = [];
    try {
      const [alice, bob] = await Promise.all([peer(nodes[0], "alice"), peer(nodes[1], "bob")]);
      peers.push(alice, bob);
      await waitFor(
        async () => (await ctl<string[]>(bob, "uids")).includes("alice") ? true : undefined,
        "B sees alice",
        { timeoutMs: EVENT_MS, intervalMs: 50 },
      );
      await ctl(bob, "burst-n", { uid: "alice", count: COUNT });
      await inOrder(() => alice.of("s/n"), "alice (from B)");
    } finally {
      await stopAll(nodes, peers);
    }
  },
});

Deno.test({
  name: "cluster order: a burst of channel publishes arrives in order on both nodes (one on Bun)",
  ignore: IGNORE_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await startRedis();
    const nodes = await Promise.all([
      startNode("deno", redis.url, "o3"),
      startNode(bunNode(), redis.url, "o3"),
    ]);
    const peers: Peer[] = [];
    try {
      const [alice, bob] = await Promise.all([peer(nodes[0], "alice"), peer(nodes[1], "bob")]);
      peers.push(alice, bob);
      const got: number[][] = [[], []];
      await Promise.all(
        peers.map((p, i) => p.client.subscribe("room", (d) => void got[i].push(d as number))),
      );
      await ctl(alice, "burst-n", { channel: "room", count: COUNT });
      await inOrder(() => got[0], "room on A");
      await inOrder(() => got[1], "room on B");
    } finally {
      await stopAll(nodes, peers);
    }
  },
});
