import assert from "node:assert/strict";
import { handshakeFrame } from "../../lib/server/handshake_frame.ts";
import { utf8ByteLength } from "../../lib/util/utf8.ts";

/** The frame's text, after checking its byte count. */
function handshakeJson(uid: string, info: ServerInfo): string {
  const frame = handshakeFrame(uid, info);
  assert.equal(frame.bytes, utf8ByteLength(frame.text), frame.text);
  return frame.text;
}
import { buildHandshakeData, type ServerInfo } from "../../lib/protocol/handshake.ts";
import { serverEnvelope } from "../../lib/protocol/envelope.ts";
import { jsonPacker } from "../../lib/packers/json.ts";

/** What the generic path (envelope, then the JSON packer) writes for the same handshake. */
function generic(uid: string, info: ServerInfo): string {
  const data = buildHandshakeData(undefined, info);
  return jsonPacker.pack(serverEnvelope({ type: "handshake", uid, data })) as string;
}

const BASE: ServerInfo = {
  version: 1,
  connId: "c0ffee01",
  maxMessageBytes: 1_048_576,
  capabilities: ["channels", "server-requests", "error-frames"],
};

Deno.test("handshakeFrame writes the generic path's text byte for byte, and counts its UTF-8 bytes", () => {
  const cases: [string, ServerInfo][] = [
    ["u1", BASE],
    ['we"ird\\uid\n\u2028', { ...BASE, connId: 'q"x' }],
    ["ünï\u2028cødé 😀", { ...BASE, connId: "n\u00e9.c0ffee" }],
    ["lone \ud800 surrogate", BASE],
    ["ünïcødé\u2028\u0800", BASE],
    ["u8", { ...BASE, capabilities: ["channels", "strëams"] }],
    ["u2", { ...BASE, capabilities: [...BASE.capabilities, "resume", "channel-seq"] }],
    ["u2", { ...BASE, capabilities: [] }],
    ["u3", { ...BASE, wire: { compression: "deflate", "max-chunk": 65536 } }],
    ["u4", { ...BASE, wire: null, resume: null }],
    ["u5", {
      ...BASE,
      resume: { resumed: true, gap: null, ack: 3, seq: 17, token: "tok_-AZ09" },
    }],
    ["u6", {
      ...BASE,
      resume: {
        resumed: false,
        gap: { reason: "overflow", dropped: 12 },
        ack: 0,
        seq: 0,
        token: null,
        cseq: 42,
      },
    }],
    ["u7", {
      ...BASE,
      resume: {
        resumed: false,
        gap: { reason: "unknown", dropped: null },
        ack: 0,
        seq: 0,
        token: "t",
      },
    }],
  ];
  for (const [uid, info] of cases) {
    // Twice: the second one reuses the capabilities' JSON.
    assert.equal(handshakeJson(uid, info), generic(uid, info));
    assert.equal(handshakeJson(uid, info), generic(uid, info));
  }
});

Deno.test("handshakeFrame does not reuse a capability list that changed in place", () => {
  const capabilities = ["channels", "resume"];
  const info = { ...BASE, capabilities };
  assert.equal(handshakeJson("u", info), generic("u", info));
  capabilities[1] = "channel-seq";
  assert.equal(handshakeJson("u", info), generic("u", info));
});
