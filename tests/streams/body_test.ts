import assert from "node:assert/strict";
import { bodySource } from "../../lib/streams/body.ts";
import { bytes } from "./_pair.ts";

Deno.test("bodySource() reads a Uint8Array in pieces of maxBytes and seeks anywhere", async () => {
  const data = bytes(100);
  const s = bodySource(data);
  assert.equal(s.size, 100);
  assert.deepEqual(await s.read(40), data.subarray(0, 40));
  assert.equal(s.seek(10), true);
  assert.deepEqual(await s.read(1000), data.subarray(10));
  assert.equal(await s.read(1), null);
});

Deno.test("bodySource() re-reads a Blob from an offset, and a read pending at the seek is stale", async () => {
  const data = bytes(200_000);
  const s = bodySource(new Blob([data]));
  assert.equal(s.size, 200_000);
  const first = (await s.read(65536))!;
  assert.deepEqual(first, data.subarray(0, first.byteLength));
  const pending = s.read(65536);
  assert.equal(s.seek(7), true);
  assert.equal(await pending, null, "the stale read's bytes are not returned");
  const parts: Uint8Array[] = [];
  for (let p = await s.read(65536); p; p = await s.read(65536)) parts.push(p.slice());
  const rest = new Uint8Array(await new Blob(parts as Uint8Array<ArrayBuffer>[]).arrayBuffer());
  assert.deepEqual(rest, data.subarray(7));
});

Deno.test("bodySource() seeks a ReadableStream only to where it is", async () => {
  const s = bodySource(new Blob([bytes(10)]).stream());
  assert.equal(s.size, undefined);
  const first = (await s.read(65536))!;
  assert.equal(s.seek(first.byteLength), true);
  assert.equal(s.seek(0), false);
  assert.throws(() => bodySource("text" as unknown as Uint8Array), TypeError);
});

Deno.test("bodySource() reads a byte stream with BYOB into one reused buffer, pieces ≤ maxBytes", async () => {
  const data = bytes(300_000);
  let at = 0;
  let byobPulls = 0;
  const views = new Set<number>();
  const stream = new ReadableStream({
    type: "bytes",
    pull(c) {
      const view = c.byobRequest?.view;
      if (!view) throw new Error("a default read: the source would allocate a chunk");
      byobPulls++;
      views.add(view.byteLength);
      if (at >= data.byteLength) {
        c.close();
        c.byobRequest!.respond(0);
        return;
      }
      const n = Math.min(view.byteLength, data.byteLength - at);
      new Uint8Array(view.buffer, view.byteOffset, n).set(data.subarray(at, at + n));
      at += n;
      c.byobRequest!.respond(n);
    },
  });
  const s = bodySource(stream);
  const got: Uint8Array<ArrayBuffer>[] = [];
  let previous: Uint8Array | null = null;
  for (let p = await s.read(65536); p; p = await s.read(65536)) {
    assert.ok(p.byteLength <= 65536);
    if (previous) assert.equal(previous.byteLength, 0, "the last piece's buffer was reused");
    got.push(p.slice());
    previous = p;
  }
  assert.deepEqual(new Uint8Array(await new Blob(got).arrayBuffer()), data);
  assert.ok(byobPulls > 4);
  assert.deepEqual([...views], [65536], "every read is into the one 64 KiB buffer");
});

Deno.test("bodySource() reads a stream that is not a byte stream chunk by chunk", async () => {
  const chunks = [bytes(10, 1), bytes(70_000, 2)];
  const s = bodySource(ReadableStream.from(chunks));
  assert.equal(await s.read(65536), chunks[0]);
  assert.equal(await s.read(65536), chunks[1], "as given, not cut");
  assert.equal(await s.read(65536), null);
  const bad = bodySource(ReadableStream.from(["text"]) as unknown as ReadableStream<Uint8Array>);
  await assert.rejects(bad.read(65536), TypeError);
});

Deno.test("bodySource() reads a Blob in pieces of at most maxBytes (not one piece per Blob part)", async () => {
  const data = bytes(1 << 20, 3);
  const s = bodySource(new Blob([data]));
  const got: Uint8Array<ArrayBuffer>[] = [];
  for (let p = await s.read(65536); p; p = await s.read(65536)) {
    assert.ok(p.byteLength <= 65536, `a piece of ${p.byteLength} bytes`);
    got.push(p.slice());
  }
  assert.deepEqual(new Uint8Array(await new Blob(got).arrayBuffer()), data);
});
