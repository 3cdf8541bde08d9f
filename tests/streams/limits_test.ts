/**
 * Limits and hostile peers: one real mux against a raw peer that writes frames by hand.
 */
import assert from "node:assert/strict";
import { StreamError } from "../../lib/streams/errors.ts";
import {
  decodeStreamFrame,
  encodeCredit,
  encodeData,
  encodeEnd,
  encodeOpen,
  encodeResume,
} from "../../lib/streams/frames.ts";
import type { StreamFrame } from "../../lib/streams/frames.ts";
import type { IncomingStream } from "../../lib/streams/incoming.ts";
import { StreamMux } from "../../lib/streams/mux.ts";
import { StreamBudget } from "../../lib/streams/options.ts";
import type { StreamMuxOptions } from "../../lib/streams/options.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { bytes, counted, pair, turn } from "./_pair.ts";

/** A mux whose peer is the test: frames the mux writes land in `frames`. */
function raw(options: Partial<StreamMuxOptions> & { side?: "client" | "server" } = {}) {
  const frames: StreamFrame[] = [];
  const incoming: IncomingStream[] = [];
  const errors: StreamError[] = [];
  const mux = new StreamMux({
    side: "server",
    onStream: (s) => {
      incoming.push(s);
      s.accept();
    },
    onError: (e) => errors.push(e),
    ...options,
  });
  mux.attach({ send: (f) => frames.push(decodeStreamFrame(f)), bufferedAmount: 0 });
  const of = (type: StreamFrame["type"]) => frames.filter((f) => f.type === type);
  const cancels = () => of("cancel") as Extract<StreamFrame, { type: "cancel" }>[];
  return { mux, frames, incoming, errors, of, cancels };
}

const empty = new Uint8Array(0);

Deno.test("StreamMux refuses streams over maxIncomingStreams with stream-limit before any credit", () => {
  const { mux, cancels, of } = raw({ maxIncomingStreams: 2 });
  for (const id of [1, 3, 5]) mux.receive(encodeOpen(id, "app/up", 10, false, empty));
  assert.deepEqual(of("credit").map((f) => f.id), [1, 3]);
  assert.deepEqual(cancels().map((f) => [f.id, f.code]), [[5, "stream-limit"]]);
  assert.equal(mux.stats().refused, 1);
});

Deno.test("StreamBudget caps concurrent incoming streams across connections", async () => {
  const budget = new StreamBudget(2);
  const a = raw({ budget });
  const b = raw({ budget });
  a.mux.receive(encodeOpen(1, "x", undefined, false, empty));
  b.mux.receive(encodeOpen(1, "x", undefined, false, empty));
  b.mux.receive(encodeOpen(3, "x", undefined, false, empty));
  assert.deepEqual(b.cancels().map((f) => [f.id, f.code]), [[3, "stream-limit"]]);
  assert.equal(budget.active, 2);
  a.incoming[0].cancel("bye");
  assert.equal(budget.active, 1);
  b.mux.receive(encodeOpen(5, "x", undefined, false, empty));
  assert.equal(b.incoming.length, 2);
  assert.throws(() => new StreamBudget(0), RangeError);
  await turn();
});

Deno.test("StreamBudget.forKey caps one key's share; other keys still get slots", async () => {
  const budget = new StreamBudget(4, 2);
  const a1 = raw({ budget: budget.forKey("198.51.100.66") });
  const a2 = raw({ budget: budget.forKey("198.51.100.66") });
  const b = raw({ budget: budget.forKey("192.0.2.10") });
  a1.mux.receive(encodeOpen(1, "x", undefined, false, empty));
  a2.mux.receive(encodeOpen(1, "x", undefined, false, empty));
  a2.mux.receive(encodeOpen(3, "x", undefined, false, empty));
  assert.deepEqual(a2.cancels().map((f) => [f.id, f.code, f.reason]), [
    [3, "stream-limit", "over 2 concurrent streams from one address"],
  ]);
  b.mux.receive(encodeOpen(1, "x", undefined, false, empty));
  b.mux.receive(encodeOpen(3, "x", undefined, false, empty));
  assert.equal(budget.active, 4);
  assert.equal(budget.keys, 2);
  a1.incoming[0].cancel("bye");
  a2.incoming[0].cancel("bye");
  assert.equal(budget.keys, 1, "a key holding none is forgotten");
  assert.equal(budget.forKey(null), budget, "no key: only the server-wide cap");
  assert.throws(() => new StreamBudget(4, 0), RangeError);
  await turn();
});

