import assert from "node:assert/strict";
import fc from "fast-check";
import { parseEDNString } from "edn-data";
import { ednPacker } from "../../lib/packers/edn.ts";
import { Keyword, keyword } from "../../lib/packers/keyword.ts";
import { Uuid } from "../../lib/packers/uuid.ts";
import { envelopes, eventId, jsonValues, segment } from "./_arbitraries.ts";

/** sente-wire.md §3.2: every Sente 1.21 message, as a JS value and as EDN. */
const SENTE_VECTORS: [string, unknown, string][] = [
  [
    "1 handshake",
    [["chsk/handshake", ["alice", null, null]], null],
    `[[:chsk/handshake ["alice" nil nil]] nil]`,
  ],
  [
    "1b anonymous handshake",
    [["chsk/handshake", ["sente/nil-uid", null, { foo: 1 }]], null],
    `[[:chsk/handshake [:sente/nil-uid nil {:foo 1}]] nil]`,
  ],
  [
    "2 event",
    [["my-app/some-req", { data: "data" }], null],
    `[[:my-app/some-req {:data "data"}] nil]`,
  ],
  [
    "3 event with cb",
    [["my-app/some-req", { data: "data" }], "3f2c1a"],
    `[[:my-app/some-req {:data "data"}] "3f2c1a"]`,
  ],
  ["4 reply", [{ "ok?": true }, "3f2c1a"], `[{:ok? true} "3f2c1a"]`],
  [
    "5 push batch",
    [[["my-app/alert", { n: 1 }], ["my-app/alert", { n: 2 }]], null],
    `[[[:my-app/alert {:n 1}] [:my-app/alert {:n 2}]] nil]`,
  ],
  ["6 server ping", ["chsk/ws-ping", null], `[:chsk/ws-ping nil]`],
  ["7 client pong", [["chsk/ws-pong"], null], `[[:chsk/ws-pong] nil]`],
  ["8 client ping", [["chsk/ws-ping"], "ab12cd"], `[[:chsk/ws-ping] "ab12cd"]`],
  ["9 pong reply", ["pong", "ab12cd"], `["pong" "ab12cd"]`],
  ["10 long-poll timeout", ["chsk/timeout", null], `[:chsk/timeout nil]`],
  ["11 ajax event with cb", [["my-app/x", 1], "ajax"], `[[:my-app/x 1] :ajax]`],
  ["12 ajax reply", [{ "ok?": true }, null], `[{:ok? true} nil]`],
  ["13 ajax dummy cb", ["chsk/dummy-cb-200", null], `[:chsk/dummy-cb-200 nil]`],
];

/** sente-lite-original-protocol.md §1.2–1.3: frames of the original sente-lite (bare events). */
const ORIGINAL_FRAMES: string[] = [
  `[:chsk/handshake ["conn-1795698114123-1" nil {:sente-lite-version "2.0.0"} true]]`,
  `[:chsk/handshake ["conn-1767312000000-4821" "2b0c9a4e-…-uuid" {:sente-lite-version "2.0.0"} true]]`,
  `[:chsk/handshake ["u1" nil {:sente-lite-version "2.0.0"} true]]`,
  `[:chsk/ws-ping]`,
  `[:chsk/ws-pong]`,
  `[:test/echo {:msg "hi"}]`,
  `[:sente-lite/echo {:original-event-id :test/echo, :original-data {:msg "hi"}, :conn-id "conn-…", :timestamp 1795698114154}]`,
  `[:sente-lite/subscribe {:channel-id "c1"}]`,
  `[:sente-lite/subscribed {:channel-id "c1", :success true}]`,
  `[:sente-lite/subscribed {:channel-id "c1", :success false, :error :max-subscribers-reached}]`,
  `[:sente-lite/subscribed {:channel-id "x", :success nil, :error :not-subscribed}]`,
  `[:sente-lite/unsubscribe {:channel-id "c1"}]`,
  `[:sente-lite/publish {:channel-id "c1", :data {:n 1}, :exclude-sender? false}]`,
  `[:sente-lite/channel-msg {:channel-id "c1", :data {:n 1}, :from "conn-1795698114123-1"}]`,
  `[:sente-lite/channel-msg {:channel-id "c1", :data {:n 1}, :from nil}]`,
  `[:chsk/recv [:sente-lite/channel-msg {:channel-id "c1", :data {:n 1}, :from nil}]]`,
  `[:sente-lite/publish {:channel-id "c", :data {:n 1, :s #{:a}, :v [1 "x"], :k :ns/k, :nil nil}, :exclude-sender? false}]`,
];

