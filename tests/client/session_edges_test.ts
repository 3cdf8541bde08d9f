/**
 * Every edge of the transition table on a real Client (fake sockets, virtual time): drive the
 * client into each state, produce each event the way the world would (a socket event, a call, a
 * timer, a browser event), and check it lands where `transition()` says.
 */
import assert from "node:assert/strict";
import {
  CONNECTION_STATES,
  type ConnectionState,
  type SessionEvent,
  transition,
} from "../../lib/client/session.ts";
import { FakeWebSocket, type Harness, setup } from "./_setup.ts";

const SLOW = { initialDelayMs: 100_000, maxDelayMs: 100_000 };

function reach(state: ConnectionState): Harness {
  const h = setup({ reconnect: SLOW, heartbeat: { intervalMs: 35_000, timeoutMs: 50_000 } });
  switch (state) {
    case "closed":
      h.client.close();
      break;
    case "connecting":
      break;
    case "open":
      FakeWebSocket.last.accept();
      break;
    case "closing":
      FakeWebSocket.last.accept();
      h.client.close();
      break;
    case "reconnecting": // lost, and the next attempt's socket is in flight
      FakeWebSocket.last.accept().serverClose(1006);
      h.clock.tick(100_000);
      break;
    case "failed":
      FakeWebSocket.last.accept().serverClose(4001);
      break;
  }
  assert.equal(h.client.state, state);
  return h;
}

/** Produces `event`; events no source can produce in `state` are left out (covered elsewhere). */
const PRODUCE: Partial<Record<SessionEvent, (h: Harness) => void>> = {
  "open": () => FakeWebSocket.last.open(),
  "handshake": () => FakeWebSocket.last.handshake(),
  "close:reconnect": () => FakeWebSocket.last.serverClose(1006),
  "close:rate-limited": () => FakeWebSocket.last.serverClose(4029),
  "close:terminal": () => FakeWebSocket.last.serverClose(4003),
  "close()": (h) => h.client.close(),
  "reconnect()": (h) => h.client.reconnect(),
  // heartbeat (open), connect timeout (connecting) and close timeout (closing) all fire by 60 s
  "heartbeat-timeout": (h) => h.clock.tick(60_000),
  "wake": () => void globalThis.dispatchEvent(new Event("online")),
};

for (const state of CONNECTION_STATES) {
  for (
    const [event, produce] of Object.entries(PRODUCE) as [SessionEvent, (h: Harness) => void][]
  ) {
    const expected = transition(state, event) ?? state;
    Deno.test(`Client in ${state} on ${event} → ${expected}`, () => {
      const h = reach(state);
      try {
        produce(h);
        assert.equal(h.client.state, expected);
      } finally {
        h.client.close();
        h.clock.tick(1e6);
      }
    });
  }
}

Deno.test("Client in reconnecting on retry → reconnecting, with a new attempt", () => {
  const h = setup({ reconnect: SLOW });
  FakeWebSocket.last.accept().serverClose(1006);
  h.clock.tick(100_000);
  assert.equal(h.client.state, "reconnecting");
  assert.equal(FakeWebSocket.instances.length, 2);
  h.client.close();
});

Deno.test("Client in reconnecting on exhausted → failed", () => {
  const h = setup({ reconnect: { ...SLOW, maxAttempts: 1 } });
  FakeWebSocket.last.accept().serverClose(1006);
  h.clock.tick(100_000);
  FakeWebSocket.last.serverClose(1006);
  assert.equal(h.client.state, "failed");
  assert.deepEqual(h.path(), ["connecting→open", "open→reconnecting", "reconnecting→failed"]);
});

Deno.test("Client in connecting and reconnecting on error → reconnecting", async () => {
  let fail = true;
  const h = setup({ reconnect: SLOW }, () => {
    if (fail) throw new Error("no token");
    return "ws://h.test/chsk";
  });
  assert.equal(h.client.state, "reconnecting"); // connecting → reconnecting
  h.clock.tick(100_000); // the next attempt fails the same way
  assert.equal(h.client.state, "reconnecting");
  assert.equal(h.changes.at(-1)!.attempt, 2);
  fail = false;
  h.clock.tick(100_000); // the cap
  await Promise.resolve();
  FakeWebSocket.last.accept();
  assert.equal(h.client.state, "open");
  h.client.close();
});
