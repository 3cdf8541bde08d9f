import assert from "node:assert/strict";
import { senteDialect } from "../../lib/dialects/sente.ts";
import { ednPacker } from "../../lib/packers/edn.ts";
import { transitPacker } from "../../lib/packers/transit.ts";
import type { ServerMessage } from "../../lib/protocol/envelope.ts";
import { ProtocolError } from "../../lib/protocol/errors.ts";
import { buildHandshakeData } from "../../lib/protocol/handshake.ts";

const edn = ednPacker();
const transit = transitPacker();

const info = { version: 1, connId: "c0ffee", maxMessageBytes: 1024, capabilities: ["channels"] };

/** What the Hub hands the dialect, and the exact EDN and Transit frames (sente-wire.md §3.2). */
const SERVER_VECTORS: [string, ServerMessage, string[], string[]][] = [
  [
    "#1 handshake without data",
    { type: "handshake", uid: "alice", data: buildHandshakeData(undefined, info) },
    [`[[:chsk/handshake ["alice" nil nil]] nil]`],
    [`[["~:chsk/handshake",["alice",null,null]],null]`],
  ],
  [
    "#1b anonymous handshake with data",
    { type: "handshake", uid: "sente/nil-uid", data: buildHandshakeData({ foo: 1 }, info) },
    [`[[:chsk/handshake [:sente/nil-uid nil {:foo 1}]] nil]`],
    [`[["~:chsk/handshake",["~:sente/nil-uid",null,["^ ","~:foo",1]]],null]`],
  ],
  [
    "#4 reply",
    { type: "reply", cbId: "3f2c1a", value: { "ok?": true } },
    [`[{:ok? true} "3f2c1a"]`],
    [`[["^ ","~:ok?",true],"3f2c1a"]`],
  ],
  [
    "#5 push batch",
    { type: "push", events: [["my-app/alert", { n: 1 }], ["my-app/alert", { n: 2 }]] },
    [`[[[:my-app/alert {:n 1}] [:my-app/alert {:n 2}]] nil]`],
    [`[[["~:my-app/alert",["^ ","~:n",1]],["^0",["^ ","~:n",2]]],null]`],
  ],
  [
    "#6 server ping",
    { type: "ping" },
    [`[:chsk/ws-ping nil]`],
    [`["~:chsk/ws-ping",null]`],
  ],
  [
    "#9 pong",
    { type: "reply", cbId: "ab12cd", value: "pong" },
    [`["pong" "ab12cd"]`],
    [`["pong","ab12cd"]`],
  ],
  [
    "a single push, still a batch",
    { type: "push", events: [["my-app/alert", { n: 1 }]] },
    [`[[[:my-app/alert {:n 1}]] nil]`],
    [`[[["~:my-app/alert",["^ ","~:n",1]]],null]`],
  ],
  [
    "a channel message",
    {
      type: "push",
      events: [["sente-lite/channel-msg", {
        "channel-id": "room",
        data: { t: 1 },
        from: "c0ffee",
      }]],
    },
    [`[[[:sente-lite/channel-msg {:channel-id "room", :data {:t 1}, :from "c0ffee"}]] nil]`],
    [
      `[[["~:sente-lite/channel-msg",["^ ","~:channel-id","room","~:data",["^ ","~:t",1],"~:from","c0ffee"]]],null]`,
    ],
  ],
];

for (const [name, message, ednFrames, transitFrames] of SERVER_VECTORS) {
  Deno.test(`senteDialect.encode() writes Sente 1.21 message ${name} byte for byte`, () => {
    assert.deepEqual(senteDialect.encode(message).map((v) => edn.pack(v)), ednFrames);
    assert.deepEqual(senteDialect.encode(message).map((v) => transit.pack(v)), transitFrames);
  });
}