const edn = ednPacker();
const original = ednPacker({ envelope: "event" });
const exact = ednPacker({ envelope: "event", keywords: "keyword", sets: "set" });

for (const [name, value, text] of SENTE_VECTORS) {
  Deno.test(`ednPacker().pack() writes Sente 1.21 message ${name} byte for byte`, () => {
    assert.equal(edn.pack(value), text);
  });
  Deno.test(`ednPacker().unpack() reads Sente 1.21 message ${name}`, () => {
    assert.deepStrictEqual(edn.unpack(text), value);
  });
}

Deno.test("ednPacker() reads and rewrites every original sente-lite frame byte for byte", () => {
  for (const frame of ORIGINAL_FRAMES) assert.equal(exact.pack(exact.unpack(frame)), frame);
});

Deno.test("ednPacker() reads original sente-lite frames as plain values", () => {
  assert.deepStrictEqual(original.unpack(ORIGINAL_FRAMES[0]), [
    "chsk/handshake",
    ["conn-1795698114123-1", null, { "sente-lite-version": "2.0.0" }, true],
  ]);
  assert.deepStrictEqual(original.unpack(ORIGINAL_FRAMES[6]), [
    "sente-lite/echo",
    {
      "original-event-id": "test/echo",
      "original-data": { msg: "hi" },
      "conn-id": "conn-…",
      timestamp: 1795698114154,
    },
  ]);
  assert.deepStrictEqual(original.unpack("[:chsk/ws-ping]"), ["chsk/ws-ping"]);
});

Deno.test("ednPacker({ envelope: 'event' }).pack() writes original frames from plain values", () => {
  assert.equal(
    original.pack(["sente-lite/publish", {
      "channel-id": "c1",
      data: { n: 1 },
      "exclude-sender?": false,
    }]),
    `[:sente-lite/publish {:channel-id "c1", :data {:n 1}, :exclude-sender? false}]`,
  );
  assert.equal(original.pack(["chsk/ws-pong"]), "[:chsk/ws-pong]");
  assert.equal(
    original.pack(["sente-lite/subscribed", {
      "channel-id": "c1",
      error: keyword("not-subscribed"),
    }]),
    `[:sente-lite/subscribed {:channel-id "c1", :error :not-subscribed}]`,
  );
  // The Sente-style cb form travels as a Sente envelope.
  assert.equal(edn.pack([["test/rpc", { x: 1 }], "abc123"]), `[[:test/rpc {:x 1}] "abc123"]`);
});

Deno.test("ednPacker().unpack() reads maps printed without commas", () => {
  assert.deepStrictEqual(
    original.unpack(`[:custom/greeting {:message "Hello, Alice!" :from-server true}]`),
    ["custom/greeting", { message: "Hello, Alice!", "from-server": true }],
  );
});

Deno.test("ednPacker().unpack() reads only the first form, like read-string", () => {
  assert.deepStrictEqual(edn.unpack("  \n\t,[:a/b {:x 1}] trailing"), ["a/b", { x: 1 }]);
  assert.deepStrictEqual(edn.unpack("[:a/b] ]]] {"), ["a/b"]);
  assert.deepStrictEqual(edn.unpack("; comment\n#_ [:ignored] [1 #_2 3]"), [1, 3]);
  assert.equal(edn.unpack("this is not edn"), "this");
});

