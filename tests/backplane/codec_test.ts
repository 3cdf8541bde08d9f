import { strict as assert } from "node:assert";
import { decodePayload, encodePayload } from "../../lib/backplane/codec.ts";
import { Keyword, keyword, Uuid } from "../../edn.ts";

const roundTrip = (v: unknown): unknown => decodePayload(encodePayload(v));

Deno.test("codec: plain JSON stays plain JSON", () => {
  const v = { e: ["a/b", { x: [1, "two", null, true], "~#k": "key only" }] };
  assert.equal(encodePayload(v), JSON.stringify(v));
  assert.deepEqual(roundTrip(v), v);
});

Deno.test("codec: Clojure-data types keep their types", () => {
  const v = {
    e: ["a/b", {
      k: keyword("ns/name"),
      u: new Uuid("6f1c2d3e-0000-4000-8000-000000000000"),
      d: new Date(1764667800000),
      bad: new Date(NaN),
      m: new Map<unknown, unknown>([[keyword("x"), 1], [2, new Set(["s", keyword("y")])]]),
      n: -12345678901234567890123n,
      b: new Uint8Array([0, 1, 254, 255]),
      f: [NaN, Infinity, -Infinity, 1.5],
    }],
  };
  const back = roundTrip(v) as typeof v;
  assert.deepEqual(back, v);
  const data = back.e[1] as { k: unknown; m: Map<unknown, Set<unknown>> };
  assert.ok(data.k instanceof Keyword);
  assert.equal(data.m.get(2)?.size, 2);
});

Deno.test("codec: data that looks like a tag is escaped, not decoded", () => {
  const v = [["~#k", "x"], ["~#a", ["~#n", "1"]], ["~#zz"], "~#k", { a: ["~#d", 0] }, [
    "~#m",
    [1, 2],
    keyword("k"),
  ]];
  assert.deepEqual(roundTrip(v), v);
});

Deno.test("codec: a `__proto__` key stays an own property; no prototype is set", () => {
  const text = encodePayload(JSON.parse('{"__proto__": {"polluted": ["~#k", "x"]}, "k": 1}'));
  const back = decodePayload(text) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.ok(Object.hasOwn(back, "__proto__"));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  // A tagged value under `__proto__` too.
  const tagged = decodePayload('{"__proto__": ["~#k", "x"]}') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(tagged), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(tagged, "__proto__")?.value, keyword("x"));
});

Deno.test("codec: malformed tags from the wire stay data; no throw", () => {
  for (
    const text of [
      '["~#k", "not a keyword!"]',
      '["~#u", "nope"]',
      '["~#n", "12x"]',
      '["~#b", "***"]',
      '["~#m", 5]',
      '["~#f", "1"]',
    ]
  ) {
    assert.doesNotThrow(() => decodePayload(text), text);
  }
  assert.throws(() => decodePayload("{"), SyntaxError);
});

Deno.test("codec: too deep or cyclic data throws at encode", () => {
  let deep: unknown = keyword("x");
  for (let i = 0; i < 600; i++) deep = [deep];
  assert.throws(() => encodePayload(deep), RangeError);
  const cyclic: Record<string, unknown> = { k: keyword("x") };
  cyclic.self = cyclic;
  assert.throws(() => encodePayload(cyclic));
});
