/** Unit tests of lib/protocol/resume_token.ts: the token's form and its subprotocol transport. */
import assert from "node:assert/strict";
import {
  formatResumeToken,
  newResumeToken,
  newSessionId,
  parseResumeToken,
  readResumeToken,
  RESUME_PROTOCOL_PREFIX,
  resumeProtocol,
} from "../../lib/protocol/resume_token.ts";

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
