/**
 * A model-based test: random walks of server behaviour, application calls and time, checking
 * after every step that the client only made changes the transition table allows and kept its
 * invariants (no timers or sockets left in `closed`/`failed`, at most one live socket).
 */
import assert from "node:assert/strict";
import { QueueFullError } from "../../lib/client/types.ts";
import { CONNECTION_STATES, SESSION_EVENTS, transition } from "../../lib/client/session.ts";
import { ClosedError } from "../../lib/protocol/errors.ts";
import { FakeWebSocket, setup } from "./_setup.ts";

const allowed = new Set<string>();
for (const s of CONNECTION_STATES) {
  for (const e of SESSION_EVENTS) {
    const to = transition(s, e);
    if (to) allowed.add(`${s}→${to}`);
  }
}

function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

const CODES = [1000, 1001, 1006, 1011, 1008, 4001, 4029, 4008];

Deno.test("Client follows the transition table on 300 random walks of 60 steps", () => {
  const seen = new Set<string>();
  for (let walk = 0; walk < 300; walk++) {
    const rnd = prng(walk + 1);
    const h = setup({
      reconnect: { maxAttempts: 1 + Math.floor(rnd() * 4), jitter: 0.25 },
      random: rnd,
      maxQueuedMessages: 3,
    });
    const trace: string[] = [];
    for (let step = 0; step < 60; step++) {
      const ws = FakeWebSocket.instances.at(-1);
      const r = rnd();
      let action: string;
      if (r < 0.15 && ws && ws.readyState === 0 && !ws.closedWith) {
        action = "open";
        ws.open();
      } else if (r < 0.3 && ws && ws.readyState === 1 && !ws.closedWith) {
        action = "handshake";
        ws.handshake();
      } else if (r < 0.5 && ws && ws.readyState < 3) {
        const code = CODES[Math.floor(rnd() * CODES.length)];
        action = `serverClose ${code}`;
        ws.serverClose(code);
      } else if (r < 0.55) {
        action = "close()";
        h.client.close();
      } else if (r < 0.62) {
        action = "reconnect()";
        h.client.reconnect();
      } else if (r < 0.66) {
        action = "online";
        globalThis.dispatchEvent(new Event("online"));
      } else if (r < 0.75) {
        action = "send";
        try {
          const res = h.client.send("a/b");
          assert.ok(
            res === "sent" ? h.client.state === "open" : h.client.state !== "closed",
            `${res} in ${h.client.state}`,
          );
        } catch (e) {
          assert.ok(e instanceof ClosedError || e instanceof QueueFullError, String(e));
        }
      } else {
        const ms = Math.floor(rnd() * 40000);
        action = `tick ${ms}`;
        h.clock.tick(ms);
      }
      trace.push(`${action} → ${h.client.state}`);
      const where = `walk ${walk}: ${trace.join("; ")}`;
      for (const c of h.changes) assert.ok(allowed.has(`${c.from}→${c.to}`), where);
      if (h.changes.length) assert.equal(h.changes.at(-1)!.to, h.client.state, where);
      const live = FakeWebSocket.instances.filter((s) => s.readyState < 2 && !s.closedWith);
      assert.ok(live.length <= 1, where);
      if (h.client.state === "closed" || h.client.state === "failed") {
        assert.equal(h.clock.pending, 0, where);
        assert.equal(live.length, 0, where);
      }
      if (h.client.state === "open") assert.equal(live[0]?.readyState, 1, where);
    }
    for (const c of h.changes) seen.add(`${c.from}→${c.to}`);
    h.client.close();
    h.clock.tick(1e6);
  }
  // the walks reach every state and most of the allowed changes
  for (const s of CONNECTION_STATES) assert.ok([...seen].some((t) => t.endsWith(s)), s);
  assert.ok(seen.size >= allowed.size - 3, `${[...allowed].filter((t) => !seen.has(t))}`);
});
