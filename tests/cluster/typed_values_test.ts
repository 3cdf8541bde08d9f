/**
 * Values keep their types across nodes: two node processes on one redis-server, clients on the
 * EDN and Transit packers reading sets and UUIDs as their types (keywords are checked in the
 * raw frames). A value with
 * every type JSON loses (tests/cluster/_typed.ts) sent to a uid and published on a channel from
 * the client's own node and from the other node arrives the same; after the client's node is
 * SIGKILLed, what the other node sends reaches it, resumed from the Redis store, the same again.
 */
import assert from "node:assert/strict";
import { type Client, connect } from "../../client.ts";
import { ednPacker } from "../../edn.ts";
import { transitPacker } from "../../transit.ts";
import { IGNORE_REDIS, startRedis } from "../_redis.ts";
import { waitFor } from "../_util.ts";
import { ctl, EVENT_MS, type Peer, peer, startNode } from "./_cluster.ts";
import { TYPED_READ } from "./_typed.ts";
import { Uuid } from "../../edn.ts";

Deno.test({
  name: "typed values: EDN and Transit clients get the same types from any node and on resume",
  ignore: IGNORE_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await startRedis();
    const nodes = await Promise.all([
      startNode("deno", redis.url, "ty"),
      startNode("deno", redis.url, "ty"),
    ]);
    const peers: Peer[] = [];
    const clients: Client[] = [];
    try {
      const [driverA, driverB] = await Promise.all([
        peer(nodes[0], "driver-a"),
        peer(nodes[1], "driver-b"),
      ]);
      peers.push(driverA, driverB);
      let dead = false;
      const got = new Map<string, Map<string, unknown[]>>();
      const frames = new Map<string, string[]>([["edn-user", []], ["transit-user", []]]);
      const open = (user: string, packer: "edn" | "transit") => {
        const inner = packer === "edn" ? ednPacker(TYPED_READ) : transitPacker(TYPED_READ);
        const c = connect(() => `${nodes[dead ? 1 : 0].url}?user=${user}`, {
          // Records the frames that carry typed values, to check their keywords.
          packer: {
            ...inner,
            unpack(frame) {
              if (String(frame).includes("typed")) frames.get(user)!.push(String(frame));
              return inner.unpack(frame);
            },
          },
          onError: () => {},
          reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
        });
        const byId = new Map<string, unknown[]>([["t/typed", []], ["typed", []]]);
        got.set(user, byId);
        c.on("t/typed", (d) => void byId.get("t/typed")!.push(d));
        clients.push(c);
        return c;
      };
      const users = ["edn-user", "transit-user"];
      const [edn, transit] = [open(users[0], "edn"), open(users[1], "transit")];
      await Promise.all([edn.ready, transit.ready]);
      await Promise.all(
        [edn, transit].map((c, i) =>
          c.subscribe("typed", (d) => void got.get(users[i])!.get("typed")!.push(d))
        ),
      );
      await waitFor(
        async () => {
          const uids = await ctl<string[]>(driverB, "uids");
          return users.every((u) => uids.includes(u)) ? true : undefined;
        },
        "B sees both users",
        { timeoutMs: EVENT_MS, intervalMs: 50 },
      );
      const arrived = (id: string, n: number) =>
        waitFor(
          () => users.every((u) => got.get(u)!.get(id)!.length >= n) ? true : undefined,
          `${n} × ${id} at both clients`,
          { timeoutMs: EVENT_MS, intervalMs: 10 },
        );

      // The same value (n = 7), first from the clients' own node, then from the other node.
      for (const [driver, n] of [[driverA, 1], [driverB, 2]] as const) {
        for (const uid of users) await ctl(driver, "typed", { uid, n: 7 });
        await arrived("t/typed", n);
        await ctl(driver, "typed", { channel: "typed", n: 7 });
        await arrived("typed", n);
      }
      // 3: the clients' node dies; the other node sends while they move and resume there.
      dead = true;
      await nodes[0].child.stop("SIGKILL");
      for (const uid of users) await ctl(driverB, "typed", { uid, n: 7 });
      await ctl(driverB, "typed", { channel: "typed", n: 7 });
      await arrived("t/typed", 3);
      await arrived("typed", 3);
      const stats = await ctl<{ resumed: number }>(driverB, "stats");
      assert.ok(stats.resumed >= 2, `both clients resumed on B: ${stats.resumed}`);

      for (const u of users) {
        for (const id of ["t/typed", "typed"]) {
          const [local, remote, resumed] = got.get(u)!.get(id)!;
          // Cross-node and resumed deliveries are the local one, with the origin's types.
          assert.deepEqual(remote, local, `${u} ${id}: cross-node`);
          assert.deepEqual(resumed, local, `${u} ${id}: resumed`);
          const m = local as Record<string, unknown>;
          assert.equal(m.level, "app/warn", `${u} ${id}: the map's entries`);
          assert.ok(m.at instanceof Date, `${u} ${id}: a date`);
          assert.ok(m.id instanceof Uuid, `${u} ${id}: a uuid`);
          assert.ok(m.tags instanceof Set, `${u} ${id}: a set`);
          assert.equal(m.big, 12345678901234567897n);
          assert.equal(m[1], "number key");
          assert.deepEqual(m["~#k"], ["~#k", "not-a-tag"]);
        }
        // Every typed frame (2 per delivery: uid and channel) wrote the keyword as a keyword.
        const kw = u === "edn-user" ? /[ {\[]:app\/warn\b/ : /"~:app\/warn"/;
        const typed = frames.get(u)!.filter((f) => f.includes("warn"));
        assert.equal(typed.length, 6, `${u}: ${typed.length} frames`);
        for (const f of typed) assert.match(f, kw, `${u}: a keyword in ${f}`);
      }
    } finally {
      for (const c of clients) c.close();
      for (const p of peers) p.client.close();
      await Promise.all(nodes.map((n) => n.child.stop("SIGKILL")));
    }
  },
});
