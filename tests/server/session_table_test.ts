/** Unit tests of lib/server/session_table.ts against a Map as the model. */
import assert from "node:assert/strict";
import { SessionTable } from "../../lib/server/session_table.ts";

interface Entry {
  readonly idLo: number;
  readonly n: number;
}

/** A small deterministic generator (xorshift32), so a failure replays. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x | 0;
  };
}

function agree(table: SessionTable<Entry>, model: Map<number, Entry>, keys: number[]): void {
  assert.equal(table.size, model.size);
  for (const k of keys) {
    assert.equal(table.get(k), model.get(k), `key ${k}`);
    assert.equal(table.has(k), model.has(k));
  }
  const seen = [...table.values()].map((e) => e.idLo).sort((a, b) => a - b);
  assert.deepEqual(seen, [...model.keys()].sort((a, b) => a - b));
}

Deno.test("SessionTable keeps what a Map keeps through adds, replacements, deletes, growth and shrinking", () => {
  for (const seed of [1, 7, 42, 1234567]) {
    const next = rng(seed);
    const table = new SessionTable<Entry>();
    const model = new Map<number, Entry>();
    // Few distinct keys, so that the same keys come back: replacements, deletes of absent keys.
    const pool = Array.from({ length: 3000 }, () => next());
    pool.push(0, -1, 2 ** 31 - 1, -(2 ** 31));
    for (let step = 0; step < 30000; step++) {
      const k = pool[(next() >>> 0) % pool.length];
      const grow = step < 15000 ? 3 : 1; // fill up, then drain
      if ((next() >>> 0) % 4 < grow) {
        const e = { idLo: k, n: step };
        table.set(e);
        model.set(k, e);
      } else {
        assert.equal(table.delete(k), model.delete(k));
      }
      if (step % 1000 === 0) agree(table, model, pool);
    }
    agree(table, model, pool);
    for (const k of pool) table.delete(k);
    assert.equal(table.size, 0);
    assert.deepEqual([...table.values()], []);
  }
});

Deno.test("SessionTable finds every entry among keys that all start at the same slot", () => {
  // 12 keys whose home is slot 0 of the first table (16 slots, so it does not grow yet): probing
  // and the backward shift on delete must still reach each one.
  const table = new SessionTable<Entry>();
  const keys: number[] = [];
  for (let k = 1; keys.length < 12; k++) if (Math.imul(k, 0x9e3779b1) >>> 28 === 0) keys.push(k);
  keys.forEach((k, n) => table.set({ idLo: k, n }));
  for (const [n, k] of keys.entries()) assert.equal(table.get(k)?.n, n);
  for (const k of keys.filter((_, i) => i % 2 === 0)) assert.ok(table.delete(k));
  for (const [n, k] of keys.entries()) assert.equal(table.get(k)?.n, n % 2 === 0 ? undefined : n);
  assert.equal(table.get(12345), undefined);
  assert.equal(table.delete(12345), false);
});
