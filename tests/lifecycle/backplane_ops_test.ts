/**
 * A node of a cluster reports its backplane link: `/ready` (ready even while the link is down:
 * it still serves its own clients), `/metrics` (`sente_lite_backplane_*`), and a server alone
 * reports none of it.
 */
import assert from "node:assert/strict";
import { serverComponent, type ServerInstance, startSystem } from "../../lifecycle.ts";
import { localBackplane, LocalBus } from "../../lib/backplane/local.ts";
import { parsePrometheusText, seriesMap } from "./_prom_parser.ts";

async function scrape(base: string): Promise<Record<string, number>> {
  const res = await fetch(`${base}/metrics`);
  return seriesMap(parsePrometheusText(await res.text()));
}

Deno.test("/ready and /metrics show the backplane link of a node of a cluster", async () => {
  const bus = new LocalBus();
  const other = localBackplane({ bus, nodeId: "other" });
  const system = await startSystem({
    server: serverComponent({
      server: { onError: () => {}, backplane: localBackplane({ bus, nodeId: "n1" }) },
    }),
  });
  try {
    const instance = system.instance<ServerInstance>("server");
    const base = `http://127.0.0.1:${instance.port}`;
    const ready = await fetch(`${base}/ready`);
    assert.equal(ready.status, 200);
    const body = await ready.json();
    assert.deepEqual(body.components.server.detail.backplane, {
      nodeId: "n1",
      link: "up",
      nodes: 2,
    });
    const m = await scrape(base);
    const L = 'server="server"';
    assert.equal(m[`sente_lite_backplane_link{node="n1",${L},state="up"}`], 1);
    assert.equal(m[`sente_lite_backplane_link{node="n1",${L},state="down"}`], 0);
    assert.equal(m[`sente_lite_backplane_nodes{${L}}`], 2);
    assert.equal(m[`sente_lite_backplane_gaps_total{${L}}`], 0);
  } finally {
    await system.stop();
    await other.close();
  }
});

Deno.test("a server alone reports no backplane", async () => {
  const system = await startSystem({ server: serverComponent({ server: { onError: () => {} } }) });
  try {
    const instance = system.instance<ServerInstance>("server");
    const base = `http://127.0.0.1:${instance.port}`;
    const body = await (await fetch(`${base}/ready`)).json();
    assert.equal(body.components.server.detail.backplane, undefined);
    const m = await scrape(base);
    assert.equal(Object.keys(m).some((k) => k.startsWith("sente_lite_backplane_")), false);
  } finally {
    await system.stop();
  }
});
