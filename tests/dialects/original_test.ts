import assert from "node:assert/strict";
import { parseEDNString, toEDNString } from "edn-data";
import { originalDialect, originalPacker } from "../../lib/dialects/original.ts";
import type { ServerMessage } from "../../lib/protocol/envelope.ts";
import { ProtocolError } from "../../lib/protocol/errors.ts";
import { buildHandshakeData } from "../../lib/protocol/handshake.ts";

const info = {
  version: 1,
  connId: "5d1f0c2a9b3e",
  maxMessageBytes: 1024,
  capabilities: ["channels"],
};

const frames = (message: ServerMessage) =>
  originalDialect.encode(message).map((v) => originalPacker.pack(v));

/** What the Hub hands the dialect, and the exact frames (original protocol §1.3). */
const SERVER_VECTORS: [string, ServerMessage, string[]][] = [
  [
    "#1 anonymous handshake: slot 0 is the conn-id",
    { type: "handshake", uid: "sente/nil-uid", data: buildHandshakeData(undefined, info) },
    [`[:chsk/handshake ["5d1f0c2a9b3e" nil {} true]]`],
  ],
  [
    "#1 handshake of an authenticated uid, with application data",
    { type: "handshake", uid: "alice", data: buildHandshakeData({ theme: "dark" }, info) },
    [`[:chsk/handshake ["alice" nil {:theme "dark"} true]]`],
  ],
  ["#2 server ping", { type: "ping" }, [`[:chsk/ws-ping]`]],
  [
    "#10 subscribed",
    {
      type: "push",
      events: [["sente-lite/subscribed", { "channel-id": "c1", success: true }]],
    },
    [`[:sente-lite/subscribed {:channel-id "c1", :success true}]`],
  ],
  [
    "#10 subscribe refused (the error is a keyword)",
    {
      type: "push",
      events: [["sente-lite/subscribed", {
        "channel-id": "c1",
        success: false,
        error: "max-subscriptions-per-conn",
      }]],
    },
    [`[:sente-lite/subscribed {:channel-id "c1", :success false, :error :max-subscriptions-per-conn}]`],
  ],
  [
    "#14 channel message",
    {
      type: "push",
      events: [["sente-lite/channel-msg", {
        "channel-id": "c1",
        data: { n: 1 },
        from: "5d1f0c2a9b3e",
      }]],
    },
    [`[:sente-lite/channel-msg {:channel-id "c1", :data {:n 1}, :from "5d1f0c2a9b3e"}]`],
  ],
  [
    "a batch of pushes, one frame per event",
    { type: "push", events: [["my-app/alert", { n: 1 }], ["my-app/tick", undefined]] },
    [`[:my-app/alert {:n 1}]`, `[:my-app/tick]`],
  ],
  ["a reply (no way to say it)", { type: "reply", cbId: "3f2c1a", value: { ok: 1 } }, []],
];

for (const [name, message, expected] of SERVER_VECTORS) {
  Deno.test(`originalDialect.encode() writes original message ${name} byte for byte`, () => {
    assert.deepEqual(frames(message), expected);
  });
}

/** Client frames (original protocol §1.3) and what the Hub gets. */
const CLIENT_VECTORS: [string, string, { id: string; data: unknown; cbId: string | null }][] = [
  ["#6 event", `[:test/echo {:msg "hi"}]`, {
    id: "test/echo",
    data: { msg: "hi" },
    cbId: null,
  }],
  ["#3 pong", `[:chsk/ws-pong]`, { id: "chsk/ws-pong", data: undefined, cbId: null }],
  ["#9 subscribe", `[:sente-lite/subscribe {:channel-id "c1"}]`, {
    id: "sente-lite/subscribe",
    data: { "channel-id": "c1" },
    cbId: null,
  }],
  [
    "#13 publish",
    `[:sente-lite/publish {:channel-id "c", :data {:n 1, :s #{:a}, :v [1 "x"], :k :ns/k, :nil nil}, :exclude-sender? false}]`,
    {
      id: "sente-lite/publish",
      data: {
        "channel-id": "c",
        data: { n: 1, s: ["a"], v: [1, "x"], k: "ns/k", nil: null },
        "exclude-sender?": false,
      },
      cbId: null,
    },
  ],
  ["#16 the Sente-style cb form, cb dropped", `[[:test/rpc {:x 1}] "abc123"]`, {
    id: "test/rpc",
    data: { x: 1 },
    cbId: null,
  }],
  ["an event without data", `[:my-app/x]`, { id: "my-app/x", data: undefined, cbId: null }],
];

