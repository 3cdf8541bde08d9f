import { strict as assert } from "node:assert";
import { localBackplane, LocalBus } from "../../lib/backplane/local.ts";
import { backplaneContract } from "./_contract.ts";

backplaneContract("local", (n, store) => {
  const bus = new LocalBus(store);
  const nodes = Array.from({ length: n }, () => localBackplane({ bus }));
  return Promise.resolve({
    nodes,
    [Symbol.asyncDispose]: async () => void await Promise.all(nodes.map((b) => b.close())),
  });
});

Deno.test("local: a node alone is up at once and its publishes cost nothing", async () => {
  const bp = localBackplane();
  assert.equal(bp.link.state, "up");
  assert.equal(bp.publish("b", "x"), true);
  assert.deepEqual(bp.stats(), { published: 0, publishDropped: 0, received: 0, topics: 0 });
  assert.equal(bp.presence.add("u"), true);
  assert.deepEqual([...bp.presence.current()], ["u"]);
  await bp.close();
  assert.equal(bp.link.state, "closed");
  assert.deepEqual([...bp.presence.current()], []);
});

Deno.test("local: a node id is unique on its bus", () => {
  const bus = new LocalBus();
  localBackplane({ bus, nodeId: "n1" });
  assert.throws(() => localBackplane({ bus, nodeId: "n1" }), RangeError);
});
