import assert from "node:assert/strict";
import {
  checkUrl,
  socketSink,
  upgradeProtocols,
  upgradeUrl,
  wsUrl,
} from "../../lib/client/socket.ts";
import { resolveClientOptions } from "../../lib/client/options.ts";
import { ChannelCursors } from "../../lib/client/channel_cursors.ts";
import { SUBPROTOCOL } from "../../lib/protocol/token.ts";
import { ednPacker } from "../../edn.ts";
import { clientStreams } from "../../lib/client/streams.ts";
import { readStreamSession, STREAMS_PROTOCOL_PREFIX } from "../../lib/protocol/stream_session.ts";

Deno.test("wsUrl() turns http(s) into ws(s)", () => {
  assert.equal(wsUrl("http://h.test/chsk").href, "ws://h.test/chsk");
  assert.equal(wsUrl("https://h.test/chsk").href, "wss://h.test/chsk");
  assert.equal(wsUrl(new URL("ws://h.test/x")).href, "ws://h.test/x");
});

Deno.test("checkUrl() accepts ws(s) URLs and functions, and names what it refuses", () => {
  checkUrl("ws://h.test/chsk");
  checkUrl(() => "ws://h.test/chsk");
  assert.throws(() => checkUrl("/chsk"), /absolute ws\(s\) URL/);
  assert.throws(() => checkUrl("ftp://h.test/"), /must use ws: or wss:/);
  assert.throws(() => checkUrl(42 as unknown as string), /string, URL or function, got number/);
});

Deno.test("upgradeUrl() carries the client id, params and what the client offers", () => {
  const o = resolveClientOptions({ params: { room: "1" }, clientId: "c1" });
  const url = upgradeUrl("ws://h.test/chsk", o, "c1", "csrf", 0, new ChannelCursors());
  assert.equal(url.searchParams.get("room"), "1");
  assert.equal(url.searchParams.get("client-id"), "c1");
  assert.equal(url.searchParams.get("packer"), "json");
  assert.equal(url.searchParams.get("csrf-token"), null);
});

Deno.test("upgradeUrl() sends exactly Sente's query in the sente dialect", () => {
  const o = resolveClientOptions({ dialect: "sente", packer: ednPacker(), clientId: "c1" });
  const url = upgradeUrl("ws://h.test/chsk", o, "c1", "csrf", 0, new ChannelCursors());
  assert.deepEqual([...url.searchParams.keys()], ["client-id", "csrf-token"]);
});

Deno.test("upgradeProtocols() puts secrets in subprotocols after sente-lite's own", () => {
  assert.deepEqual(upgradeProtocols(undefined, null), [SUBPROTOCOL]);
  const protocols = upgradeProtocols("t0ken", "r3sume");
  assert.equal(protocols.length, 3);
  assert.equal(protocols[0], SUBPROTOCOL);
});

Deno.test("the stream session name travels as a subprotocol, never in the URL", () => {
  const streams = clientStreams();
  const o = resolveClientOptions({ streams, clientId: "c1" });
  const url = upgradeUrl("ws://h.test/chsk", o, "c1", undefined, 0, new ChannelCursors());
  assert.equal(url.searchParams.get("streams"), null);
  assert.ok(!url.href.includes(streams.offer()), url.href);
  const protocols = upgradeProtocols(undefined, null, streams.offer());
  assert.deepEqual(protocols, [SUBPROTOCOL, STREAMS_PROTOCOL_PREFIX + streams.offer()]);
  assert.equal(readStreamSession(protocols), streams.offer());
  // A valid subprotocol entry: only RFC 7230 token characters (the name is 32 hex digits).
  assert.match(protocols[1], /^sente-lite\.streams\.[0-9a-f]{32}$/);
});

Deno.test("socketSink() writes to the socket and reads its buffered amount live", () => {
  const sent: unknown[] = [];
  const ws = { bufferedAmount: 0, send: (f: unknown) => void sent.push(f) };
  const sink = socketSink(ws as unknown as WebSocket);
  sink.send("a");
  ws.bufferedAmount = 7;
  assert.deepEqual(sent, ["a"]);
  assert.equal(sink.bufferedAmount, 7);
});
