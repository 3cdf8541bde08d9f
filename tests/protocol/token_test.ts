import assert from "node:assert/strict";
import { offeredProtocols, readToken, tokenProtocol } from "../../lib/protocol/token.ts";

Deno.test("readToken() reads Bearer headers, token subprotocols and the query, in that order", () => {
  const url = "http://h/chsk?client-id=c&token=from-query";
  assert.equal(readToken(new Request(url, { headers: { authorization: "Bearer abc" } })), "abc");
  const proto = tokenProtocol("jwt.with/odd+chars=é");
  assert.match(proto, /^sente-lite\.token\.[A-Za-z0-9_-]+$/);
  const r = new Request(url, { headers: { "sec-websocket-protocol": `sente-lite, ${proto}` } });
  assert.equal(readToken(r), "jwt.with/odd+chars=é");
  assert.deepEqual(offeredProtocols(r), ["sente-lite", proto]);
  assert.equal(readToken(new Request(url)), "from-query");
  assert.equal(readToken(new Request("http://h/chsk")), null);
});
