/** Unit tests of lib/client/inbound.ts: decoding and routing the server's frames. */
import assert from "node:assert/strict";
import { InboundAcks } from "../../lib/client/acks.ts";
import { ClientChannels } from "../../lib/client/channels.ts";
import { ClientInbound } from "../../lib/client/inbound.ts";
import { ClientOutbound } from "../../lib/client/outbound.ts";
import type { ConnectionState } from "../../lib/client/session.ts";
import { Liveness } from "../../lib/util/liveness.ts";
import { openSocket, testParts } from "./_parts.ts";

const PING_CB = "~ping";

function make() {
  const t = testParts({ resume: { ackEvery: 2, ackDelayMs: 100 } });
  const state: ConnectionState = "open";
  const out = new ClientOutbound(t.parts, () => state);
  const ws = openSocket();
  out.ws = ws as unknown as WebSocket;
  const acks = new InboundAcks(t.clock, (v) => out.sendValue(v));
  const channels = new ClientChannels({
    request: () => Promise.resolve({ success: true }),
    state: () => state,
    onError: (e) => t.errors.push(e),
    emit: (id, data) => t.parts.handlers.emit(id, data),
    cursors: t.parts.cursors,
  });
  const liveness = new Liveness(t.clock, { intervalMs: 0, timeoutMs: 0 }, {
    ping: () => {},
    dead: () => {},
  });
  const handshakes: [string, unknown][] = [];
  const inbound = new ClientInbound(
    t.parts,
    channels,
    acks,
    out,
    liveness,
    PING_CB,
    (uid, data) => void handshakes.push([uid, data]),
    () => state,
  );
  const receive = (frame: string) => inbound.receive(frame);
  const pushes: [string, unknown][] = [];
  t.parts.handlers.on("*", (data, { id }) => void pushes.push([id, data]));
  return { ...t, receive, ws, pushes, handshakes };
}

const frame = (value: unknown) => JSON.stringify(value);

Deno.test("ClientInbound.receive() delivers pushes to the handlers and counts frames", () => {
  const { receive, pushes, parts } = make();
  receive(frame([[["app/a", 1], ["app/b", 2]]]));
  assert.deepEqual(pushes, [["app/a", 1], ["app/b", 2]]);
  assert.equal(parts.stats.messagesIn, 1);
});

Deno.test("ClientInbound.receive() hands a handshake over and answers a ping with a pong", () => {
  const { receive, handshakes, ws } = make();
  receive(frame([["chsk/handshake", ["u1", null, { x: 1 }]]]));
  assert.deepEqual(handshakes, [["u1", { x: 1 }]]);
  receive(frame(["chsk/ws-ping"]));
  assert.deepEqual(ws.sent, [frame([["chsk/ws-pong"], null])]);
});

Deno.test("ClientInbound.receive() counts a reply with no request as late, never the liveness ping's", () => {
  const { receive, parts } = make();
  receive(frame(["chsk/ws-pong", PING_CB]));
  assert.equal(parts.stats.lateReplies, 0);
  receive(frame([{ ok: true }, "7"]));
  assert.equal(parts.stats.lateReplies, 1);
});

Deno.test("ClientInbound.receive() delivers a numbered push once and acknowledges every ackEvery", () => {
  const { receive, pushes, parts, ws } = make();
  const msg = (seq: number) => frame([[["sente-lite/msg", { seq, event: ["app/n", seq] }]]]);
  receive(msg(1));
  receive(msg(1));
  receive(msg(2));
  assert.deepEqual(pushes, [["app/n", 1], ["app/n", 2]]);
  assert.equal(parts.stats.duplicatesDropped, 1);
  assert.deepEqual(ws.sent, [frame([["sente-lite/ack", { seq: 2 }], null])]);
});

Deno.test("ClientInbound.receive() reports a frame that does not decode as unpack-failed", () => {
  const { receive, errors, pushes } = make();
  receive("{not json");
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error & { code: string }).code, "unpack-failed");
  assert.deepEqual(pushes, []);
});
