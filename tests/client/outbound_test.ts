/** Unit tests of lib/client/outbound.ts: the send queue, the resume outbox and the socket writes. */
import assert from "node:assert/strict";
import { InboundAcks } from "../../lib/client/acks.ts";
import { ClientOutbound } from "../../lib/client/outbound.ts";
import type { ConnectionState } from "../../lib/client/session.ts";
import type { Handshake } from "../../lib/client/types.ts";
import type { ServerInfo } from "../../lib/protocol/handshake.ts";
import { ClosedError } from "../../lib/protocol/errors.ts";
import { openSocket, testParts } from "./_parts.ts";

function make(resume: boolean) {
  const t = testParts({ resume });
  let state: ConnectionState = "connecting";
  const out = new ClientOutbound(t.parts, () => state);
  const acks = new InboundAcks(t.clock, (v) => out.sendValue(v));
  const ws = openSocket();
  /** The socket is open and the handshake `resume` (if any) arrived. */
  const open = (resumeState?: ServerInfo["resume"]) => {
    out.ws = ws as unknown as WebSocket;
    state = "open";
    const server = resumeState === undefined ? null : {
      version: 1,
      connId: "c",
      maxMessageBytes: 0,
      capabilities: resumeState ? ["resume"] : [],
      wire: null,
      resume: resumeState,
    };
    const handshake: Handshake = { uid: "u", data: null, server, first: true };
    const gap = out.resumed(handshake, acks);
    out.flush();
    return gap;
  };
  return { ...t, out, ws, open, setState: (s: ConnectionState) => state = s };
}

const resumeState = (ack: number) => ({ resumed: true, gap: null, ack, seq: 0, token: null });
const events = (sent: string[]) => sent.map((f) => JSON.parse(f)[0]);

Deno.test("ClientOutbound.send() queues while connecting; flush() writes the queue in call order", () => {
  const { out, ws, open, parts } = make(false);
  assert.equal(out.send("app/a", 1), "queued");
  assert.equal(out.send("app/b", 2), "queued");
  assert.deepEqual(ws.sent, []);
  open();
  assert.deepEqual(events(ws.sent), [["app/a", 1], ["app/b", 2]]);
  assert.equal(out.send("app/c", 3), "sent");
  assert.equal(parts.stats.messagesOut, 3);
});

Deno.test("ClientOutbound.sendValue() writes only while open and never queues", () => {
  const { out, ws, open } = make(false);
  out.sendValue(["chsk/ws-pong"]);
  open();
  assert.deepEqual(ws.sent, []);
  out.sendValue([["chsk/ws-pong"], null]);
  assert.deepEqual(ws.sent, ['[["chsk/ws-pong"],null]']);
});

Deno.test("ClientOutbound numbered sends: acked() drops them, lost() sends the rest again in order", () => {
  const { out, ws, open, setState } = make(true);
  open(resumeState(0));
  for (const n of [1, 2, 3]) out.send("app/n", n);
  assert.deepEqual(events(ws.sent).map((e) => e[1].seq), [1, 2, 3]);
  out.acked({ seq: 1 });
  setState("reconnecting");
  out.lost(new ClosedError("lost"));
  ws.sent = [];
  open(resumeState(0)); // the server says nothing new: only the ack it sent counts
  assert.deepEqual(events(ws.sent).map((e) => e[1].event), [["app/n", 2], ["app/n", 3]]);
});

Deno.test("ClientOutbound.resumed() drops what the server acknowledged and counts the re-sent", () => {
  const { out, ws, open, setState, parts } = make(true);
  open(resumeState(0));
  for (const n of [1, 2, 3]) out.send("app/n", n);
  setState("reconnecting");
  out.lost(new ClosedError("lost"));
  ws.sent = [];
  open(resumeState(2)); // the server has 1 and 2
  assert.deepEqual(events(ws.sent).map((e) => e[1].seq), [3]);
  assert.equal(parts.stats.resent, 1);
});

Deno.test("ClientOutbound.resumed() without resume on the server sends queued events plainly", () => {
  const { out, ws, open } = make(true);
  assert.equal(out.send("app/n", 1), "queued"); // numbered: the next socket may resume
  open(null);
  assert.equal(out.resumeOn, false);
  assert.deepEqual(events(ws.sent), [["app/n", 1]]);
});

Deno.test("ClientOutbound.clear() empties the queue for good", () => {
  const { out, ws, open } = make(false);
  out.send("app/a", 1);
  out.clear();
  open();
  assert.deepEqual(ws.sent, []);
});
