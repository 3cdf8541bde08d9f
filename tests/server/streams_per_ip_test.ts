/**
 * `streams.maxStreamsPerIp` under attack on real sockets (docs/security.md): one address opens
 * streams it never sends a byte of (OPEN frames only: no credit is ever used), from several
 * connections with fresh client ids so `maxIncomingStreams` (per connection) never bites, until
 * the server-wide `maxStreams` is full. Every other client's upload was then refused
 * (`stream-limit`) while the attacker trickled or simply reopened (`idleTimeoutMs` frees a slot
 * only after 30 s). Now one IP holds at most `maxStreamsPerIp` of the server's streams: its own
 * further OPENs are refused, and another address's upload goes through.
 *
 * Addresses come from a test query parameter through `server.handler(request, info)`.
 */
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import { clientStreams } from "../../client_streams.ts";
import { createServer } from "../../lib/server/server.ts";
import { decodeStreamFrame, encodeOpen } from "../../lib/streams/frames.ts";
import { RawPeer } from "../_peer.ts";
import { serveAsTestIp, until } from "../_server.ts";

const MAX_STREAMS = 32;
const PER_CONN = 8;
const PER_IP = 8;

Deno.test("streams.maxStreamsPerIp: one address opening idle streams from many connections cannot fill the server's budget", async () => {
  const server = createServer({
    onError: () => {},
    rateLimit: false,
    streams: { maxStreams: MAX_STREAMS, maxIncomingStreams: PER_CONN, maxStreamsPerIp: PER_IP },
  });
  server.onStream("app/upload", async (msg) => {
    let n = 0;
    for await (const chunk of msg.stream) n += chunk.byteLength;
    return { n };
  });
  const { http, base } = serveAsTestIp(server);
  const peers: RawPeer[] = [];
  const refused: string[] = [];
  try {
    // The attacker: enough connections to fill the server twice over, PER_CONN idle streams each.
    for (let c = 0; c < (2 * MAX_STREAMS) / PER_CONN; c++) {
      const u = new URL(base);
      u.searchParams.set("client-id", `atk-${c}-${crypto.randomUUID()}`);
      u.searchParams.set("packer", "json");
      u.searchParams.set("streams", `s${c}`);
      u.searchParams.set("test-ip", "198.51.100.66");
      const peer = new RawPeer(u.href);
      peers.push(peer);
      await peer.opened;
      const [[id, [, , data]]] = await peer.nextJson() as [
        [string, [string, null, { "sente-lite": { capabilities: string[] } }]],
      ];
      assert.equal(id, "chsk/handshake");
      assert.ok(data["sente-lite"].capabilities.includes("streams"));
      peer.ws.binaryType = "arraybuffer";
      peer.ws.addEventListener("message", (e) => {
        if (!(e.data instanceof ArrayBuffer)) return;
        const f = decodeStreamFrame(new Uint8Array(e.data));
        if (f.type === "cancel") refused.push(f.code);
      });
      for (let s = 0; s < PER_CONN; s++) {
        peer.ws.send(encodeOpen(2 * s + 1, "app/upload", undefined, false, new Uint8Array()));
      }
    }
    const held = () => server.stats().streams!.active;
    await until(() => held() + refused.length >= 2 * MAX_STREAMS, "every OPEN answered or held");
    assert.equal(held(), PER_IP, "the attacker's address holds its share, no more");
    assert.ok(refused.every((code) => code === "stream-limit"));

    // Another address uploads while the attacker holds its streams.
    const u = new URL(base);
    u.searchParams.set("test-ip", "192.0.2.10");
    const honest = connect(u.href, { streams: clientStreams(), reconnect: false });
    try {
      await honest.ready;
      const reply = await honest.upload("app/upload", new Uint8Array(100_000));
      assert.deepEqual(reply, { n: 100_000 });
    } finally {
      honest.close();
    }
  } finally {
    for (const p of peers) p.ws.close();
    server.closeAll();
    await http.shutdown();
  }
});
