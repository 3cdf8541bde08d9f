import assert from "node:assert/strict";
import { UidRegistry } from "../../lib/server/uids.ts";

Deno.test("UidRegistry: first and last connection of a uid, one, two and back to one; views are live", () => {
  const reg = new UidRegistry<string>();
  const seen: string[][] = [];
  reg.watch((uids) => void seen.push([...uids]));
  assert.equal(reg.add("alice", "c1"), true);
  assert.deepEqual([...reg.connections("alice")], ["c1"]);
  assert.equal(reg.count("alice"), 1);
  assert.equal(reg.add("alice", "c1"), false); // the same connection again: no change
  assert.equal(reg.count("alice"), 1);
  const view = reg.connections("alice"); // a queued fan-out iterates it at its turn
  assert.equal(reg.add("alice", "c2"), false);
  assert.deepEqual([...view], ["c1", "c2"]);
  assert.equal(view.size, 2);
  assert.equal(reg.count("alice"), 2);
  assert.equal(reg.remove("alice", "c3"), false); // not one of hers
  assert.equal(reg.remove("alice", "c1"), false);
  assert.deepEqual([...reg.connections("alice")], ["c2"]);
  assert.equal(reg.remove("alice", "c1"), false); // already gone
  assert.equal(reg.remove("alice", "c2"), true);
  assert.equal(reg.count("alice"), 0);
  assert.deepEqual([...reg.connections("alice")], []);
  assert.equal(reg.remove("alice", "c2"), false);
  assert.deepEqual(seen, [["alice"], []]);
  assert.equal(reg.size, 0);
});

Deno.test("UidRegistry: the crowd uid is counted and listed from its members", () => {
  let members: string[] = [];
  const reg = new UidRegistry<string>(null, null, { uid: "nil", members: () => members });
  const seen: string[][] = [];
  reg.watch((uids) => void seen.push([...uids]));
  members = ["a"];
  assert.equal(reg.add("nil", "a"), true);
  const view = reg.connections("nil");
  members = ["a", "b"];
  assert.equal(reg.add("nil", "b"), false);
  assert.deepEqual([...view], ["a", "b"]); // live
  assert.equal(view.size, 2);
  assert.equal(reg.count("nil"), 2);
  assert.deepEqual([...reg.connections("nil")], ["a", "b"]);
  assert.deepEqual([...reg.current()], ["nil"]);
  members = ["b"];
  assert.equal(reg.remove("nil", "a"), false);
  members = [];
  assert.equal(reg.remove("nil", "b"), true);
  assert.equal(reg.count("nil"), 0);
  assert.deepEqual([...reg.connections("nil")], []);
  assert.equal(reg.remove("nil", "b"), false); // nothing left: no negative count
  assert.equal(reg.count("nil"), 0);
  assert.deepEqual(seen, [["nil"], []]);
});
