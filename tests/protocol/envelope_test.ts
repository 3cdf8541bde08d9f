import assert from "node:assert/strict";
import {
  clientEventEnvelope,
  decodeClientEnvelope,
  decodeServerEnvelope,
  serverEnvelope,
} from "../../lib/protocol/envelope.ts";
import { jsonPacker } from "../../lib/packers/json.ts";
import { ProtocolError } from "../../lib/protocol/errors.ts";

const pack = (v: unknown) => jsonPacker.pack(v);

Deno.test("serverEnvelope() writes Sente 1.21 frames byte for byte (JSON)", () => {
  assert.equal(
    pack(serverEnvelope({ type: "handshake", uid: "alice", data: null })),
    `[["chsk/handshake",["alice",null,null]],null]`,
  );
  assert.equal(
    pack(serverEnvelope({ type: "handshake", uid: "sente/nil-uid", data: { foo: 1 } })),
    `[["chsk/handshake",["sente/nil-uid",null,{"foo":1}]],null]`,
  );
  assert.equal(
    pack(serverEnvelope({ type: "reply", cbId: "3f2c1a", value: { "ok?": true } })),
    `[{"ok?":true},"3f2c1a"]`,
  );
  assert.equal(
    pack(serverEnvelope({
      type: "push",
      events: [["my-app/alert", { n: 1 }], ["my-app/alert", { n: 2 }]],
    })),
    `[[["my-app/alert",{"n":1}],["my-app/alert",{"n":2}]],null]`,
  );
  assert.equal(pack(serverEnvelope({ type: "ping" })), `["chsk/ws-ping",null]`);
  assert.equal(
    pack(serverEnvelope({ type: "reply", cbId: "ab12cd", value: "pong" })),
    `["pong","ab12cd"]`,
  );
  // A reply of undefined is sent as null, never dropped.
  assert.equal(pack(serverEnvelope({ type: "reply", cbId: "x", value: undefined })), `[null,"x"]`);
});

Deno.test("clientEventEnvelope() writes events, requests, pings and pongs as Sente does", () => {
  assert.equal(
    pack(clientEventEnvelope("my-app/some-req", { data: "data" }, null)),
    `[["my-app/some-req",{"data":"data"}],null]`,
  );
  assert.equal(
    pack(clientEventEnvelope("my-app/some-req", { data: "data" }, "3f2c1a")),
    `[["my-app/some-req",{"data":"data"}],"3f2c1a"]`,
  );
  assert.equal(
    pack(clientEventEnvelope("chsk/ws-pong", undefined, null)),
    `[["chsk/ws-pong"],null]`,
  );
  assert.equal(
    pack(clientEventEnvelope("chsk/ws-ping", undefined, "ab12cd")),
    `[["chsk/ws-ping"],"ab12cd"]`,
  );
});

Deno.test("decodeClientEnvelope() reads events, requests and Sente's 1-element form", () => {
  assert.deepEqual(decodeClientEnvelope([["a/b", 1], null]), { id: "a/b", data: 1, cbId: null });
  assert.deepEqual(decodeClientEnvelope([["a/b", 1], "cb"]), { id: "a/b", data: 1, cbId: "cb" });
  assert.deepEqual(decodeClientEnvelope([["a/b"]]), { id: "a/b", data: undefined, cbId: null });
  assert.deepEqual(decodeClientEnvelope([["my.app.core/x", [1]]]), {
    id: "my.app.core/x",
    data: [1],
    cbId: null,
  });
});

Deno.test("decodeClientEnvelope() throws ProtocolError with a stable code for every bad shape", () => {
  const cases: [unknown, string, string | null][] = [
    [{}, "bad-envelope", null],
    ["x", "bad-envelope", null],
    [[], "bad-envelope", null],
    [[1, 2, 3], "bad-envelope", null],
    [[["a/b", 1], 42], "bad-envelope", null],
    [[["a/b", 1], ""], "bad-envelope", null],
    [[["a/b", 1], "x".repeat(65)], "bad-envelope", null],
    [["a/b", null], "bad-event", null],
    [[[], null], "bad-event", null],
    [[["a/b", 1, 2], "cb"], "bad-event", "cb"],
    [[["nonamespace", 1], "cb"], "bad-event", "cb"],
    [[[":a/b", 1], null], "bad-event", null],
    [[["a /b", 1], null], "bad-event", null],
    [[[42, 1], null], "bad-event", null],
    [[["a/" + "b".repeat(300), 1], null], "bad-event", null],
  ];
  for (const [value, code, cbId] of cases) {
    assert.throws(
      () => decodeClientEnvelope(value),
      (e: unknown) => e instanceof ProtocolError && e.code === code && e.cbId === cbId && !e.fatal,
      JSON.stringify(value).slice(0, 80),
    );
  }
});

Deno.test("decodeServerEnvelope() applies Sente's structural rules in order", () => {
  assert.deepEqual(decodeServerEnvelope([["chsk/handshake", ["alice", null, { a: 1 }]], null]), {
    type: "handshake",
    uid: "alice",
    data: { a: 1 },
  });
  assert.deepEqual(decodeServerEnvelope(["chsk/ws-ping", null]), { type: "ping" });
  assert.deepEqual(decodeServerEnvelope(["chsk/ws-ping"]), { type: "ping" });
  assert.deepEqual(decodeServerEnvelope(["pong", "ab12cd"]), {
    type: "reply",
    cbId: "ab12cd",
    value: "pong",
  });
  // A reply whose value looks like an event batch is still a reply: the cbId decides.
  assert.deepEqual(decodeServerEnvelope([[["a/b", 1]], "cb"]), {
    type: "reply",
    cbId: "cb",
    value: [["a/b", 1]],
  });
  assert.deepEqual(decodeServerEnvelope([[["a/b", 1], ["a/c"]], null]), {
    type: "push",
    events: [["a/b", 1], ["a/c", undefined]],
  });
  assert.throws(() => decodeServerEnvelope([{ x: 1 }, null]), ProtocolError);
  assert.throws(() => decodeServerEnvelope([[["bad", 1]], null]), ProtocolError);
  assert.throws(() => decodeServerEnvelope(null), ProtocolError);
});
