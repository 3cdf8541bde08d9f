/**
 * The chunk-reassembly attack of issue 11 §3 through real sockets: connections that announce huge
 * chunked messages and send one chunk must not make the server drop another connection's
 * legitimate chunked request; once the server-wide budget is really full, new messages are refused
 * with `reassembly-busy` and the connections go on.
 */
import assert from "node:assert/strict";
import { RawPeer } from "../_peer.ts";
import { startServer } from "../_server.ts";
import { splitIntoChunks } from "../../lib/wire/chunking.ts";
import { FLAG_RAW } from "../../lib/wire/flags.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 64 * KiB;

/** A raw peer that negotiated chunking (no compression), after its handshake. */
async function chunkingPeer(url: string): Promise<RawPeer> {
  const u = new URL(url);
  u.searchParams.set("client-id", crypto.randomUUID());
  u.searchParams.set("packer", "json");
  u.searchParams.set("wire", "chunking");
  const peer = new RawPeer(u.href);
  await peer.opened;
  const handshake = await peer.next();
  assert.match(handshake, /"chunking"/, "chunking negotiated");
  return peer;
}

/** The chunk frames of a raw (`0x00`-flagged) text payload. */
function chunksOf(text: string, messageId: number): Uint8Array[] {
  const body = new TextEncoder().encode(text);
  return splitIntoChunks({ flag: FLAG_RAW, body }, { chunkSize: CHUNK, messageId });
}

/** Chunks of a message that announces `total` bytes (filler, not valid JSON: never completed). */
function lie(total: number, messageId: number): Uint8Array[] {
  return splitIntoChunks(new Uint8Array(total), { chunkSize: CHUNK, messageId });
}

/** Pings and waits for the pong: every frame sent before it has been processed by the server. */
async function sync(peer: RawPeer, tag: string): Promise<string[]> {
  peer.send(`[["chsk/ws-ping"],"${tag}"]`);
  const before: string[] = [];
  for (let i = 0; i < 10; i++) {
    const text = await peer.next(10_000);
    if (text === `["pong","${tag}"]`) return before;
    before.push(text);
  }
  throw new Error(`no pong for ${tag}; got ${before.join(" ")}`);
}

Deno.test("chunk reassembly: announced sizes of other connections never drop a legit request", async () => {
  await using t = await startServer({
    rateLimit: false,
    wire: {
      totalReassemblyBytes: 8 * MiB,
      maxAssembledBytes: 4 * MiB,
      maxBufferedBytes: 4 * MiB,
    },
  });
  t.server.on("test/size", (msg) => (msg.data as { s: string }).s.length);

  // The victim starts a legitimate 1.5 MiB request in 64 KiB chunks.
  const victim = await chunkingPeer(t.url);
  const request = chunksOf(`[["test/size",{"s":"${"v".repeat(1.5 * MiB)}"}],"big"]`, 0);
  assert.ok(request.length > 20);
  victim.send(request[0]);
  assert.deepEqual(await sync(victim, "v0"), []);

  // Five attackers each announce the largest message (4 MiB) and send its first chunk only.
  const attackers = await Promise.all(Array.from({ length: 5 }, () => chunkingPeer(t.url)));
  for (const [i, attacker] of attackers.entries()) {
    attacker.send(lie(4 * MiB, 0)[0]);
    assert.deepEqual(await sync(attacker, `a${i}`), [], "the first chunk is admitted");
  }

  // The victim's request completes and is answered (before the fix: chunk-evicted, no answer).
  for (const chunk of request.slice(1)) victim.send(chunk);
  assert.equal(await victim.next(10_000), `[${1.5 * MiB},"big"]`);

  // Filling the server-wide budget takes real bytes: attacker 0 sends all but its last chunk.
  const full = lie(4 * MiB, 0);
  for (const chunk of full.slice(1, -1)) attackers[0].send(chunk);
  assert.deepEqual(await sync(attackers[0], "fill"), []);

  // Now 4 MiB + 4 × 64 KiB are held: a new 4 MiB message is refused, on a fresh connection too.
  const late = await chunkingPeer(t.url);
  const refused = lie(4 * MiB, 7);
  late.send(refused[0]);
  const [answer] = await sync(late, "l0");
  const [[[id, body]]] = JSON.parse(answer);
  assert.equal(id, "sente-lite/error");
  assert.equal(body.code, "reassembly-busy");
  assert.match(body.message, /message 7 refused: the server's reassembly memory/);
  // Its later chunks are ignored: no second error, and the connection goes on.
  for (const chunk of refused.slice(1, 4)) late.send(chunk);
  assert.deepEqual(await sync(late, "l1"), []);

  // A connection's own bound: a second 4 MiB message beside its first is refused too.
  attackers[1].send(lie(4 * MiB, 1)[0]);
  const [own] = await sync(attackers[1], "own");
  assert.match(own, /"reassembly-busy".*this connection's incomplete messages/);

  // A small request still fits and is answered.
  const small = chunksOf(`[["test/size",{"s":"${"w".repeat(100 * KiB)}"}],"small"]`, 1);
  for (const chunk of small) victim.send(chunk);
  assert.equal(await victim.next(10_000), `[${100 * KiB},"small"]`);

  assert.equal(t.server.stats().errors["reassembly-busy"], 2);
  assert.equal(t.server.stats().errors["chunk-evicted"], undefined);
  for (const peer of [victim, late, ...attackers]) await peer.close();
});
