/**
 * `maxConnectionsPerIp` for IPv6, on real sockets (docs/security.md): every other per-IP limit
 * counts an IPv6 client by its /64 (the smallest block a host is given), but admission counted
 * exact addresses, so one host with a /64 opened `maxConnectionsPerIp` connections from each of
 * its 2^64 addresses, up to the server-wide `maxConnections`: then every other client got 503
 * (measured: a limit of 3 per IP let 8 of 8 connections in from one /64). Now a /64 is one
 * address for admission too: past the limit it gets 429, and another /64 still gets in.
 *
 * Addresses come from a test query parameter through `server.handler(request, info)`.
 */
import assert from "node:assert/strict";
import { createServer } from "../../lib/server/server.ts";
import { peerAt, type RawPeer } from "../_peer.ts";
import { serveAsTestIp } from "../_server.ts";

const PER_IP = 3;

Deno.test("maxConnectionsPerIp counts an IPv6 client by its /64, as the other per-IP limits", async () => {
  const server = createServer({ onError: () => {}, maxConnectionsPerIp: PER_IP, heartbeat: false });
  const { http, base } = serveAsTestIp(server);
  const peers: RawPeer[] = [];
  async function open(ip: string): Promise<boolean> {
    const peer = peerAt(base, ip);
    peers.push(peer);
    return await peer.opened.then(() => true, () => false);
  }
  try {
    const opened: boolean[] = [];
    for (let i = 1; i <= 8; i++) opened.push(await open(`2001:db8:0:7::${i.toString(16)}`));
    assert.equal(opened.filter(Boolean).length, PER_IP, `${opened} from one /64`);
    assert.equal(server.stats().errors["too-many-connections"], 8 - PER_IP);
    assert.ok(await open("2001:db8:0:8::1"), "another /64 gets in");
    // Spellings of one address are one address: the same /64.
    assert.equal(await open("2001:DB8:0:7:0:0:0:99"), false);
  } finally {
    for (const p of peers) p.ws.close();
    server.closeAll();
    await http.shutdown();
  }
});
