/**
 * `./ws` (the `ws` npm package as the client's WebSocket) against a real server: request/reply
 * with 4 KB frames as text and as binary (compressed) frames, the token subprotocol, server pushes
 * and close codes reaching the client.
 */
import assert from "node:assert/strict";
import { connect, STATE_EVENT, type StateChange } from "../client.ts";
import { NodeWebSocket } from "../ws.ts";
import { readToken } from "../lib/protocol/token.ts";
import { startServer } from "./_server.ts";
import { withTimeout } from "./_util.ts";

/** A 4 KB string that deflate cannot shrink much (so compressed frames stay large too). */
function noise(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).slice(0, bytes);
}

Deno.test("ws transport: request/reply with 4 KB text frames, pushes, token subprotocol", async () => {
  const tokens: (string | null)[] = [];
  await using s = await startServer({
    authenticate: (req) => {
      tokens.push(readToken(req));
      return "alice";
    },
  });
  s.server.on("test/echo", (msg) => msg.data);
  const client = connect(s.url, {
    WebSocket: NodeWebSocket,
    token: "secret-token",
    wire: false,
    reconnect: false,
  });
  try {
    const hello = await withTimeout(client.ready, 5000, "handshake through ws");
    assert.equal(hello.uid, "alice");
    assert.deepEqual(tokens, ["secret-token"]);
    for (let i = 0; i < 5; i++) {
      const payload = noise(4096);
      assert.equal(await client.request("test/echo", payload), payload);
    }
    const pushed = new Promise((resolve) => client.on("test/push", resolve));
    s.server.send("alice", "test/push", { big: "y".repeat(4096) });
    assert.deepEqual(await withTimeout(pushed, 5000, "push"), { big: "y".repeat(4096) });
  } finally {
    client.close();
  }
});

Deno.test("ws transport: compressed (binary) 4 KB frames arrive as ArrayBuffers and decode", async () => {
  await using s = await startServer();
  s.server.on("test/echo", (msg) => msg.data);
  const client = connect(s.url, { WebSocket: NodeWebSocket, reconnect: false });
  try {
    await withTimeout(client.ready, 5000, "handshake through ws");
    const payload = { text: "z".repeat(4096), n: [1, 2, 3] }; // compressible: sent deflated
    assert.deepEqual(await client.request("test/echo", payload), payload);
    assert.equal(await client.request("test/echo", "x"), "x");
  } finally {
    client.close();
  }
});

Deno.test("ws transport: the server's close code reaches the client", async () => {
  await using s = await startServer();
  const client = connect(s.url, { WebSocket: NodeWebSocket, reconnect: false });
  try {
    await withTimeout(client.ready, 5000, "handshake through ws");
    const [{ id: connId }] = s.server.connections();
    const closed = new Promise<StateChange>((resolve) =>
      client.on(STATE_EVENT, (change) => {
        const c = change as StateChange;
        if (c.code !== undefined) resolve(c);
      })
    );
    s.server.closeConnection(connId, 4003, "go away");
    const change = await withTimeout(closed, 5000, "close event");
    assert.equal(change.code, 4003);
    assert.equal(change.to, "failed"); // 4003 is terminal: no reconnect
  } finally {
    client.close();
  }
});
