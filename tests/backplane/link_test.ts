import { strict as assert } from "node:assert";
import {
  LINK_EVENTS,
  LINK_STATES,
  LINK_TRANSITIONS,
  type LinkChange,
  LinkTracker,
  linkTransition,
} from "../../lib/backplane/link.ts";

Deno.test("link: the table covers every state × event; closed is final", () => {
  for (const s of LINK_STATES) {
    for (const e of LINK_EVENTS) {
      const to = linkTransition(s, e);
      assert.ok(to === null || LINK_STATES.includes(to), `${s} × ${e}`);
    }
  }
  for (const e of LINK_EVENTS) assert.equal(LINK_TRANSITIONS.closed[e], null);
  for (const s of LINK_STATES) {
    if (s !== "closed") assert.equal(linkTransition(s, "close()"), "closed");
  }
});

Deno.test("link: an outage after the link was up ends with a gap; the first start has none", () => {
  let now = 1000;
  const t = new LinkTracker("connecting", () => now);
  const seen: LinkChange[] = [];
  t.watch((c) => seen.push(c));
  assert.equal(t.apply("ready")?.gap, undefined);
  now = 2000;
  t.apply("partial");
  t.dropped();
  now = 2500;
  assert.equal(t.apply("partial"), null, "ignored: already degraded");
  t.apply("lost");
  t.dropped();
  now = 4000;
  const back = t.apply("ready");
  assert.deepEqual(back?.gap, { since: 2000, durationMs: 2000, dropped: 2 });
  assert.deepEqual(seen.map((c) => c.to), ["up", "degraded", "down", "up"]);
  // The next outage starts counting from zero.
  now = 5000;
  t.apply("lost");
  now = 5100;
  assert.deepEqual(t.apply("ready")?.gap, { since: 5000, durationMs: 100, dropped: 0 });
  t.apply("close()");
  assert.equal(t.state, "closed");
  assert.equal(t.apply("ready"), null);
});

Deno.test("link: publishes dropped before the first up are announced too", () => {
  let now = 0;
  const t = new LinkTracker("connecting", () => now);
  t.dropped();
  now = 300;
  assert.deepEqual(t.apply("ready")?.gap, { since: 0, durationMs: 300, dropped: 1 });
});