Deno.test("ednPacker().unpack() reads characters as one-character strings", () => {
  assert.deepStrictEqual(edn.unpack(String.raw`[\c \newline \space \tab \u0041 \( \\ \o101]`), [
    "c",
    "\n",
    " ",
    "\t",
    "A",
    "(",
    "\\",
    "A",
  ]);
});

Deno.test("ednPacker().unpack() reads numbers, symbols, lists and string escapes", () => {
  assert.deepStrictEqual(
    edn.unpack(
      String.raw`(1 -2 +3 0 -0 1.5 -1e3 2.5M 7N -7N 0x1F 017 1/4 ##NaN ##Inf ##-Inf foo/bar)`,
    ),
    [1, -2, 3, 0, 0, 1.5, -1000, 2.5, 7n, -7n, 31, 15, 0.25, NaN, Infinity, -Infinity, "foo/bar"],
  );
  assert.equal(edn.unpack(String.raw`"a\"b\\c\n\t\r\b\f\u00e9\101"`), 'a"b\\c\n\t\r\b\f\u00e9A');
  assert.ok(Object.is(edn.unpack("-0.0"), -0));
});

Deno.test("ednPacker().pack() escapes strings as ClojureScript pr-str does", () => {
  assert.equal(edn.pack('a"b\\c\n\t\r\b\f\u0001é😀'), '"a\\"b\\\\c\\n\\t\\r\\b\\f\u0001é😀"');
  assert.equal(edn.unpack(edn.pack('a"b\\c\n\t\r\b\f\u0001é😀')), 'a"b\\c\n\t\r\b\f\u0001é😀');
});

Deno.test("ednPacker().pack() prints numbers as pr-str does", () => {
  assert.equal(
    edn.pack([1, -2, 1.5, 1e21, 5e-324, -0, NaN, Infinity, -Infinity, 12n]),
    "[1 -2 1.5 1e+21 5e-324 -0.0 ##NaN ##Inf ##-Inf 12N]",
  );
});

Deno.test("ednPacker() round-trips dates as #inst", () => {
  const date = new Date(Date.UTC(2024, 1, 29, 13, 4, 5, 678));
  assert.equal(edn.pack(date), `#inst "2024-02-29T13:04:05.678-00:00"`);
  assert.equal(edn.pack(new Date(0)), `#inst "1970-01-01T00:00:00.000-00:00"`);
  assert.deepStrictEqual(edn.unpack(edn.pack(date)), date);
  assert.deepStrictEqual(edn.unpack(`#inst "2024-02-29T14:04:05.678+01:00"`), date);
  assert.deepStrictEqual(edn.unpack(`#inst "2024-02-29T13:04:05.678123Z"`), date);
  assert.deepStrictEqual(edn.unpack(`#inst "2024"`), new Date(Date.UTC(2024, 0, 1)));
  assert.throws(() => edn.pack(new Date(NaN)), TypeError);
});

Deno.test("ednPacker() round-trips UUIDs as text or, with uuids: 'uuid', as Uuid", () => {
  const text = "6f1c2d3e-0000-4000-8000-00000000abcd";
  assert.equal(edn.pack(new Uuid(text)), `#uuid "${text}"`);
  assert.equal(edn.pack(text), `"${text}"`);
  assert.equal(edn.unpack(`#uuid "${text}"`), text);
  const keep = ednPacker({ uuids: "uuid" });
  assert.deepStrictEqual(keep.unpack(`#uuid "${text}"`), new Uuid(text));
  assert.throws(() => edn.unpack(`#uuid "nope"`), SyntaxError);
});

Deno.test("ednPacker() round-trips sets as arrays or, with sets: 'set', as Set", () => {
  assert.equal(edn.pack(new Set([keyword("a"), 1, "x"])), `#{:a 1 "x"}`);
  assert.deepStrictEqual(edn.unpack(`#{:a 1 "x"}`), ["a", 1, "x"]);
  assert.deepStrictEqual(ednPacker({ sets: "set" }).unpack(`#{:a 1}`), new Set(["a", 1]));
});

