/**
 * Large fan-outs over real sockets (Deno: no native topics, so the per-server queue): with a
 * slice of 2 recipients per turn, every peer gets every broadcast in order, and a push sent after
 * the broadcasts reaches its connection after them; a reply to another peer is not held back
 * until the whole queue is sent.
 */
import assert from "node:assert/strict";
import { startServer } from "../_server.ts";
import { RawPeer } from "../_peer.ts";

async function peer(url: string, id: string): Promise<RawPeer> {
  const p = new RawPeer(`${url}?client-id=${id}&packer=json`);
  await p.opened;
  await p.next(5000); // the handshake
  return p;
}

/**
 * The next `count` frames: a push (`[[event], null]`) as its event, a reply (`[value, cbId]`) as
 * `["reply", value]`.
 */
async function read(p: RawPeer, count: number): Promise<unknown[][]> {
  const events: unknown[][] = [];
  for (let i = 0; i < count; i++) {
    const frame = JSON.parse(await p.next(5000)) as unknown[];
    events.push(frame[1] === null ? (frame[0] as unknown[][])[0] : ["reply", frame[0]]);
  }
  return events;
}

Deno.test("fan-out queue over real sockets: order per connection across slices and direct sends", async () => {
  await using t = await startServer({ fanOutSlice: 2, rateLimit: false });
  t.server.on("test/burst", (msg) => {
    for (let n = 1; n <= 5; n++) t.server.broadcast("test/b", n);
    msg.send("test/after", 0);
    return "ok";
  });
  const peers: RawPeer[] = [];
  try {
    for (let i = 0; i < 8; i++) peers.push(await peer(t.url, `p${i}`));
    const sender = peers[7]; // served last by the queue
    sender.send(JSON.stringify([["test/burst", null], "c1"]));
    // The sender: the five broadcasts, then the push, then the reply.
    const got = await read(sender, 7);
    assert.deepEqual(got.slice(0, 5).map((e) => e[1]), [1, 2, 3, 4, 5]);
    assert.deepEqual(got[5], ["test/after", 0]);
    assert.deepEqual(got[6], ["reply", "ok"]);
    for (const p of peers.slice(0, 7)) {
      const events = await read(p, 5);
      assert.deepEqual(events.map((e) => e[0]), Array(5).fill("test/b"));
      assert.deepEqual(events.map((e) => e[1]), [1, 2, 3, 4, 5]);
    }
  } finally {
    await Promise.all(peers.map((p) => p.close().catch(() => {})));
  }
});
