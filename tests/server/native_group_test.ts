/** Unit tests of lib/server/native_group.ts. */
import assert from "node:assert/strict";
import { NativeGroup } from "../../lib/server/native_group.ts";

interface Member {
  nativeAt: number;
  readonly n: number;
}

const members = (k: number): Member[] => Array.from({ length: k }, (_, n) => ({ nativeAt: -1, n }));

Deno.test("NativeGroup adds and removes in any order; each member keeps its place", () => {
  const group = new NativeGroup<Member>();
  const all = members(6);
  for (const m of all) group.add(m);
  assert.equal(group.size, 6);
  assert.equal(group.delete(all[1]), true);
  assert.equal(group.delete(all[1]), false, "not twice");
  assert.equal(all[1].nativeAt, -1);
  assert.equal(group.delete(all[5]), true); // the last one
  assert.equal(group.delete(all[0]), true);
  assert.equal(group.size, 3);
  const left = new Set<number>();
  group.forEachLastFirst((m) => left.add(m.n));
  assert.deepEqual([...left].sort(), [2, 3, 4]);
  assert.ok([2, 3, 4].includes(group.any!.n));
  assert.equal(group.delete(members(1)[0]), false, "a stranger");
  for (const m of [all[2], all[3], all[4]]) group.delete(m);
  assert.equal(group.size, 0);
  assert.equal(group.any, undefined);
});

Deno.test("NativeGroup.forEachLastFirst() sees every member once while they remove themselves", () => {
  const group = new NativeGroup<Member>();
  const all = members(50);
  for (const m of all) group.add(m);
  const seen: number[] = [];
  group.forEachLastFirst((m) => {
    seen.push(m.n);
    if (m.n % 3 === 0) group.delete(m); // as closeSlow() does
  });
  assert.deepEqual(seen.sort((a, b) => a - b), all.map((m) => m.n));
  assert.equal(group.size, 50 - 17);
  const after: number[] = [];
  group.forEachLastFirst((m) => after.push(m.n));
  assert.deepEqual(after.sort((a, b) => a - b), all.map((m) => m.n).filter((n) => n % 3 !== 0));
});