/** Client frames (sente-wire.md §3.2) and what the Hub gets. */
const CLIENT_VECTORS: [string, string, { id: string; data: unknown; cbId: string | null }][] = [
  ["#2 event", `[[:my-app/some-req {:data "data"}] nil]`, {
    id: "my-app/some-req",
    data: { data: "data" },
    cbId: null,
  }],
  ["#3 request", `[[:my-app/some-req {:data "data"}] "3f2c1a"]`, {
    id: "my-app/some-req",
    data: { data: "data" },
    cbId: "3f2c1a",
  }],
  ["#7 pong", `[[:chsk/ws-pong] nil]`, { id: "chsk/ws-pong", data: undefined, cbId: null }],
  ["#8 ping", `[[:chsk/ws-ping] "ab12cd"]`, {
    id: "chsk/ws-ping",
    data: undefined,
    cbId: "ab12cd",
  }],
  ["1.18–1.20 one-element event", `[[:my-app/x 1]]`, { id: "my-app/x", data: 1, cbId: null }],
];

for (const [name, frame, expected] of CLIENT_VECTORS) {
  Deno.test(`senteDialect.decode() reads Sente 1.21 client message ${name}`, () => {
    assert.deepEqual(senteDialect.decode(edn.unpack(frame)), expected);
  });
}

Deno.test("senteDialect.decode() reads Transit client frames", () => {
  assert.deepEqual(
    senteDialect.decode(transit.unpack(`[["~:my-app/some-req",["^ ","~:data","data"]],"3f2c1a"]`)),
    { id: "my-app/some-req", data: { data: "data" }, cbId: "3f2c1a" },
  );
  assert.deepEqual(senteDialect.decode(transit.unpack(`[["~:chsk/ws-pong"],null]`)), {
    id: "chsk/ws-pong",
    data: undefined,
    cbId: null,
  });
});

Deno.test("senteDialect.decode() throws bad-event with the cb when the event is malformed", () => {
  assert.throws(
    () => senteDialect.decode(edn.unpack(`[[:no-namespace 1] "3f2c1a"]`)),
    (e) => e instanceof ProtocolError && e.code === "bad-event" && e.cbId === "3f2c1a",
  );
  assert.throws(
    () => senteDialect.decode(edn.unpack(`{:not "an envelope"}`)),
    (e) => e instanceof ProtocolError && e.code === "bad-envelope",
  );
});

Deno.test("senteDialect.encode() drops sente-lite pushes the peer did not ask for", () => {
  const error = ["sente-lite/error", { code: "no-handler", message: "x" }] as [string, unknown];
  const request = ["sente-lite/request", { "cb-id": "1", event: ["a/b", null] }] as [
    string,
    unknown,
  ];
  assert.deepEqual(senteDialect.encode({ type: "push", events: [error] }), []);
  assert.deepEqual(senteDialect.encode({ type: "push", events: [request] }), []);
  assert.deepEqual(
    senteDialect.encode({ type: "push", events: [error, ["my-app/alert", 1]] }).map((v) =>
      edn.pack(v)
    ),
    [`[[[:my-app/alert 1]] nil]`],
  );
  assert.deepEqual(
    senteDialect.encode({
      type: "push",
      events: [["sente-lite/subscribed", { "channel-id": "room", success: true }]],
    }).map((v) => edn.pack(v)),
    [`[[[:sente-lite/subscribed {:channel-id "room", :success true}]] nil]`],
  );
});

Deno.test("senteDialect.errorMessage() answers a failed request with :chsk/error, else nothing", () => {
  for (const code of ["no-handler", "handler-error", "forbidden", "rate-limited"] as const) {
    const reply = senteDialect.errorMessage(new ProtocolError(code, "x", "3f2c1a"));
    assert.ok(reply);
    assert.deepEqual(senteDialect.encode(reply).map((v) => edn.pack(v)), [
      `[:chsk/error "3f2c1a"]`,
    ]);
    assert.deepEqual(senteDialect.encode(reply).map((v) => transit.pack(v)), [
      `["~:chsk/error","3f2c1a"]`,
    ]);
  }
  assert.equal(senteDialect.errorMessage(new ProtocolError("no-handler", "x")), null);
  assert.equal(senteDialect.errorMessage(new ProtocolError("unpack-failed", "x")), null);
});

Deno.test("senteDialect.encode() keeps an application handshake map but not sente-lite's entry", () => {
  const data = buildHandshakeData({ greeting: "hi" }, info);
  assert.deepEqual(senteDialect.encode({ type: "handshake", uid: "bob", data }), [
    [["chsk/handshake", ["bob", null, { greeting: "hi" }]], null],
  ]);
  assert.equal(senteDialect.unhandled, undefined);
});
