/** Unit tests of lib/server/delivery_budget.ts: size buckets and the largest-first index. */
import assert from "node:assert/strict";
import { bucketOf, type Held, SizeIndex } from "../../lib/server/delivery_budget.ts";

const held = (bytes: number): Held => ({ bytes, counted: 0, bucket: -1, index: null });

Deno.test("bucketOf(): four buckets per power of two, monotonic, -1 for nothing", () => {
  assert.equal(bucketOf(0), -1);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(bucketOf), [0, 4, 6, 8, 9, 10, 11, 12]);
  // Monotonic, and the sizes in one bucket differ by less than a factor 1.25.
  const first = new Map<number, number>();
  let last = -1;
  for (let b = 1; b <= 1 << 16; b++) {
    const k = bucketOf(b);
    assert.ok(k >= last, `monotonic at ${b}`);
    last = k;
    if (!first.has(k)) first.set(k, b);
    assert.ok(b / first.get(k)! < 1.25, `bucket ${k} spans ${first.get(k)}..${b}`);
  }
  assert.ok(bucketOf(2 ** 40) > bucketOf(2 ** 31) && bucketOf(2 ** 31) > bucketOf(2 ** 31 - 1));
});

Deno.test("SizeIndex: largest() finds a buffer at least 0.8 × the largest; place() follows changes", () => {
  const index = new SizeIndex<Held>();
  assert.equal(index.largest(), undefined);
  const hs = [10, 500, 90, 480, 7].map(held);
  for (const h of hs) index.place(h);
  assert.ok([hs[1], hs[3]].includes(index.largest()!));
  hs[1].bytes = 5;
  index.place(hs[1]);
  hs[3].bytes = 0; // empty: out of the index
  index.place(hs[3]);
  assert.equal(hs[3].index, null);
  assert.equal(index.largest(), hs[2]);
  hs[4].bytes = 1_000_000;
  index.place(hs[4]);
  assert.equal(index.largest(), hs[4]);
  index.remove(hs[4]);
  index.remove(hs[4]); // twice is harmless
  assert.equal(index.largest(), hs[2]);
});

Deno.test("SizeIndex: a buffer moves between indexes (connected ↔ away) and sits in one", () => {
  const away = new SizeIndex<Held>();
  const attached = new SizeIndex<Held>();
  const h = held(100);
  away.place(h);
  attached.place(h);
  assert.equal(away.largest(), undefined);
  assert.equal(attached.largest(), h);
  away.place(h);
  assert.equal(attached.largest(), undefined);
  assert.equal(away.largest(), h);
});
