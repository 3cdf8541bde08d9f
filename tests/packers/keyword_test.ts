import assert from "node:assert/strict";
import { Keyword, keyword } from "../../lib/packers/keyword.ts";
import { keywordizeEnvelope } from "../../lib/packers/_keywordize.ts";

const k = (text: string): Keyword => new Keyword(text);

Deno.test("Keyword splits namespace and name", () => {
  const id = keyword("my-app/alert");
  assert.equal(id.fqn, "my-app/alert");
  assert.equal(id.namespace, "my-app");
  assert.equal(id.name, "alert");
  const plain = keyword("ok?");
  assert.equal(plain.namespace, null);
  assert.equal(plain.name, "ok?");
});

Deno.test("Keyword accepts text with or without the leading colon", () => {
  assert.ok(keyword(":chsk/ws-ping").equals(keyword("chsk/ws-ping")));
  assert.equal(keyword(":a").fqn, "a");
});

Deno.test("Keyword prints as :fqn and serializes to JSON as the plain string", () => {
  const id = keyword("chsk/handshake");
  assert.equal(String(id), ":chsk/handshake");
  assert.equal(JSON.stringify([id, { k: keyword("x") }]), '["chsk/handshake",{"k":"x"}]');
});

Deno.test("Keyword.equals() compares text, not identity", () => {
  assert.notEqual(keyword("a/b"), keyword("a/b"));
  assert.ok(keyword("a/b").equals(keyword("a/b")));
  assert.ok(!keyword("a/b").equals(keyword("a/c")));
  assert.ok(!keyword("a/b").equals("a/b"));
  assert.deepStrictEqual(keyword("a/b"), keyword("a/b"));
});

Deno.test("Keyword constructor throws TypeError on text the Clojure reader cannot read back", () => {
  for (
    const bad of [
      "",
      ":",
      "::auto",
      "a b",
      "a/b/c",
      "/a",
      "a/",
      "1st",
      "ns/1x",
      "-1",
      "+5",
      "a,b",
      "a[0]",
      'a"b',
      "a;b",
      "#tag",
      "a\\b",
      "a~b",
      "a@b",
      "a^b",
    ]
  ) {
    assert.throws(() => keyword(bad), TypeError, JSON.stringify(bad));
  }
  assert.throws(() => keyword(42 as unknown as string), TypeError);
});

Deno.test("Keyword.isValid() accepts the usual Clojure keyword text", () => {
  for (
    const good of [
      "a",
      "ok?",
      "exclude-sender?",
      "sente-lite/publish",
      "taoensso.sente/nil-uid",
      "chsk/dummy-cb-200",
      "->x",
      "-",
      "+",
      "a'b",
      "a#b",
      "*earmuffs*",
      "a.b/c<d>=e!",
      "__proto__",
    ]
  ) {
    assert.ok(Keyword.isValid(good), good);
  }
  assert.ok(!Keyword.isValid(undefined));
});

Deno.test("Keyword.isNamespaced() requires exactly one namespace", () => {
  assert.ok(Keyword.isNamespaced("chsk/ws-ping"));
  assert.ok(!Keyword.isNamespaced("pong"));
  assert.ok(!Keyword.isNamespaced("http://example.com/x"));
  assert.ok(!Keyword.isNamespaced("a/b/c"));
  assert.ok(!Keyword.isNamespaced("1/2"));
  assert.ok(!Keyword.isNamespaced(null));
});

Deno.test("keywordizeEnvelope() wraps the event id of a client event and keeps data", () => {
  const data = { data: "data", other: "my-app/not-an-id" };
  const out = keywordizeEnvelope([["my-app/some-req", data], "3f2c1a"], "sente");
  assert.deepStrictEqual(out, [[k("my-app/some-req"), data], "3f2c1a"]);
  assert.equal((out as unknown[][])[0][1], data);
});