Deno.test("ednPacker() keeps keywords with keywords: 'keyword'", () => {
  const keep = ednPacker({ keywords: "keyword" });
  assert.deepStrictEqual(keep.unpack("[:a/b {:c :d}]"), [keyword("a/b"), { c: keyword("d") }]);
  assert.equal(keep.pack([keyword("x/y"), { k: keyword("v") }]), "[:x/y {:k :v}]");
});

Deno.test("ednPacker() writes Map keys as given and reads maps: 'map' with typed keys", () => {
  const map = new Map<unknown, unknown>([["s", 1], [keyword("k"), 2], [3, 4], [[1, 2], 5]]);
  assert.equal(edn.pack(map), `{"s" 1, :k 2, 3 4, [1 2] 5}`);
  assert.deepStrictEqual(
    ednPacker({ maps: "map" }).unpack(edn.pack(map) as string),
    new Map<unknown, unknown>([["s", 1], ["k", 2], [3, 4], [[1, 2], 5]]),
  );
  assert.deepStrictEqual(edn.unpack(`{"s" 1, :k 2, 3 4, true 5}`), { s: 1, k: 2, 3: 4, true: 5 });
  assert.throws(() => edn.unpack(`{[1 2] 5}`), { name: "TypeError", message: /maps: "map"/ });
  assert.throws(() => edn.unpack(`{nil 5}`), TypeError);
});

Deno.test("ednPacker() keywordizes only object keys that are keyword text", () => {
  assert.equal(
    edn.pack({ "ok?": true, "a b": 1, "1": 2, "": 3, "ns/k": 4 }),
    `{"1" 2, :ok? true, "a b" 1, "" 3, :ns/k 4}`,
  );
  assert.equal(ednPacker({ keywordizeKeys: false }).pack({ a: 1 }), `{"a" 1}`);
});

Deno.test("ednPacker().pack() skips undefined properties and writes undefined items as nil", () => {
  assert.equal(edn.pack({ a: undefined, b: [undefined] }), "{:b [nil]}");
});