Deno.test("StreamMux refuses an announced total over maxStreamBytes, and a stream without a handler", () => {
  const { mux, cancels, of } = raw({ maxStreamBytes: 1000 });
  mux.receive(encodeOpen(1, "x", 1001, false, empty));
  assert.deepEqual(cancels().map((f) => f.code), ["stream-too-large"]);
  assert.equal(of("credit").length, 0);
  const none = new StreamMux({ side: "server" });
  const out: StreamFrame[] = [];
  none.attach({ send: (f) => out.push(decodeStreamFrame(f)), bufferedAmount: 0 });
  none.receive(encodeOpen(1, "x", 1, false, empty));
  assert.deepEqual(out.map((f) => f.type === "cancel" && f.code), ["stream-refused"]);
});

Deno.test("StreamMux fails DATA sent before credit, beyond credit or at a wrong offset (stream-protocol)", () => {
  const { mux, cancels } = raw({
    windowBytes: 1000,
    onStream: () => {}, // never accepted: no credit
  });
  mux.receive(encodeOpen(1, "x", undefined, false, empty));
  mux.receive(encodeData(1, 0, new Uint8Array(10)));
  assert.deepEqual(cancels().map((f) => [f.id, f.code]), [[1, "stream-protocol"]]);

  const accepted = raw({ windowBytes: 1000 });
  accepted.mux.receive(encodeOpen(1, "x", undefined, false, empty));
  accepted.mux.receive(encodeData(1, 0, new Uint8Array(600)));
  accepted.mux.receive(encodeData(1, 600, new Uint8Array(401))); // 1001 > credit 1000
  accepted.mux.receive(encodeOpen(3, "x", undefined, false, empty));
  accepted.mux.receive(encodeData(3, 5, new Uint8Array(1))); // offset 5, expected 0
  assert.deepEqual(accepted.cancels().map((f) => [f.id, f.code]), [
    [1, "stream-protocol"],
    [3, "stream-protocol"],
  ]);
  assert.equal(accepted.mux.stats().incoming, 0, "failed streams hold nothing");
  assert.equal(accepted.mux.stats().protocolErrors, 2);
});

Deno.test("StreamMux fails a lying total and a never-ending stream with stream-too-large", () => {
  const { mux, cancels } = raw({ maxStreamBytes: 3000, windowBytes: 100_000 });
  mux.receive(encodeOpen(1, "x", 10, false, empty));
  mux.receive(encodeData(1, 0, new Uint8Array(20)));
  mux.receive(encodeOpen(3, "x", undefined, false, empty));
  for (let i = 0; i < 10; i++) mux.receive(encodeData(3, i * 1000, new Uint8Array(1000)));
  assert.deepEqual(cancels().map((f) => [f.id, f.code]), [
    [1, "stream-too-large"],
    [3, "stream-too-large"],
  ]);
  assert.equal(mux.stats().dropped, 6, "DATA after the failure is dropped");
});

Deno.test("StreamMux fails an END whose total differs from the bytes received", () => {
  const { mux, cancels } = raw();
  mux.receive(encodeOpen(1, "x", undefined, false, empty));
  mux.receive(encodeData(1, 0, new Uint8Array(10)));
  mux.receive(encodeEnd(1, 11));
  assert.deepEqual(cancels().map((f) => f.code), ["stream-protocol"]);
  mux.receive(encodeOpen(3, "x", undefined, true, empty));
  mux.receive(encodeEnd(3, 0)); // integrity announced, no digest
  assert.deepEqual(cancels().map((f) => f.code), ["stream-protocol", "stream-integrity"]);
});

Deno.test("StreamMux drops frames for unknown streams and reports bad frames without a stream", () => {
  const { mux, errors, frames, cancels } = raw();
  mux.receive(encodeData(9, 0, new Uint8Array(100_000)));
  mux.receive(encodeCredit(2, 0, 10));
  assert.equal(mux.stats().dropped, 2);
  assert.equal(mux.stats().incoming, 0);
  mux.receive(new Uint8Array([0x1e, 0, 0, 0, 1]));
  mux.receive(encodeOpen(2, "x", undefined, false, empty)); // the server's own parity
  assert.deepEqual(errors.map((e) => e.code), ["stream-protocol", "stream-protocol"]);
  mux.receive(encodeOpen(7, "x", undefined, false, empty));
  mux.receive(encodeOpen(5, "x", undefined, false, empty)); // an id below one already seen
  assert.equal(cancels().at(-1)!.code, "stream-resume-failed");
  assert.ok(frames.length > 0);
});

