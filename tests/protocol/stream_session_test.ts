import assert from "node:assert/strict";
import {
  MAX_STREAM_SESSION_LENGTH,
  readStreamSession,
  streamsProtocol,
} from "../../lib/protocol/stream_session.ts";
import { SUBPROTOCOL } from "../../lib/protocol/token.ts";

Deno.test("readStreamSession() reads the name its entry carries", () => {
  const name = "0123456789abcdef0123456789abcdef";
  assert.equal(readStreamSession([SUBPROTOCOL, streamsProtocol(name)]), name);
  assert.equal(readStreamSession([SUBPROTOCOL]), null);
});

Deno.test("readStreamSession() skips entries that are empty, too long or not token characters", () => {
  assert.equal(readStreamSession([streamsProtocol("")]), null);
  assert.equal(
    readStreamSession([streamsProtocol("a".repeat(MAX_STREAM_SESSION_LENGTH + 1))]),
    null,
  );
  assert.equal(readStreamSession([streamsProtocol("a b")]), null);
  assert.equal(readStreamSession([streamsProtocol("a/b"), streamsProtocol("ok")]), "ok");
  assert.equal(
    readStreamSession([streamsProtocol("a".repeat(MAX_STREAM_SESSION_LENGTH))]),
    "a".repeat(64),
  );
});
