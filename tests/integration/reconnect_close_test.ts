/**
 * Close codes, graceful shutdown and liveness on real sockets (127.0.0.1, port 0): what the
 * server's close calls make clients do, and both ends detecting a peer that stopped answering.
 */
import assert from "node:assert/strict";
import {
  type Client,
  connect,
  type ConnectionState,
  type Handshake,
  type StateChange,
} from "../../client.ts";
import { createServer, type ServerOptions } from "../../server.ts";
import { rawPeer } from "../_peer.ts";
import { waitFor, withTimeout } from "../_util.ts";

const EVENT_MS = 5000;
const FAST = { initialDelayMs: 50, maxDelayMs: 200 };

/** Resolves with the change that takes `client` to `to`. */
function reach(client: Client, to: ConnectionState): Promise<StateChange> {
  return withTimeout(
    new Promise((resolve) => {
      const off = client.on("chsk/state", (d) => {
        const c = d as StateChange;
        if (c.to === to) {
          off();
          resolve(c);
        }
      });
    }),
    EVENT_MS,
    `state ${to}`,
  );
}

function nextHandshake(client: Client): Promise<Handshake> {
  return withTimeout(
    new Promise((resolve) => {
      const off = client.on("chsk/handshake", (h) => {
        off();
        resolve(h as Handshake);
      });
    }),
    EVENT_MS,
    "a handshake",
  );
}

async function start(options: ServerOptions = {}) {
  const server = createServer({
    authenticate: (req) => new URL(req.url).searchParams.get("user"),
    onError: () => {},
    ...options,
  });
  const handle = await server.serve({ port: 0 });
  return { server, handle, url: handle.url };
}

Deno.test("Hub.closeUid() with 4001 sends that user's clients to failed and no further", async () => {
  const { server, handle, url } = await start();
  const a1 = connect(url, { params: { user: "alice" }, reconnect: FAST });
  const a2 = connect(url, { params: { user: "alice" }, reconnect: FAST });
  const b = connect(url, { params: { user: "bob" }, reconnect: FAST });
  try {
    await Promise.all([a1.ready, a2.ready, b.ready]);
    const failed = [reach(a1, "failed"), reach(a2, "failed")];
    assert.equal(server.closeUid("alice", 4001, "token revoked"), 2);
    for (const change of await Promise.all(failed)) {
      assert.equal(change.code, 4001);
      assert.match(change.reason, /token revoked/);
    }
    assert.equal(b.state, "open");
    // the server's own close event may come a moment after the client's
    await waitFor(
      () => server.connections().length === 1 ? true : undefined,
      "the server to drop alice's connections",
      { timeoutMs: EVENT_MS },
    );
    assert.deepEqual(server.connections().map((c) => c.uid), ["bob"]);
    // failed stays failed: no attempts are scheduled
    assert.equal(a1.stats().attempts, 1);
    // until the application asks
    a1.reconnect();
    await withTimeout(nextHandshake(a1), EVENT_MS, "reconnect() after failed");
    assert.equal(a1.state, "open");
  } finally {
    for (const c of [a1, a2, b]) c.close();
    await handle.close();
  }
});

Deno.test("Hub.closeConnection() with 1000 or 1012 makes the client come back", async () => {
  const { server, handle, url } = await start();
  const client = connect(url, { reconnect: FAST });
  try {
    let hs = await client.ready;
    for (const code of [1000, 1012]) {
      const back = nextHandshake(client);
      assert.ok(server.closeConnection(hs.server!.connId, code, "bye"));
      hs = await back;
      assert.equal(hs.first, false);
    }
    assert.equal(server.connections().length, 1);
  } finally {
    client.close();
    await handle.close();
  }
});

Deno.test("A graceful server shutdown closes with 1001 and clients return to the new server", async () => {
  const first = await start();
  const port = first.handle.port;
  const client = connect(first.url, { reconnect: FAST });
  let gotAfterRestart!: () => void;
  const afterRestart = new Promise<void>((r) => gotAfterRestart = r);
  let second: Awaited<ReturnType<typeof start>> | undefined;
  try {
    await client.ready;
    await client.subscribe("news", (d) => d === "after restart" && gotAfterRestart());
    const lost = reach(client, "reconnecting");
    await first.handle.close();
    assert.equal((await lost).code, 1001);
    const server = createServer({ onError: () => {} });
    const back = nextHandshake(client);
    second = { server, handle: await server.serve({ port }), url: first.url };
    assert.equal((await back).first, false);
    // the channel was re-subscribed on the new server
    await waitFor(
      () => server.subscribers("news").length === 1 ? true : undefined,
      "the re-subscription",
      { timeoutMs: EVENT_MS },
    );
    server.publish("news", "after restart");
    await withTimeout(afterRestart, EVENT_MS, "the message");
  } finally {
    client.close();
    await second?.handle.close();
  }
});

