/**
 * Replies find their request by the exact callback id the client wrote (pending requests are
 * kept by the number it writes in base 36, so other spellings of that number must not match).
 */
import assert from "node:assert/strict";
import { ServerError } from "../../lib/protocol/errors.ts";
import { FakeWebSocket, setup } from "./_setup.ts";

Deno.test("Client matches a reply only to the callback id it wrote, not another spelling", async () => {
  const h = setup();
  const ws = FakeWebSocket.last.accept();
  const settled: string[] = [];
  for (let i = 0; i < 12; i++) {
    h.client.request("demo/echo", i).then((v) => void settled.push(String(v)), () => {});
  }
  const cbs = ws.sentEvents("demo/echo").map(([, cb]) => cb);
  assert.deepEqual(cbs, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b"]);
  // Other spellings of 10 ("a"), a number past the last, junk: late replies, nothing settles.
  for (const cb of ["0a", "00a", "A", "10", " a", "a ", "-1", "1.5", "zzzzzzzzzzz", "~a"]) {
    ws.serverSend([`for ${cb}`, cb]);
  }
  await Promise.resolve();
  assert.deepEqual(settled, []);
  assert.equal(h.client.stats().lateReplies, 10);
  ws.serverSend(["ten", "a"]).serverSend(["zero", "0"]);
  await Promise.resolve();
  assert.deepEqual(settled, ["ten", "zero"]);
  // Settled: the same id again is late.
  ws.serverSend(["again", "a"]);
  assert.equal(h.client.stats().lateReplies, 11);
  // An error event names its request by the same rule.
  const failed = h.client.request("demo/fails", null).catch((e) => e);
  ws.serverSend([[["sente-lite/error", { code: "nope", message: "m", "cb-id": "0c" }]], null]);
  ws.serverSend([[["sente-lite/error", { code: "nope", message: "m", "cb-id": "c" }]], null]);
  const error = await failed;
  assert.ok(error instanceof ServerError);
  assert.equal(error.code, "nope");
  h.client.close();
});

Deno.test("Client reads a handshake or a ping carrying a callback id as such, not as a reply", () => {
  const h = setup({ heartbeat: { intervalMs: 35000, timeoutMs: 50000 } });
  const ws = FakeWebSocket.last.accept();
  h.client.request("demo/echo", 1).catch(() => {});
  ws.serverSend(["chsk/ws-ping", "0"]);
  assert.equal(ws.sentEvents("chsk/ws-pong").length, 1);
  assert.equal(h.client.stats().lateReplies, 0);
  h.client.close();
});

Deno.test("Client.request() checks every event id, also after a valid one, and each gets its own promise", async () => {
  const h = setup();
  const ws = FakeWebSocket.last.accept();
  const a = h.client.request("demo/echo", 1);
  const b = h.client.request("demo/echo", 2);
  assert.ok(a instanceof Promise && b instanceof Promise && a !== b);
  assert.throws(() => h.client.request("noslash", 3), TypeError);
  assert.throws(() => h.client.request("", 3), TypeError);
  const c = h.client.request("demo/other", 4);
  assert.deepEqual(ws.sentEvents("demo/echo").map(([, cb]) => cb), ["0", "1"]);
  ws.serverSend(["two", "1"]).serverSend(["one", "0"]).serverSend(["four", "2"]);
  assert.deepEqual(await Promise.all([a, b, c]), ["one", "two", "four"]);
  h.client.close();
});
