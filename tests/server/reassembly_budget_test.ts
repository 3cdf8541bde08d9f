/**
 * The chunk-reassembly attack of issue 11 §3 through real sockets: a new chunked message reserves
 * its announced size; other connections announcing or really uploading never drop a message that
 * was admitted; new messages are refused (`reassembly-busy`) once the budget is reserved; and a
 * liar that stops making progress is dropped, which frees its reservation.
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
function chunksOf(text: string, messageId: number, chunkSize = CHUNK): Uint8Array[] {
  const body = new TextEncoder().encode(text);
  return splitIntoChunks({ flag: FLAG_RAW, body }, { chunkSize, messageId });
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

/** The next frame, which must be a `sente-lite/error` push; returns its body. */
async function wireError(peer: RawPeer): Promise<{ code: string; message: string }> {
  const [[[id, body]]] = JSON.parse(await peer.next(10_000));
  assert.equal(id, "sente-lite/error");
  return body;
}

/** Asserts that `frames` (from {@linkcode sync}) is one `reassembly-busy` error; returns its message. */
function refusal(frames: string[]): string {
  assert.equal(frames.length, 1, `one answer, got ${frames.join(" ")}`);
  const [[[id, body]]] = JSON.parse(frames[0]);
  assert.equal(id, "sente-lite/error");
  assert.equal(body.code, "reassembly-busy");
  return body.message;
}

Deno.test("chunk reassembly: an admitted request completes while others fill the budget", async () => {
  await using t = await startServer({
    rateLimit: false,
    wire: {
      totalReassemblyBytes: 8 * MiB,
      maxAssembledBytes: 4 * MiB,
      maxBufferedBytes: 4 * MiB,
      reassemblyGraceMs: 60_000, // this test is not about the minimum rate
    },
  });
  t.server.on("test/size", (msg) => (msg.data as { s: string }).s.length);

  // The victim starts a legitimate 1.5 MiB request in 64 KiB chunks: admitted, all reserved.
  const victim = await chunkingPeer(t.url);
  const text = `[["test/size",{"s":"${"v".repeat(1.5 * MiB)}"}],"big"]`;
  const request = chunksOf(text, 0);
  assert.ok(request.length > 20);
  victim.send(request[0]);
  assert.deepEqual(await sync(victim, "v0"), []);

  // Two attackers reserve exactly what is left (4 MiB + the rest) and really upload all of it
  // but the last chunk: the memory now held is theirs.
  const attackers = await Promise.all(Array.from({ length: 5 }, () => chunkingPeer(t.url)));
  const fillers = [lie(4 * MiB, 0), lie(4 * MiB - (text.length + 1), 0)];
  for (const [i, chunks] of fillers.entries()) {
    for (const chunk of chunks.slice(0, -1)) attackers[i].send(chunk);
    assert.deepEqual(await sync(attackers[i], `fill${i}`), [], "admitted, every chunk taken");
  }

  // Every NEW message is now refused, whatever its size or connection: attackers that announce
  // 4 MiB (the attack, scaled), or 1 MiB and 500 KiB in 1000 small chunks, and upload.
  const others = [
    splitIntoChunks(new Uint8Array(4 * MiB), { chunkSize: CHUNK, messageId: 0 }).slice(0, 1),
    splitIntoChunks(new Uint8Array(MiB), { chunkSize: 1049, messageId: 0 }).slice(0, -1),
    splitIntoChunks(new Uint8Array(500 * KiB), { chunkSize: 512, messageId: 0 }).slice(0, -1),
  ];
  const answers: string[][] = [];
  for (const [i, chunks] of others.entries()) {
    const peer = attackers[2 + i];
    for (const chunk of chunks) peer.send(chunk);
    answers.push(await sync(peer, `new${i}`));
  }

  // The victim's admitted request completes and is answered. Before: the old code evicted it
  // (chunk-evicted) when the attackers announced; charging the budget by bytes received refused
  // its next chunk (reassembly-busy) once the attackers' uploads filled the budget.
  for (const chunk of request.slice(1)) victim.send(chunk);
  assert.equal(await victim.next(10_000), `[${1.5 * MiB},"big"]`);

  // The new messages were refused: one error each, their later chunks ignored silently.
  for (const frames of answers) assert.match(refusal(frames), /message 0 refused: the server's/);

  // A connection's own bound: a second message beside attacker 0's 4 MiB is refused too.
  attackers[0].send(lie(100 * KiB, 1)[0]);
  assert.match(refusal(await sync(attackers[0], "own")), /this connection's incomplete messages/);

  // Its reservation released, a small request fits and is answered.
  const small = chunksOf(`[["test/size",{"s":"${"w".repeat(100 * KiB)}"}],"small"]`, 1);
  for (const chunk of small) victim.send(chunk);
  assert.equal(await victim.next(10_000), `[${100 * KiB},"small"]`);

  assert.equal(t.server.stats().errors["reassembly-busy"], 4);
  assert.equal(t.server.stats().errors["chunk-evicted"], undefined);
  for (const peer of [victim, ...attackers]) await peer.close();
});

Deno.test("chunk reassembly: a liar that stops making progress is dropped and frees its reservation", async () => {
  await using t = await startServer({
    rateLimit: false,
    wire: {
      totalReassemblyBytes: 2 * MiB,
      maxAssembledBytes: MiB,
      maxBufferedBytes: MiB,
      reassemblyGraceMs: 50, // then 64 KiB/s (the default): 1 KiB buys 16 ms more
    },
  });
  t.server.on("test/size", (msg) => (msg.data as { s: string }).s.length);

  // Two liars reserve the whole budget (1 MiB each) with one 1 KiB chunk and stop.
  const liars = await Promise.all([chunkingPeer(t.url), chunkingPeer(t.url)]);
  for (const liar of liars) {
    liar.send(splitIntoChunks(new Uint8Array(MiB), { chunkSize: 1049, messageId: 0 })[0]);
  }
  // Each is told its own loss: admitted (no reassembly-busy), then dropped for being too slow.
  for (const liar of liars) {
    const error = await wireError(liar);
    assert.equal(error.code, "chunk-timeout");
    assert.match(error.message, /message 0 got \d+ of 1048576 bytes in \d+ ms, slower than 65536/);
  }
  assert.equal(t.server.stats().errors["chunk-timeout"], 2);

  // Both reservations are free again: two 1 MiB requests (the whole budget) are admitted and
  // answered, one on a liar's own connection (a new message id; id 0 stays ignored). That one has
  // no grace (its last message was dropped): its first 512 KiB chunk buys 8 s at 64 KiB/s.
  const honest = await chunkingPeer(t.url);
  const size = MiB - 64;
  const requests = [honest, liars[0]].map((peer, i) => {
    const text = `[["test/size",{"s":"${"h".repeat(size - 40)}"}],"r${i}"]`;
    return { peer, chunks: chunksOf(text, 1, 512 * KiB), i };
  });
  for (const { chunks } of requests) assert.equal(chunks.length, 2);
  for (const { peer, chunks } of requests) peer.send(chunks[0]); // both reserved before the rest
  for (const { peer, chunks } of requests) for (const chunk of chunks.slice(1)) peer.send(chunk);
  for (const { peer, i } of requests) {
    assert.equal(await peer.next(10_000), `[${size - 40},"r${i}"]`);
  }
  assert.equal(t.server.stats().errors["reassembly-busy"], undefined);
  for (const peer of [honest, ...liars]) await peer.close();
});
