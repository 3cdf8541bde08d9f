/**
 * `wire.maxReassemblyBytesPerIp` under attack on real sockets (docs/security.md): a chunked
 * message reserves its announced size in the server-wide `wire.totalReassemblyBytes` (256 MiB)
 * and keeps it while it makes `reassemblyMinRate` (64 KiB/s) of progress. One address with four
 * connections announced 64 MiB each and held the whole budget for about 17 minutes on 256 KiB/s
 * of upload: every other client's chunked message was refused (`reassembly-busy`). Now one
 * address (IPv6: its /64) reserves at most `maxReassemblyBytesPerIp` (64 MiB): its further
 * messages are refused, and another address's message goes through.
 *
 * Addresses come from a test query parameter through `server.handler(request, info)`.
 */
import assert from "node:assert/strict";
import { createServer } from "../../lib/server/server.ts";
import { encodeChunk, splitIntoChunks } from "../../lib/wire/chunking.ts";
import { FLAG_RAW } from "../../lib/wire/flags.ts";
import { peerAt, type RawPeer } from "../_peer.ts";
import { serveAsTestIp } from "../_server.ts";

const MiB = 1024 * 1024;

Deno.test("wire.maxReassemblyBytesPerIp: one address cannot reserve the server's reassembly memory", async () => {
  const server = createServer({
    onError: () => {},
    rateLimit: false,
    heartbeat: false,
    wire: { reassemblyGraceMs: 60_000 }, // the attackers' reservations stay for the test
  });
  server.on("test/size", (msg) => (msg.data as { s: string }).s.length);
  const { http, base } = serveAsTestIp(server);
  const peers: RawPeer[] = [];
  async function open(ip: string): Promise<RawPeer> {
    const peer = peerAt(base, ip, { wire: "chunking" });
    peers.push(peer);
    await peer.opened;
    assert.match(await peer.next(), /"chunking"/);
    return peer;
  }
  /** Pings; the frames the server sent before the pong. */
  async function sync(peer: RawPeer, tag: string): Promise<string[]> {
    peer.send(`[["chsk/ws-ping"],"${tag}"]`);
    const before: string[] = [];
    for (;;) {
      const text = await peer.next(10_000);
      if (text === `["pong","${tag}"]`) return before;
      before.push(text);
    }
  }
  try {
    // Four connections of one address each announce a 64 MiB message (the default limits) and
    // send its first chunk: 256 MiB, the whole default budget, reserved.
    const announced = new Uint8Array(64 * MiB);
    const refusals: string[] = [];
    for (let i = 0; i < 4; i++) {
      const atk = await open("198.51.100.66");
      atk.send(encodeChunk(announced, 0, 0, 1000));
      refusals.push(...await sync(atk, `a${i}`));
    }
    assert.equal(refusals.length, 3, `the address's messages past its share: ${refusals}`);
    for (const r of refusals) assert.match(r, /"reassembly-busy".*from one address/);

    // Another address's chunked request is admitted and answered.
    const victim = await open("192.0.2.10");
    const text = `[["test/size",{"s":"${"v".repeat(MiB)}"}],"big"]`;
    const body = new TextEncoder().encode(text);
    for (const chunk of splitIntoChunks({ flag: FLAG_RAW, body }, { messageId: 0 })) {
      victim.send(chunk);
    }
    assert.equal(await victim.next(10_000), `[${MiB},"big"]`);
  } finally {
    for (const p of peers) p.ws.close();
    server.closeAll();
    await http.shutdown();
  }
});
