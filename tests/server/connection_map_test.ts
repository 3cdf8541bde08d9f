import assert from "node:assert/strict";
import { type ConnKey, connKey } from "../../lib/server/conn_key.ts";
import { ConnectionMap } from "../../lib/server/connection_map.ts";
import { randomHex } from "../../lib/util/ids.ts";

class Conn {
  readonly key: ConnKey;
  prevConn: Conn | null = null;
  nextConn: Conn | null = null;
  constructor(readonly id: string) {
    this.key = connKey(id);
  }
}

function filled(n: number): { map: ConnectionMap<Conn>; conns: Conn[] } {
  const map = new ConnectionMap<Conn>();
  const conns: Conn[] = [];
  for (let i = 0; i < n; i++) {
    const c = new Conn(randomHex(12));
    map.add(c);
    conns.push(c);
  }
  return { map, conns };
}

Deno.test("ConnectionMap: found by id string, kept by key, listed by id in the order added", () => {
  const map = new ConnectionMap<Conn>();
  const a = new Conn("0123456789ab");
  const b = new Conn("n1.x");
  map.add(a);
  map.add(b);
  assert.equal(map.get("0123456789ab"), a);
  assert.equal(map.get("0123456789AB"), undefined);
  assert.equal(map.get("n1.x"), b);
  assert.equal(map.has("n1.x"), true);
  assert.equal(map.size, 2);
  assert.deepEqual([...map.keys()], ["0123456789ab", "n1.x"]);
  assert.deepEqual([...map.values()], [a, b]);
  assert.deepEqual([...map], [["0123456789ab", a], ["n1.x", b]]);
  assert.equal(map.holds(a), true);
  assert.equal(map.remove(a), true);
  assert.equal(map.remove(a), false);
  assert.equal(map.holds(a), false);
  assert.equal(map.get("0123456789ab"), undefined);
  assert.equal(a.prevConn, null);
  assert.equal(a.nextConn, null);
  assert.deepEqual([...map.values()], [b]);
  assert.equal(map.remove(b), true);
  assert.equal(map.size, 0);
  assert.deepEqual([...map.values()], []);
});

Deno.test("ConnectionMap: many adds and removes keep lookup, size and order", () => {
  const { map, conns } = filled(5000);
  const kept: Conn[] = [];
  conns.forEach((c, i) => i % 3 === 0 ? assert.equal(map.remove(c), true) : kept.push(c));
  assert.equal(map.size, kept.length);
  assert.deepEqual([...map.values()], kept);
  for (const c of conns) assert.equal(map.get(c.id), kept.includes(c) ? c : undefined);
  for (const c of kept) map.remove(c);
  assert.equal(map.size, 0);
  assert.deepEqual([...map.values()], []);
});

Deno.test("ConnectionMap: a paused walk skips what closes, repeats and skips nothing else", () => {
  const { map, conns } = filled(10);
  const walk = map.values();
  const seen: Conn[] = [walk.next().value!, walk.next().value!]; // paused on conns[1]
  map.remove(conns[1]); // the one it is on
  map.remove(conns[2]); // the next one
  map.remove(conns[3]); // and the one after
  map.remove(conns[7]); // one further on
  seen.push(walk.next().value!);
  map.remove(conns[4]); // the one it is on again
  map.remove(conns[0]); // one behind it
  for (let r = walk.next(); !r.done; r = walk.next()) seen.push(r.value);
  assert.deepEqual(seen, [0, 1, 4, 5, 6, 8, 9].map((i) => conns[i]));
});

Deno.test("ConnectionMap: a walk whose remaining connections all close ends and is let go", () => {
  const { map, conns } = filled(3);
  const walk = map.values();
  walk.next();
  map.remove(conns[1]);
  map.remove(conns[2]);
  assert.equal(walk.next().done, true);
  // The unfinished walk below is dropped when what it would visit closes: removes after it
  // do not have to look at it.
  const other = map.values();
  other.next(); // on conns[0], next: none
  const late = new Conn(randomHex(12));
  map.add(late);
  map.remove(late);
  map.remove(conns[0]);
  assert.equal(map.size, 0);
});

Deno.test("ConnectionMap: connections added during a paused walk come after the others", () => {
  const { map, conns } = filled(4);
  const walk = map.values();
  const seen: Conn[] = [walk.next().value!];
  const added = new Conn(randomHex(12));
  map.add(added);
  map.remove(conns[3]);
  for (let r = walk.next(); !r.done; r = walk.next()) seen.push(r.value);
  assert.deepEqual(seen, [conns[0], conns[1], conns[2], added]);
});

Deno.test("ConnectionMap: two walks at once, a break lets its walk go", () => {
  const { map, conns } = filled(6);
  const a = map.values();
  const b = map.values();
  a.next();
  a.next(); // a: next conns[2]
  b.next(); // b: next conns[1]
  map.remove(conns[1]);
  map.remove(conns[2]);
  assert.deepEqual([...a], [3, 4, 5].map((i) => conns[i]));
  assert.deepEqual([...b], [3, 4, 5].map((i) => conns[i]));
  for (const c of map.values()) if (c === conns[3]) break;
  map.remove(conns[4]);
  assert.deepEqual([...map.values()], [0, 3, 5].map((i) => conns[i]));
});
