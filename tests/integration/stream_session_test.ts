/**
 * The stream session name over real sockets (docs/security.md): it travels as the subprotocol
 * `sente-lite.streams.<name>`, never in the URL; the server resumes the session by it, never
 * echoes it, and still reads the deprecated `streams=` parameter of older clients.
 */
import assert from "node:assert/strict";
import { connect } from "../../lib/client/client.ts";
import { clientStreams } from "../../lib/client/streams.ts";
import { streamsProtocol } from "../../lib/protocol/stream_session.ts";
import { SUBPROTOCOL } from "../../lib/protocol/token.ts";
import { startServer, until } from "../_server.ts";
import { RawPeer } from "../_peer.ts";

const NAME = "00112233445566778899aabbccddeeff";

/** Opens a raw sente-lite peer and reads its handshake's capabilities. */
async function open(
  url: string,
  clientId: string,
  protocols?: string[],
): Promise<{ peer: RawPeer; caps: string }> {
  const u = new URL(url);
  u.searchParams.set("client-id", clientId);
  u.searchParams.set("packer", "json");
  const peer = new RawPeer(u.href, protocols);
  await peer.opened;
  return { peer, caps: JSON.stringify(await peer.nextJson()) };
}

Deno.test("stream session: the subprotocol form resumes across a reconnect; the name is not echoed", async () => {
  await using t = await startServer();
  const protocols = [SUBPROTOCOL, streamsProtocol(NAME)];
  const first = await open(t.url, "c1", protocols);
  assert.match(first.caps, /"streams"/);
  assert.doesNotMatch(first.caps, /streams-resumed/);
  assert.equal(first.peer.ws.protocol, SUBPROTOCOL); // selected: never the entry with the name
  assert.doesNotMatch(first.caps, new RegExp(NAME));
  await first.peer.close();
  const second = await open(t.url, "c1", protocols);
  try {
    assert.match(second.caps, /"streams-resumed"/);
    assert.equal(second.peer.ws.protocol, SUBPROTOCOL);
  } finally {
    await second.peer.close();
  }
});

Deno.test("stream session: another name (or none) under the same client id does not resume it", async () => {
  await using t = await startServer();
  const first = await open(t.url, "c1", [SUBPROTOCOL, streamsProtocol(NAME)]);
  await first.peer.close();
  const other = await open(t.url, "c1", [SUBPROTOCOL, streamsProtocol("ff" + NAME.slice(2))]);
  const none = await open(t.url, "c1", [SUBPROTOCOL]);
  try {
    assert.match(other.caps, /"streams"/);
    assert.doesNotMatch(other.caps, /streams-resumed/);
    assert.doesNotMatch(none.caps, /streams/);
  } finally {
    await other.peer.close();
    await none.peer.close();
  }
});

Deno.test("stream session: the deprecated streams= parameter of older clients still resumes", async () => {
  await using t = await startServer();
  const first = await open(`${t.url}?streams=${NAME}`, "c1");
  assert.match(first.caps, /"streams"/);
  assert.doesNotMatch(first.caps, /streams-resumed/);
  await first.peer.close();
  // The same session, named the new way by an upgraded client: it is the same session.
  const second = await open(t.url, "c1", [SUBPROTOCOL, streamsProtocol(NAME)]);
  try {
    assert.match(second.caps, /"streams-resumed"/);
  } finally {
    await second.peer.close();
  }
  const third = await open(`${t.url}?streams=${NAME}`, "c1");
  try {
    assert.match(third.caps, /"streams-resumed"/);
  } finally {
    await third.peer.close();
  }
});

Deno.test("stream session: our client's upgrades keep the name out of the URL and resume by the header", async () => {
  const seen: { url: string; protocols: string }[] = [];
  await using t = await startServer({
    authenticate: (request) => {
      seen.push({
        url: request.url,
        protocols: request.headers.get("sec-websocket-protocol") ?? "",
      });
      return "alice";
    },
  });
  t.server.onStream("app/upload", async (msg) => {
    let n = 0;
    for await (const chunk of msg.stream) n += chunk.byteLength;
    return n;
  });
  const streams = clientStreams();
  const client = connect(t.url, { streams, reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
  try {
    const h = await client.ready;
    assert.ok(h.server?.capabilities.includes("streams"));
    assert.equal(await client.upload("app/upload", new Uint8Array(1000)), 1000);
    const first = t.server.connections()[0].id;
    t.server.closeConnection(first, 1001, "drop");
    await until(
      () => t.server.connections().some((c) => c.id !== first),
      "the reconnect",
      10_000,
    );
    // The session resumed (a fresh one would have failed the client's streams): uploads go on.
    assert.equal(await client.upload("app/upload", new Uint8Array(500)), 500);
    assert.equal(t.server.stats().streams!.sessions, 1);
    assert.equal(seen.length, 2);
    for (const s of seen) {
      assert.ok(!s.url.includes("streams="), s.url);
      assert.ok(!s.url.includes(streams.offer()), s.url);
      assert.ok(s.protocols.includes(streamsProtocol(streams.offer())), s.protocols);
    }
  } finally {
    client.close();
  }
});
