/** Unit tests of lib/protocol/resume_token.ts: the token's form and its subprotocol transport. */
import assert from "node:assert/strict";
import {
  buildHandshakeData,
  parseHandshakeData,
  type ResumeState,
} from "../../lib/protocol/handshake.ts";
import { Delivery, DELIVERY_DEFAULTS } from "../../lib/server/delivery.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import {
  formatResumeToken,
  newResumeToken,
  newSessionId,
  parseResumeToken,
  readResumeToken,
  RESUME_PROTOCOL_PREFIX,
  resumeProtocol,
} from "../../lib/protocol/resume_token.ts";
import { zeroDeliveryCounters } from "../../lib/server/session.ts";

Deno.test("newResumeToken() keeps the session id and draws a new 128-bit secret each time", () => {
  const id = newSessionId();
  assert.match(id, /^[0-9a-f]{16}$/);
  const a = newResumeToken(id);
  const b = newResumeToken(id);
  assert.equal(a.sessionId, id);
  assert.match(a.secret, /^[0-9a-f]{32}$/);
  assert.notEqual(a.secret, b.secret);
  const wire = formatResumeToken(a);
  assert.match(wire, /^[0-9a-f]{48}$/);
  assert.deepEqual(parseResumeToken(wire), a);
});

Deno.test("parseResumeToken() accepts exactly 48 lowercase hex digits", () => {
  const ok = "0123456789abcdef".repeat(3);
  assert.deepEqual(parseResumeToken(ok), {
    sessionId: "0123456789abcdef",
    secret: "0123456789abcdef0123456789abcdef",
  });
  for (const bad of ["", ok.slice(1), ok + "0", ok.toUpperCase(), ok.slice(1) + "g", ` ${ok}`]) {
    assert.equal(parseResumeToken(bad), null, JSON.stringify(bad));
  }
});

Deno.test("readResumeToken() finds the sente-lite.resume.<token> subprotocol entry", () => {
  const wire = formatResumeToken(newResumeToken(newSessionId()));
  assert.equal(resumeProtocol(wire), RESUME_PROTOCOL_PREFIX + wire);
  assert.equal(
    readResumeToken(["sente-lite", "sente-lite.token.YWJj", resumeProtocol(wire)]),
    wire,
  );
  assert.equal(readResumeToken(["sente-lite"]), null);
  assert.equal(readResumeToken([RESUME_PROTOCOL_PREFIX + "nothex"]), null);
  assert.equal(readResumeToken([]), null);
});

Deno.test("docs/PROTOCOL.md §8 shows the handshake's resume entry as the server builds it", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/PROTOCOL.md", import.meta.url));
  const line = doc.split("\n").find((l) => l.startsWith('"resume": {'))!;
  const shown = JSON.parse(`{${line}}`)["resume"] as ResumeState;
  assert.notEqual(parseResumeToken(shown.token!), null, "the example token is well-formed");
  const data = buildHandshakeData(undefined, {
    version: 1,
    connId: "c",
    maxMessageBytes: 1,
    capabilities: ["resume"],
    resume: { resumed: true, gap: null, ack: 41, seq: 17, token: shown.token },
  });
  const built = (data["sente-lite"] as { resume: ResumeState }).resume;
  assert.equal(JSON.stringify(built), JSON.stringify(shown));
  // The server's own state has the documented fields, in the documented order.
  const delivery = new Delivery<string>(DELIVERY_DEFAULTS, new VirtualClock(), {
    loss: () => {},
    ack: () => {},
  }, zeroDeliveryCounters());
  assert.deepEqual(Object.keys(delivery.attach("u", "c", "k", 0).state), Object.keys(shown));
  assert.deepEqual(parseHandshakeData(data).info?.resume, shown);
});