Deno.test("ednPacker().unpack() keeps a __proto__ key as data", () => {
  const value = edn.unpack(`{"__proto__" {:polluted true}}`) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepStrictEqual(Object.keys(value), ["__proto__"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("ednPacker().unpack() reads UTF-8 binary frames", () => {
  assert.deepStrictEqual(edn.unpack(new TextEncoder().encode("[:a/é 1]")), ["a/é", 1]);
  assert.throws(() => edn.unpack(new Uint8Array([0x5b, 0xff])), TypeError);
});

Deno.test("ednPacker().unpack() throws SyntaxError with the offset on malformed input", () => {
  const malformed: [string, RegExp][] = [
    ["", /empty input/],
    ["   ", /empty input/],
    ["[1 2", /offset 0: unterminated \[/],
    ["[:a {:b 1]", /unmatched delimiter \]/],
    ["{:a 1 :b}", /even number/],
    ["]", /unmatched delimiter/],
    [`"abc`, /unterminated string/],
    [`"\\q"`, /unsupported escape/],
    [`"\\u12"`, /unicode escape/],
    ["#my/tag 1", /unknown tag #my\/tag/],
    ["#inst 5", /#inst needs a string/],
    [`#inst "yesterday"`, /invalid #inst/],
    [`#inst "2024-13-01"`, /invalid #inst/],
    ["##Foo", /symbolic value/],
    ["#(+ 1 2)", /unsupported dispatch/],
    ["::auto", /invalid keyword/],
    [":", /invalid keyword/],
    ["1abc", /invalid number 1abc/],
    ["\\", /backslash/],
    ["\\foo", /unsupported character/],
    ["'x", /reader macro/],
    ["#_", /nothing to discard/],
  ];
  for (const [input, message] of malformed) {
    assert.throws(() => edn.unpack(input), (e: unknown) => {
      assert.ok(e instanceof SyntaxError, `${JSON.stringify(input)}: ${e}`);
      assert.match(e.message, /^Invalid EDN at offset \d+: /);
      assert.match(e.message, message, JSON.stringify(input));
      return true;
    });
  }
});

Deno.test("ednPacker() enforces maxDepth on both directions", () => {
  const shallow = ednPacker({ maxDepth: 3 });
  assert.deepStrictEqual(shallow.unpack("[[[1]]]"), [[[1]]]);
  assert.throws(() => shallow.unpack("[[[[1]]]]"), SyntaxError);
  assert.deepStrictEqual(shallow.pack([[[[1]]]]), "[[[[1]]]]"); // 8 levels of envelope headroom
  assert.throws(() => shallow.pack([[[[[[[[[[[[1]]]]]]]]]]]]), TypeError);
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  assert.throws(() => edn.pack(cyclic), /deeper than 520/);
  assert.throws(() => edn.unpack("[".repeat(100_000)), SyntaxError);
});

Deno.test("ednPacker().pack() throws TypeError on values EDN cannot carry", () => {
  for (const bad of [() => 1, Symbol("s"), new Uint8Array(1), new (class Foo {})()]) {
    assert.throws(() => edn.pack([bad]), TypeError);
  }
});

Deno.test("ednPacker() rejects unknown option values with RangeError", () => {
  assert.throws(() => ednPacker({ envelope: "json" as "sente" }), {
    name: "RangeError",
    message: /envelope/,
  });
  assert.throws(() => ednPacker({ sets: "list" as "set" }), {
    name: "RangeError",
    message: /sets/,
  });
  assert.throws(() => ednPacker({ maxDepth: 0 }), { name: "RangeError", message: /maxDepth/ });
  assert.equal(edn.name, "edn");
  assert.equal(edn.binary, false);
});

// --- Properties -----------------------------------------------------------------------------

const envelope = envelopes(jsonValues());

Deno.test("ednPacker() unpack(pack(v)) round-trips JSON-like envelopes", () => {
  fc.assert(
    fc.property(envelope, (value) => {
      assert.deepStrictEqual(edn.unpack(edn.pack(value)), value);
    }),
    { numRuns: 300 },
  );
});

Deno.test("ednPacker().pack() output is read identically by edn-data", () => {
  fc.assert(
    fc.property(envelope, (value) => {
      const text = edn.pack(value) as string;
      const theirs = parseEDNString(text, { mapAs: "object", keywordAs: "string", setAs: "array" });
      assert.deepStrictEqual(theirs, edn.unpack(text));
    }),
    { numRuns: 300 },
  );
});

Deno.test("ednPacker({ keywords: 'keyword' }) round-trips keyword values exactly", () => {
  const keep = ednPacker({ keywords: "keyword", sets: "set", uuids: "uuid" });
  const kw = fc.oneof(segment, eventId).map((t) => new Keyword(t));
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      kw,
      fc.string(),
      fc.integer(),
      fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(Date.UTC(9999, 0)) }),
      fc.uuid().map((u) => new Uuid(u)),
      fc.bigInt().map((n) => n),
      fc.array(tie("v"), { maxLength: 4 }),
      fc.uniqueArray(kw, { maxLength: 3, selector: (k) => k.fqn }).map((ks) => new Set(ks)),
    ),
  })).v;
  fc.assert(
    // v rides as an event's data: at the top, [["a/b"]] is an envelope with an event by the
    // envelope rules (its id becomes a keyword), which is the protocol, not a round-trip failure.
    fc.property(value, (v) => {
      const text = keep.pack([["test/ev", v], null]);
      assert.deepStrictEqual(keep.unpack(text), [[new Keyword("test/ev"), v], null]);
      assert.equal(keep.pack(keep.unpack(text)), text);
    }),
    { numRuns: 300 },
  );
});
