/**
 * Client→server deduplication across a node change, with processes: a client sends numbered
 * `send()` events (`c/k`) to node A (a Deno process), A is SIGKILLed mid-stream, the client
 * reconnects to node B (Bun when installed), resumes its session from the Redis store and re-sends
 * what A did not acknowledge. Nothing is lost; what A recorded is never handled again; every event
 * is handled exactly once across the cluster except what A's handlers ran before their records
 * reached Redis (counted from the nodes' stdout, where each handling writes one line
 * synchronously) — and those have the same `msg.delivery.key` on both nodes, so the effect the
 * handler makes once per key (a file created with O_EXCL) exists exactly once for every event.
 *
 * Two shapes: sends 2 ms apart, and bursts of 25 sends at once (A handles a burst in a turn or
 * a few, the widest window); each prints its figures (docs/scaling.md).
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

/** `N` sends, `burst` at a time, `pauseMs` between bursts; A is killed once it handled N / 4. */
async function acrossKill(N: number, burst: number, pauseMs: number): Promise<void> {
  await using redis = await startRedis();
  const fx = Deno.makeTempDirSync({ prefix: "sl-fx-" });
  const nodes = await Promise.all([
    startNode("deno", redis.url, "dd", `fx=${fx}`),
    startNode(bunNode(), redis.url, "dd", `fx=${fx}`),
  ]);
  const handled = (i: number) => handlings(nodes[i], "finn").map((h) => h.n);
  const { client, handshakes, failOver } = failoverClient(nodes, "finn");
  try {
    await client.ready;
    // A is SIGKILLed (concurrently) once it handled a quarter, so sends are in flight to it,
    // unacknowledged, and queued meanwhile.
    const killed = waitFor(
      () => handled(0).length >= N / 4 ? true : undefined,
      "A handled a quarter",
      { timeoutMs: 10_000, intervalMs: 1 },
    ).then(() => {
      failOver();
      return nodes[0].child.stop("SIGKILL");
    });
    for (let n = 1; n <= N; n++) {
      client.send("c/k", n);
      if (n % burst === 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
    await killed;
    const all = () => [...handled(0), ...handled(1)];
    await waitFor(
      () => new Set(all()).size === N ? true : undefined,
      "every send handled",
      { timeoutMs: 30_000, intervalMs: 20 },
    ).catch((e) => {
      throw new Error(
        `${e.message}: A ${handled(0).length}, B ${handled(1).length}\n${
          nodes[1].child.describe()
        }`,
      );
    });
    // A last send behind the re-sends (one connection, in order): nothing is left in flight.
    client.send("c/k", N + 1);
    await waitFor(
      () => handled(1).includes(N + 1) ? true : undefined,
      "the closing send",
      { timeoutMs: 10_000, intervalMs: 10 },
    );
    const onA = handled(0);
    const onB = handled(1).filter((n) => n <= N);
    const counts = new Map<number, number>();
    for (const n of [...onA, ...onB]) counts.set(n, (counts.get(n) ?? 0) + 1);
    const twice = [...counts].filter(([, c]) => c > 1).map(([n]) => n);
    const lost = Array.from({ length: N }, (_, i) => i + 1).filter((n) => !counts.has(n));
    const made = effects(fx);
    const moved = handshakes.at(-1)!;
    console.log(
      `${N} sends (${burst === 1 ? `${pauseMs} ms apart` : `bursts of ${burst}`}), A SIGKILLed ` +
        `after handling ${onA.length}: B handled ${onB.length} (handshake ack ${moved.ack}, ` +
        `resumed ${moved.resumed}); handled twice ${twice.length}, lost ${lost.length}; client ` +
        `re-sent ${client.stats().resent}`,
    );
    assert.equal(moved.resumed, true, "the session moved to B");
    assert.deepEqual(lost, [], "nothing lost");
    // What A recorded before it died (the handshake's ack) B never handles again; B handles
    // the rest once, in order.
    assert.ok(onB.every((n) => n > moved.ack), `B handled only seqs > ${moved.ack}: ${onB}`);
    assert.equal(new Set(onB).size, onB.length, "B handled each once");
    for (let i = 1; i < onB.length; i++) assert.ok(onB[i] > onB[i - 1], `B in order: ${onB}`);
    for (let i = 1; i < onA.length; i++) assert.ok(onA[i] > onA[i - 1], `A in order: ${onA}`);
    // Handled twice only what A handled but had not recorded yet when it died (docs/scaling.md,
    // at least once across a crash): a duplicate is always one A handled past its last record.
    const maxA = Math.max(...onA);
    assert.ok(
      twice.every((n) => n > moved.ack && n <= maxA),
      `duplicates only past A's last record (${moved.ack}): ${twice}`,
    );
    // Those had the same key on both nodes: every effect exists once.
    const both = [...handlings(nodes[0], "finn"), ...handlings(nodes[1], "finn")];
    assert.deepEqual(assertEffectsOnce(both, made, N + 1).sort(), twice.sort());
  } finally {
    client.close();
    await Promise.all(nodes.map((n) => n.child.stop("SIGKILL")));
    Deno.removeSync(fx, { recursive: true });
  }
}

Deno.test({
  name: "dedup: sends across a SIGKILLed node: none lost, none the dead node recorded run again",
  ignore: IGNORE_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => acrossKill(300, 1, 2),
});

Deno.test({
  name:
    "dedup: bursts of 25 sends across a SIGKILLed node: none lost, every effect once by its key",
  ignore: IGNORE_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => acrossKill(300, 25, 20),
});
