import assert from "node:assert/strict";
import { DATA_HEADER_BYTES } from "../../lib/streams/frames.ts";
import type { StreamError } from "../../lib/streams/errors.ts";
import { sha256, toHex } from "../../lib/streams/sha256.ts";
import { bytes, pair, readAll } from "./_pair.ts";

/** DATA frames as the receiving mux got them (after the memory transport's delivery). */
function tap(joined: ReturnType<typeof pair>["joined"], wrap = (f: Uint8Array) => f) {
  const frames: Uint8Array[] = [];
  joined.ab.tamper = (f) => {
    const g = f[0] === 0x10 ? wrap(f) : f;
    if (f[0] === 0x10) frames.push(g);
    return g;
  };
  return frames;
}

Deno.test("IncomingStream.readable copies into a BYOB reader's buffer and frees each frame", async () => {
  const { client, joined, next } = pair({ frameBytes: 16 * 1024 });
  const frames = tap(joined);
  const data = bytes(200_000);
  const out = client.open("app/up", data);
  const reader = (await next()).readable.getReader({ mode: "byob" });
  // 10 000 bytes per read: frames are split across reads, and one buffer goes round.
  let buffer = new ArrayBuffer(10_000);
  const got: number[] = [];
  for (;;) {
    const { value, done } = await reader.read(new Uint8Array(buffer));
    if (done) break;
    got.push(...value);
    buffer = value.buffer;
  }
  await out.done;
  assert.deepEqual(new Uint8Array(got), data);
  assert.ok(frames.length >= 13);
  // Copied out whole, each frame's buffer was detached: its memory went back at once.
  for (const f of frames) assert.equal(f.buffer.byteLength, 0);
});

Deno.test("IncomingStream.readable hands a default reader the payload in the frame's own buffer", async () => {
  const { client, joined, next } = pair({ frameBytes: 16 * 1024 });
  const frames = tap(joined);
  const data = bytes(100_000);
  const out = client.open("app/up", data);
  const chunks: Uint8Array[] = [];
  for await (const chunk of (await next()).readable) chunks.push(chunk);
  await out.done;
  assert.deepEqual(new Uint8Array(chunks.flatMap((c) => [...c])), data);
  // No copy: each chunk is its frame's payload, the buffer moved to the reader.
  for (const c of chunks) assert.equal(c.byteOffset, DATA_HEADER_BYTES);
  for (const f of frames) assert.equal(f.buffer.byteLength, 0);
});

Deno.test("IncomingStream.readable copies a frame that shares its buffer, leaving the buffer intact", async () => {
  const { client, joined, next } = pair({ frameBytes: 16 * 1024 });
  // Each DATA frame arrives as a view of a larger buffer that holds other bytes after it.
  const frames = tap(joined, (f) => {
    const big = new Uint8Array(f.byteLength + 8).fill(7);
    big.set(f);
    return big.subarray(0, f.byteLength);
  });
  const data = bytes(50_000);
  const out = client.open("app/up", data);
  assert.deepEqual(await readAll((await next()).readable), data);
  await out.done;
  for (const f of frames) {
    assert.equal(f.buffer.byteLength, f.byteLength + 8);
    assert.deepEqual([...new Uint8Array(f.buffer, f.byteLength)], [7, 7, 7, 7, 7, 7, 7, 7]);
  }
});

Deno.test("IncomingStream.readable answers a BYOB read waiting at the end with done", async () => {
  const { client, next } = pair();
  const out = client.open("app/up", bytes(1000));
  const reader = (await next()).readable.getReader({ mode: "byob" });
  const first = await reader.read(new Uint8Array(4096));
  assert.equal(first.value?.byteLength, 1000);
  const last = await reader.read(new Uint8Array(first.value!.buffer));
  assert.equal(last.done, true);
  await out.done;
});

function hexOf(data: Uint8Array): string {
  const h = sha256();
  h.update(data);
  return toHex(h.digest());
}

Deno.test("IncomingStream.sha256 resolves with the checked digest in hex, undefined without integrity", async () => {
  const { client, next } = pair();
  const data = bytes(100_000);
  const out = client.open("app/up", data, { integrity: true });
  const inc = await next();
  assert.deepEqual(await readAll(inc.readable), data);
  assert.equal(await inc.sha256, hexOf(data));
  assert.match((await inc.sha256)!, /^[0-9a-f]{64}$/);
  await out.done;
  const plain = client.open("app/up", data);
  const inc2 = await next(2);
  await readAll(inc2.readable);
  assert.equal(await inc2.sha256, undefined);
  await plain.done;
});

Deno.test("IncomingStream.sha256 rejects with stream-integrity when the bytes differ", async () => {
  const { client, next, joined } = pair();
  joined.ab.tamper = (f) => {
    if (f[0] !== 0x10 || f.byteLength < 100) return f;
    const copy = new Uint8Array(f);
    copy[50] ^= 1;
    return copy;
  };
  const out = client.open("app/up", bytes(100_000), { integrity: true });
  const inc = await next();
  await assert.rejects(readAll(inc.readable));
  await assert.rejects(inc.sha256, (e: unknown) => (e as StreamError).code === "stream-integrity");
  await assert.rejects(out.done);
});