for (const [name, frame, expected] of CLIENT_VECTORS) {
  Deno.test(`originalDialect.decode() reads original client message ${name}`, () => {
    assert.deepEqual(originalDialect.decode(originalPacker.unpack(frame)), expected);
  });
}

Deno.test("originalDialect answers [:chsk/ws-ping] with [:chsk/ws-pong] through the Hub's pong reply", () => {
  const ping = originalDialect.decode(originalPacker.unpack(`[:chsk/ws-ping]`));
  assert.equal(ping.id, "chsk/ws-ping");
  assert.ok(ping.cbId !== null);
  assert.deepEqual(frames({ type: "reply", cbId: ping.cbId, value: "pong" }), [`[:chsk/ws-pong]`]);
  // A dropped client cb can never make a reply frame.
  assert.deepEqual(frames({ type: "reply", cbId: "abc123", value: "pong" }), []);
});

Deno.test("originalDialect.unhandled() is the original server's echo", () => {
  const event = originalDialect.decode(originalPacker.unpack(`[:test/echo {:msg "hi"}]`));
  const echo = originalDialect.unhandled?.(event, "5d1f0c2a9b3e", 1795698114154);
  assert.ok(echo);
  assert.deepEqual(frames(echo), [
    `[:sente-lite/echo {:original-event-id :test/echo, :original-data {:msg "hi"}, :conn-id "5d1f0c2a9b3e", :timestamp 1795698114154}]`,
  ]);
  const bare = originalDialect.unhandled?.({ id: "a/b", data: undefined, cbId: null }, "c", 1);
  assert.deepEqual(frames(bare!), [
    `[:sente-lite/echo {:original-event-id :a/b, :original-data nil, :conn-id "c", :timestamp 1}]`,
  ]);
});

Deno.test("originalDialect.decode() rejects what the original server drops", () => {
  const bad: [string, string][] = [
    [`{:type "subscribe"}`, "bad-envelope"],
    [`this is not edn`, "bad-envelope"],
    [`[]`, "bad-envelope"],
    [`[:no-namespace 1]`, "bad-event"],
    [`[1 2]`, "bad-event"],
    [`[:a/b 1 2]`, "bad-event"],
    [`[[:a/b 1] "cb" 3]`, "bad-event"],
    [`[[] nil]`, "bad-event"],
  ];
  for (const [frame, code] of bad) {
    assert.throws(
      () => originalDialect.decode(originalPacker.unpack(frame)),
      (e) => e instanceof ProtocolError && e.code === code && e.cbId === null,
      frame,
    );
  }
});

Deno.test("originalDialect.errorMessage() is silent: the original protocol has no error frames", () => {
  assert.equal(originalDialect.errorMessage(new ProtocolError("no-handler", "x")), null);
  assert.equal(originalDialect.errorMessage(new ProtocolError("bad-event", "x", "c1")), null);
});

Deno.test("original frames read with edn-data (an independent EDN reader) keep their keywords", () => {
  const read = (frame: unknown) => parseEDNString(String(frame), { setAs: "array" });
  const k = (key: string) => ({ key });
  for (const [, , expected] of SERVER_VECTORS) {
    for (const frame of expected) {
      const [id] = read(frame) as [{ key: string }];
      assert.equal(typeof id.key, "string", frame);
    }
  }
  const echo = originalDialect.unhandled?.(
    { id: "test/echo", data: { msg: "hi" }, cbId: null },
    "c",
    7,
  );
  assert.deepEqual(read(frames(echo!)[0]), [k("sente-lite/echo"), {
    map: [
      [k("original-event-id"), k("test/echo")],
      [k("original-data"), { map: [[k("msg"), "hi"]] }],
      [k("conn-id"), "c"],
      [k("timestamp"), 7],
    ],
  }]);
  assert.deepEqual(read(SERVER_VECTORS[4][2][0]), [k("sente-lite/subscribed"), {
    map: [
      [k("channel-id"), "c1"],
      [k("success"), false],
      [k("error"), k("max-subscriptions-per-conn")],
    ],
  }]);
  // What an original client writes with edn-data is read by the dialect.
  const written = toEDNString([{ key: "test/echo" }, { map: [[{ key: "msg" }, "hi"]] }] as never);
  assert.deepEqual(originalDialect.decode(originalPacker.unpack(written)), {
    id: "test/echo",
    data: { msg: "hi" },
    cbId: null,
  });
});