Deno.test("Server heartbeat pings a silent peer, then closes it with 4008 and cleans up", async () => {
  const { server, handle, url } = await start({ heartbeat: { intervalMs: 100, timeoutMs: 300 } });
  try {
    const { peer } = await rawPeer(url + "?user=mute");
    peer.send('[["sente-lite/subscribe",{"channel-id":"room"}],"cb1"]');
    await peer.nextJson(); // the subscribe reply
    assert.deepEqual(server.channels(), ["room"]);
    assert.deepEqual(await peer.nextJson(), ["chsk/ws-ping", null]);
    const close = await peer.closed(EVENT_MS);
    assert.equal(close.code, 4008);
    assert.equal(server.connections().length, 0);
    assert.deepEqual(server.channels(), []);
    assert.deepEqual([...server.connectedUids.current()], []);
  } finally {
    await handle.close();
  }
});

Deno.test("Server heartbeat keeps a peer that answers pings", async () => {
  // The peer has timeoutMs − intervalMs (400 ms) to answer each ping: 100 ms was lost to a
  // scheduling stall on a loaded shared machine. 8 rounds of at least intervalMs outlast
  // timeoutMs, so only the pongs keep the connection.
  const { server, handle, url } = await start({ heartbeat: { intervalMs: 100, timeoutMs: 500 } });
  try {
    const { peer } = await rawPeer(url);
    for (let i = 0; i < 8; i++) {
      assert.deepEqual(await peer.nextJson(), ["chsk/ws-ping", null]);
      peer.send('[["chsk/ws-pong"],null]');
    }
    assert.equal(server.connections().length, 1);
    await peer.close();
  } finally {
    await handle.close();
  }
});

/** A raw server whose n-th connection does what `behave(n, socket)` says. */
function rawServer(behave: (n: number, socket: WebSocket) => void) {
  let n = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    const i = ++n;
    socket.onopen = () => behave(i, socket);
    return response;
  });
  return { server, url: `ws://127.0.0.1:${server.addr.port}/chsk`, count: () => n };
}

const HANDSHAKE = JSON.stringify([["chsk/handshake", ["u", null, {}]], null]);

Deno.test("Client detects a half-open server by its heartbeat and reconnects", async () => {
  // handshakes, then never sends or answers anything again
  const raw = rawServer((_n, socket) => socket.send(HANDSHAKE));
  const client = connect(raw.url, {
    heartbeat: { intervalMs: 100, timeoutMs: 300 },
    reconnect: FAST,
  });
  try {
    await client.ready;
    const lost = await reach(client, "reconnecting");
    assert.match(lost.reason, /heartbeat/);
    await nextHandshake(client);
    assert.ok(raw.count() >= 2);
  } finally {
    client.close();
    await raw.server.shutdown();
  }
});

Deno.test("Client retries a server that closes during connecting, and stops at 4003", async () => {
  const raw = rawServer((n, socket) => socket.close(n === 1 ? 1011 : 4003, "go away"));
  const client = connect(raw.url, { reconnect: FAST });
  const path: string[] = [];
  client.on("chsk/state", (d) => void path.push(`${(d as StateChange).to}`));
  try {
    const failed = await reach(client, "failed");
    assert.equal(failed.code, 4003);
    assert.deepEqual(path, ["reconnecting", "failed"]);
    await assert.rejects(client.ready);
    assert.equal(raw.count(), 2);
  } finally {
    client.close();
    await raw.server.shutdown();
  }
});

Deno.test("Client abandons a server that accepts but never handshakes", async () => {
  const raw = rawServer((n, socket) => n > 1 && socket.send(HANDSHAKE));
  const client = connect(raw.url, { connectTimeoutMs: 200, reconnect: FAST });
  try {
    const lost = await reach(client, "reconnecting");
    assert.match(lost.reason, /no handshake within 200 ms/);
    assert.equal((await client.ready).first, true);
  } finally {
    client.close();
    await raw.server.shutdown();
  }
});
