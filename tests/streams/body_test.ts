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
  const first = (await s.read(0))!;
  assert.deepEqual(first, data.subarray(0, first.byteLength));
  const pending = s.read(0);
  assert.equal(s.seek(7), true);
  assert.equal(await pending, null, "the stale read's bytes are not returned");
  const parts: Uint8Array[] = [];
  for (let p = await s.read(0); p; p = await s.read(0)) parts.push(p);
  const rest = new Uint8Array(await new Blob(parts as Uint8Array<ArrayBuffer>[]).arrayBuffer());
  assert.deepEqual(rest, data.subarray(7));
});

Deno.test("bodySource() seeks a ReadableStream only to where it is", async () => {
  const s = bodySource(new Blob([bytes(10)]).stream());
  assert.equal(s.size, undefined);
  const first = (await s.read(0))!;
  assert.equal(s.seek(first.byteLength), true);
  assert.equal(s.seek(0), false);
  assert.throws(() => bodySource("text" as unknown as Uint8Array), TypeError);
});
