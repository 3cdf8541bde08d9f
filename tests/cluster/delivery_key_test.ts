/**
 * Exactly-once effects across a node's death with `msg.delivery.key` (docs/delivery.md), with
 * processes: a client sends numbered `c/k` events in bursts to node A (Deno); A's handler makes
 * each event's effect once per key (a file created with O_EXCL in a directory both nodes share: a
 * store's `SET NX`). A blocks for good right after handling one event mid-burst, before its Redis
 * client writes that turn's handled records (the window of docs/scaling.md, made certain), and is
 * SIGKILLed; the client resumes on node B (Bun when installed) and re-sends what A did not
 * acknowledge. B handles some events a second time — it must see the keys A saw, so each effect
 * exists once. With a key that differed between nodes those events would have two effects.
 */
import assert from "node:assert/strict";
import { IGNORE_REDIS, startRedis } from "../_redis.ts";
import { waitFor } from "../_util.ts";
import {
  assertEffectsOnce,
  bunNode,
  effects,
  failoverClient,
  handlings,
  startNode,
} from "./_cluster.ts";

Deno.test({
  name:
    "delivery key: a node dies between handling and recording; the next one sees the same keys, every effect once",
  ignore: IGNORE_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await startRedis();
    const fx = Deno.makeTempDirSync({ prefix: "sl-fx-" });
    const N = 200;
    const BURST = 25;
    const STALL = 110; // mid-burst: 101…125 arrive together
    const nodes = await Promise.all([
      startNode("deno", redis.url, "dk", `fx=${fx},stall=${STALL}`),
      startNode(bunNode(), redis.url, "dk", `fx=${fx}`),
    ]);
    const { client, handshakes, failOver } = failoverClient(nodes, "kim");
    try {
      await client.ready;
      const stalled = waitFor(
        () => handlings(nodes[0], "kim").some((h) => h.n === STALL) ? true : undefined,
        "A handled the stalling event",
        { timeoutMs: 10_000, intervalMs: 1 },
      ).then(() => {
        failOver();
        return nodes[0].child.stop("SIGKILL");
      });
      for (let n = 1; n <= N; n++) {
        client.send("c/k", n);
        if (n % BURST === 0) await new Promise((r) => setTimeout(r, 10));
      }
      await stalled;
      const all = () => [...handlings(nodes[0], "kim"), ...handlings(nodes[1], "kim")];
      await waitFor(
        () => new Set(all().map((h) => h.n)).size === N ? true : undefined,
        "every send handled",
        { timeoutMs: 30_000, intervalMs: 20 },
      ).catch((e) => {
        throw new Error(`${e.message}\n${nodes[1].child.describe()}`);
      });
      client.send("c/k", N + 1); // behind the re-sends: once handled, nothing is in flight
      await waitFor(
        () => handlings(nodes[1], "kim").some((h) => h.n === N + 1) ? true : undefined,
        "the closing send",
        { timeoutMs: 10_000, intervalMs: 10 },
      );
      const onA = handlings(nodes[0], "kim");
      const onB = handlings(nodes[1], "kim");
      const made = effects(fx);
      const moved = handshakes.at(-1)!;
      const twice = assertEffectsOnce([...onA, ...onB], made, N + 1);
      console.log(
        `${N} sends in bursts of ${BURST}, A stalled after handling ${STALL} (${onA.length} ` +
          `handled), B handled ${onB.length - 1} (handshake ack ${moved.ack}); handled twice ` +
          `${twice.length} (${twice}), effects ${made.size - 1} of ${N}, each once by its key`,
      );
      assert.equal(moved.resumed, true, "the session moved to B");
      assert.ok(twice.includes(STALL), `A's last handling was not recorded: ${twice}`);
    } finally {
      client.close();
      await Promise.all(nodes.map((n) => n.child.stop("SIGKILL")));
      Deno.removeSync(fx, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "delivery key: an async handler's event is recorded once it settled: a node dying before loses nothing",
  ignore: IGNORE_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await startRedis();
    const fx = Deno.makeTempDirSync({ prefix: "sl-fx-" });
    const N = 100;
    // A's handlers return at once and make their effects a minute later: never, here. Recorded
    // when they returned, A's events would be lost with it; recorded once settled, none is, and
    // the client re-sends them all to B.
    const nodes = await Promise.all([
      startNode("deno", redis.url, "da", `fx=${fx},async=60000`),
      startNode(bunNode(), redis.url, "da", `fx=${fx},async=5`),
    ]);
    const { client, handshakes, failOver } = failoverClient(nodes, "ada");
    const lastAck = (): number => handshakes.at(-1)?.ack ?? -1;
    try {
      await client.ready;
      for (let n = 1; n <= N / 2; n++) client.send("c/k", n);
      await waitFor(
        () => handlings(nodes[0], "ada").length === N / 2 ? true : undefined,
        "A handled the first half",
        { timeoutMs: 10_000, intervalMs: 5 },
      );
      failOver();
      await nodes[0].child.stop("SIGKILL");
      for (let n = N / 2 + 1; n <= N + 1; n++) client.send("c/k", n);
      await waitFor(
        () => handlings(nodes[1], "ada").some((h) => h.n === N + 1) ? true : undefined,
        "B handled the last",
        { timeoutMs: 30_000, intervalMs: 10 },
      ).catch((e) => {
        throw new Error(`${e.message}\n${nodes[1].child.describe()}`);
      });
      await waitFor(
        () => effects(fx).size === N + 1 ? true : undefined,
        "B's effects",
        { timeoutMs: 10_000, intervalMs: 10 },
      ).catch(() => {}); // asserted below, with the details
      const onA = handlings(nodes[0], "ada");
      const onB = handlings(nodes[1], "ada");
      const twice = assertEffectsOnce([...onA, ...onB], effects(fx), N + 1);
      console.log(
        `${N} sends, A's async handlers never settled: A handled ${onA.length}, recorded ${lastAck()}` +
          `; B handled ${onB.length}, ${twice.length} of them again; every effect once`,
      );
      assert.equal(lastAck(), 0, "A recorded none of its unsettled events");
      assert.equal(twice.length, N / 2, "B ran each of A's again");
    } finally {
      client.close();
      await Promise.all(nodes.map((n) => n.child.stop("SIGKILL")));
      Deno.removeSync(fx, { recursive: true });
    }
  },
});