Deno.test("OutgoingStream buffers nothing beyond the socket's highWaterMark whatever credit the peer grants", async () => {
  const frames: StreamFrame[] = [];
  const socket = { bufferedAmount: 0, written: 0 };
  const mux = new StreamMux({ side: "client", frameBytes: 1024, highWaterMark: 8192 });
  mux.attach({
    send(f) {
      frames.push(decodeStreamFrame(f));
      socket.bufferedAmount += f.byteLength; // a socket that never drains
      socket.written += f.byteLength;
    },
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
  });
  const source = counted(10 * 1024 * 1024, 1024);
  const out = mux.open("app/up", source.stream);
  mux.receive(encodeCredit(out.id, 0, 2 ** 53 - 1)); // a credit flood
  for (let i = 0; i < 50; i++) await turn();
  assert.ok(socket.bufferedAmount <= 8192 + 1024 + 13 + 64, `buffered ${socket.bufferedAmount}`);
  assert.ok(source.seen.pulled <= out.sent + 2 * 1024, `pulled ${source.seen.pulled}`);
  socket.bufferedAmount = 0; // the socket drains: the sender goes on
  for (let i = 0; i < 50; i++) await turn();
  assert.ok(out.sent > 8192);
  mux.receive(encodeCredit(out.id, 1024, 2 ** 53 - 1));
  mux.receive(encodeCredit(out.id, 0, 2 ** 53 - 1)); // consumed goes backwards
  await assert.rejects(out.done, (e) => e instanceof StreamError && e.code === "stream-protocol");
  assert.equal(frames.at(-1)!.type, "cancel");
});

Deno.test("OutgoingStream fails on a credit for bytes never sent and on an unexpected RESUME", async () => {
  const { mux } = raw({ side: "client" });
  const a = mux.open("app/up", bytes(10));
  mux.receive(encodeCredit(a.id, 50, 100)); // consumed 50 of 0 sent
  await assert.rejects(a.done, (e) => e instanceof StreamError && e.code === "stream-protocol");
  const b = mux.open("app/up", bytes(10));
  mux.receive(encodeResume(b.id, 0, 0, 100)); // no transport drop happened
  await assert.rejects(b.done, (e) => e instanceof StreamError && e.code === "stream-protocol");
});

Deno.test("StreamMux.open() throws stream-limit over maxOutgoingStreams and RangeError on bad options", () => {
  const { client } = pair({ maxOutgoingStreams: 1 });
  client.open("a/b", bytes(1));
  assert.throws(
    () => client.open("a/b", bytes(1)),
    (e) => e instanceof StreamError && e.code === "stream-limit",
  );
  assert.throws(() => new StreamMux({ side: "client", windowBytes: 0 }), RangeError);
  assert.throws(() => new StreamMux({ side: "peer" as "client" }), RangeError);
  client.close();
});

Deno.test("IncomingStream fails with stream-idle when the sender holds credit and sends nothing", () => {
  const clock = new VirtualClock();
  const { mux, cancels, incoming } = raw({ clock, idleTimeoutMs: 1000 });
  mux.receive(encodeOpen(1, "x", undefined, false, empty)); // a slow-loris: OPEN, then silence
  clock.tick(999);
  assert.equal(cancels().length, 0);
  mux.receive(encodeData(1, 0, new Uint8Array(10))); // progress pushes the deadline back
  clock.tick(999);
  assert.equal(cancels().length, 0);
  clock.tick(1);
  assert.deepEqual(cancels().map((f) => [f.id, f.code]), [[1, "stream-idle"]]);
  assert.equal(incoming[0].state, "failed");
  assert.equal(mux.stats().incoming, 0, "the slot is free again");
});

Deno.test("IncomingStream does not blame the sender while its own reader is slow", async () => {
  const clock = new VirtualClock();
  const { mux, cancels, incoming } = raw({ clock, idleTimeoutMs: 1000, windowBytes: 100 });
  mux.receive(encodeOpen(1, "x", undefined, false, empty));
  mux.receive(encodeData(1, 0, new Uint8Array(100))); // the whole window: now it waits on its reader
  clock.tick(5000);
  assert.equal(cancels().length, 0);
  const reader = incoming[0].readable.getReader();
  await reader.read(); // reads: a credit goes out and the sender's clock starts then
  clock.tick(999);
  assert.equal(cancels().length, 0);
  clock.tick(1);
  assert.deepEqual(cancels().map((f) => f.code), ["stream-idle"]);
});

Deno.test("OutgoingStream fails with stream-idle when the receiver never accepts or grants credit", async () => {
  const clock = new VirtualClock();
  const { mux } = raw({ side: "client", clock, idleTimeoutMs: 1000 });
  const a = mux.open("app/up", bytes(100)); // never accepted
  const b = mux.open("app/up", bytes(100_000));
  mux.receive(encodeCredit(b.id, 0, 10)); // accepted, then starved
  await turn(); // b sends its 10 bytes
  clock.tick(1000);
  await assert.rejects(a.done, (e) => e instanceof StreamError && e.code === "stream-idle");
  await assert.rejects(b.done, (e) => e instanceof StreamError && e.code === "stream-idle");
  const off = raw({ side: "client", clock, idleTimeoutMs: 0 });
  const c = off.mux.open("app/up", bytes(100));
  clock.tick(10 ** 9);
  assert.equal(c.state, "opening");
});
