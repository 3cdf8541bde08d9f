import assert from "node:assert/strict";
import {
  CONNECTION_STATES,
  SESSION_EVENTS,
  transition,
  TRANSITIONS,
  transitionTableMarkdown,
} from "../../lib/client/session.ts";

Deno.test("TRANSITIONS defines every state × event", () => {
  assert.equal(CONNECTION_STATES.length, 6);
  for (const s of CONNECTION_STATES) {
    assert.deepEqual(Object.keys(TRANSITIONS[s]).sort(), [...SESSION_EVENTS].sort(), s);
    for (const e of SESSION_EVENTS) {
      const to = transition(s, e);
      assert.ok(to === null || CONNECTION_STATES.includes(to), `${s} × ${e}`);
    }
  }
});

Deno.test("transition() lets reconnect() leave every state, failed and closed included", () => {
  for (const s of CONNECTION_STATES) assert.notEqual(transition(s, "reconnect()"), null, s);
  assert.equal(transition("failed", "reconnect()"), "connecting");
  assert.equal(transition("closed", "reconnect()"), "connecting");
  assert.equal(transition("closing", "reconnect()"), "connecting");
  assert.equal(transition("open", "reconnect()"), "reconnecting");
});

Deno.test("transition() ends in closed after close() from every active state", () => {
  assert.equal(transition("open", "close()"), "closing");
  assert.equal(transition("closing", "close:reconnect"), "closed");
  assert.equal(transition("closing", "heartbeat-timeout"), "closed");
  for (const s of ["connecting", "reconnecting", "failed"] as const) {
    assert.equal(transition(s, "close()"), "closed", s);
  }
  assert.equal(transition("closed", "close()"), null);
});

Deno.test("transition() fails on terminal closes and reconnects on the others", () => {
  for (const s of ["connecting", "open", "reconnecting"] as const) {
    assert.equal(transition(s, "close:terminal"), "failed", s);
    assert.equal(transition(s, "close:reconnect"), "reconnecting", s);
    assert.equal(transition(s, "close:rate-limited"), "reconnecting", s);
    assert.equal(transition(s, "heartbeat-timeout"), "reconnecting", s);
    assert.equal(transition(s, "error"), "reconnecting", s);
  }
  assert.equal(transition("reconnecting", "exhausted"), "failed");
});

Deno.test("transition() ignores late socket events in closed, closing and failed", () => {
  for (const s of ["closed", "failed"] as const) {
    for (const e of SESSION_EVENTS) {
      if (e === "reconnect()" || e === "close()") continue;
      assert.equal(transition(s, e), null, `${s} × ${e}`);
    }
  }
  for (const e of ["open", "handshake", "error", "retry", "exhausted", "wake"] as const) {
    assert.equal(transition("closing", e), null, e);
  }
});

/** Table text without the padding `deno fmt` adds. */
function normalize(md: string): string {
  return md.split("\n").map((l) => l.trim().replace(/\s*\|\s*/g, "|").replace(/-{3,}/g, "---"))
    .join("\n");
}

Deno.test("docs/connection.md prints the same transition table", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/connection.md", import.meta.url));
  assert.ok(
    normalize(doc).includes(normalize(transitionTableMarkdown())),
    "regenerate the table in docs/connection.md from transitionTableMarkdown()",
  );
});
