/**
 * The server's reaction to its backplane's link (lib/server/cluster.ts), driven by hand: a gap
 * after a partial outage wakes the resuming connections; after a total one it closes them with
 * 1012 (docs/scaling.md). The link's `down` before its first `up` (starting) is no outage.
 */
import assert from "node:assert/strict";
import { connect } from "../../lib/client/client.ts";
import { STATE_EVENT, type StateChange } from "../../lib/client/types.ts";
import type { Backplane } from "../../lib/backplane/backplane.ts";
import { type LinkEvent, LinkTracker } from "../../lib/backplane/link.ts";
import { localBackplane } from "../../lib/backplane/local.ts";
import { startServer, until } from "../_server.ts";

/** A local backplane whose link the test drives (starting `connecting`, like a remote one). */
function drivenBackplane(): { backplane: Backplane; apply: (e: LinkEvent) => void } {
  const inner = localBackplane({ nodeId: "A" });
  const link = new LinkTracker("connecting");
  const backplane: Backplane = {
    nodeId: inner.nodeId,
    link,
    presence: inner.presence,
    store: inner.store,
    publish: (topic, payload) => inner.publish(topic, payload),
    subscribe: (topic, handler) => inner.subscribe(topic, handler),
    stats: () => inner.stats(),
    close: async () => {
      link.apply("close()");
      await inner.close();
    },
  };
  return { backplane, apply: (e) => void link.apply(e) };
}

for (const outage of ["partial", "lost"] as const) {
  Deno.test(`cluster link: after a start through "down", a ${outage} outage's gap ${outage === "lost" ? "closes with 1012" : "keeps the connection"}`, async () => {
    const { backplane, apply } = drivenBackplane();
    await using srv = await startServer({ authenticate: () => "alice", backplane });
    // Starting: not connected yet (`down`), then `up` with nothing dropped: no gap, no outage.
    apply("lost");
    apply("ready");
    const client = connect(srv.url, { onError: () => {} });
    try {
      const gaps: unknown[] = [];
      const states: StateChange[] = [];
      client.on("sente-lite/gap", (g) => void gaps.push(g));
      client.on(STATE_EVENT, (c) => void states.push(c));
      await client.ready;
      states.length = 0;
      srv.server.on("t/echo", (m) => m.data ?? null);
      apply(outage);
      apply("ready");
      await until(() => gaps.length === 1, "the gap pushed");
      if (outage === "lost") {
        await until(() => states.some((c) => c.code === 1012), "closed with 1012");
      } else {
        // The close would follow the gap at once: an answer after it shows there was none.
        assert.equal(await client.request("t/echo", 1), 1);
        assert.deepEqual(states.map((c) => c.to), []);
      }
    } finally {
      client.close();
    }
  });
}