Deno.test("keywordizeEnvelope() wraps the handshake id and the nil uid only", () => {
  assert.deepStrictEqual(
    keywordizeEnvelope([["chsk/handshake", ["sente/nil-uid", null, { foo: 1 }]], null], "sente"),
    [[k("chsk/handshake"), [k("sente/nil-uid"), null, { foo: 1 }]], null],
  );
  assert.deepStrictEqual(
    keywordizeEnvelope([["chsk/handshake", ["taoensso.sente/nil-uid", null]]], "sente"),
    [[k("chsk/handshake"), [k("taoensso.sente/nil-uid"), null]]],
  );
  assert.deepStrictEqual(
    keywordizeEnvelope([["chsk/handshake", ["alice/bob", null, null]], null], "sente"),
    [[k("chsk/handshake"), ["alice/bob", null, null]], null],
  );
});

Deno.test("keywordizeEnvelope() wraps each event of a push batch", () => {
  assert.deepStrictEqual(
    keywordizeEnvelope([[["my-app/alert", { n: 1 }], ["my-app/alert"]], null], "sente"),
    [[[k("my-app/alert"), { n: 1 }], [k("my-app/alert")]], null],
  );
});

Deno.test("keywordizeEnvelope() wraps sentinel payloads and the ajax cb only", () => {
  for (
    const sentinel of [
      "chsk/ws-ping",
      "chsk/timeout",
      "chsk/closed",
      "chsk/error",
      "chsk/dummy-cb-200",
    ]
  ) {
    assert.deepStrictEqual(keywordizeEnvelope([sentinel, null], "sente"), [k(sentinel), null]);
  }
  assert.deepStrictEqual(keywordizeEnvelope(["pong", "ab12cd"], "sente"), ["pong", "ab12cd"]);
  assert.deepStrictEqual(keywordizeEnvelope(["my-app/x", null], "sente"), ["my-app/x", null]);
  assert.deepStrictEqual(
    keywordizeEnvelope([["my-app/x", 1], "ajax"], "sente"),
    [[k("my-app/x"), 1], k("ajax")],
  );
  assert.deepStrictEqual(keywordizeEnvelope([{ ajax: "ajax" }, null], "sente"), [
    { ajax: "ajax" },
    null,
  ]);
});

Deno.test("keywordizeEnvelope() leaves replies and odd shapes alone", () => {
  const unchanged: unknown[] = [
    [{ "ok?": true }, "3f2c1a"],
    [["not an id", 1], null],
    [[1, 2, 3], null],
    [[], null],
    [["a/b", 1, 2], null],
    [[["a/b"], "x"], null],
  ];
  for (const value of unchanged) assert.deepStrictEqual(keywordizeEnvelope(value, "sente"), value);
  for (const value of [[1, 2, 3], [], "chsk/ws-ping", null, { a: 1 }]) {
    assert.equal(keywordizeEnvelope(value, "sente"), value);
  }
  assert.deepStrictEqual(keywordizeEnvelope(["chsk/ws-ping"], "sente"), [k("chsk/ws-ping")]);
});

Deno.test("keywordizeEnvelope() keeps Keyword ids and unwraps nothing", () => {
  assert.deepStrictEqual(
    keywordizeEnvelope([[k("a/b"), 1], null], "sente"),
    [[k("a/b"), 1], null],
  );
});

Deno.test("keywordizeEnvelope() with 'event' wraps a bare event and a chsk/recv payload", () => {
  assert.deepStrictEqual(keywordizeEnvelope(["chsk/ws-ping"], "event"), [k("chsk/ws-ping")]);
  assert.deepStrictEqual(
    keywordizeEnvelope(["chsk/recv", ["sente-lite/channel-msg", { from: null }]], "event"),
    [k("chsk/recv"), [k("sente-lite/channel-msg"), { from: null }]],
  );
  assert.deepStrictEqual(keywordizeEnvelope(["pong", 1], "event"), ["pong", 1]);
});

Deno.test("keywordizeEnvelope() with 'none' returns the value untouched", () => {
  const value = [["a/b", 1], "ajax"];
  assert.equal(keywordizeEnvelope(value, "none"), value);
});
