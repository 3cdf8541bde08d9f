/** Unit tests of lib/client/connection.ts: the connection of one client without a `Client`. */
import assert from "node:assert/strict";
import { ClientChannels } from "../../lib/client/channels.ts";
import { ClientConnection } from "../../lib/client/connection.ts";
import { STATE_EVENT, type StateChange } from "../../lib/client/types.ts";
import { ClosedError } from "../../lib/protocol/errors.ts";
import { FakeWebSocket } from "./_fake_socket.ts";
import { testParts } from "./_parts.ts";

function make(options: Parameters<typeof testParts>[0] = {}) {
  FakeWebSocket.reset();
  const t = testParts({ reconnect: { jitter: 0, initialDelayMs: 100 }, ...options });
  const channels = new ClientChannels({
    request: () => Promise.resolve({ success: true }),
    state: () => conn.state,
    onError: (e) => t.errors.push(e),
    emit: (id, data) => t.parts.handlers.emit(id, data),
    cursors: t.parts.cursors,
  });
  const conn: ClientConnection = new ClientConnection("ws://h.test/chsk", t.parts, channels);
  const path: string[] = [];
  t.parts.handlers.on(STATE_EVENT, (c) => {
    const change = c as StateChange;
    path.push(`${change.from}→${change.to}`);
  });
  return { ...t, conn, path };
}

Deno.test("ClientConnection opens no socket until reconnect(), then resolves ready on the handshake", async () => {
  const { conn, path, parts } = make();
  assert.equal(conn.state, "closed");
  assert.equal(FakeWebSocket.instances.length, 0);
  conn.reconnect("connect");
  await Promise.resolve(); // the URL provider's result
  FakeWebSocket.last.accept("u7");
  const handshake = await conn.ready;
  assert.equal(handshake.uid, "u7");
  assert.equal(conn.handshake, handshake);
  assert.deepEqual(path, ["closed→connecting", "connecting→open"]);
  assert.equal(parts.stats.attempts, 1);
});

Deno.test("ClientConnection reconnects after a drop with backoff and counts the reconnect", async () => {
  const { conn, path, clock, parts } = make();
  conn.reconnect("connect");
  await Promise.resolve();
  FakeWebSocket.last.accept();
  FakeWebSocket.last.serverClose(1006);
  assert.equal(conn.state, "reconnecting");
  clock.tick(100);
  await Promise.resolve();
  assert.equal(FakeWebSocket.instances.length, 2);
  FakeWebSocket.last.accept();
  assert.equal(conn.state, "open");
  assert.equal(parts.stats.reconnects, 1);
  assert.deepEqual(path, [
    "closed→connecting",
    "connecting→open",
    "open→reconnecting",
    "reconnecting→open",
  ]);
});

Deno.test("ClientConnection.close() before the handshake rejects ready with ClosedError", async () => {
  const { conn } = make();
  conn.reconnect("connect");
  conn.close(1000, "bye");
  assert.equal(conn.state, "closed");
  await assert.rejects(conn.ready, ClosedError);
});
