import assert from "node:assert/strict";
import type { Frame } from "../../lib/packers/packer.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { PLAIN } from "../../lib/wire/capabilities.ts";
import type { WireSettings } from "../../lib/wire/capabilities.ts";
import { splitIntoChunks } from "../../lib/wire/chunking.ts";
import { compress, SharedFrame } from "../../lib/wire/compression.ts";
import type { WireError } from "../../lib/wire/errors.ts";
import { FLAG_CHUNK, FLAG_DEFLATE_RAW, FLAG_GZIP, FLAG_RAW } from "../../lib/wire/flags.ts";
import { WireReceiver, WireSender } from "../../lib/wire/pipeline.ts";
import type { WireOptions } from "../../lib/wire/pipeline.ts";

const ALL: WireSettings = { batching: true, compression: "deflate-raw", chunking: true };
const COMPRESSION: WireSettings = { ...PLAIN, compression: "deflate-raw" };
const CHUNKING: WireSettings = { ...PLAIN, chunking: true };
const decoder = new TextDecoder();

class FakeSocket {
  sent: Frame[] = [];
  bufferedAmount = 0;
  send(frame: Frame): void {
    this.sent.push(frame);
    this.bufferedAmount += typeof frame === "string" ? frame.length : frame.byteLength;
  }
}

/** A sender and a receiver joined by a fake socket; frames are delivered when `deliver()` runs. */
function pair(settings: WireSettings, options: WireOptions = {}) {
  const clock = new VirtualClock();
  const socket = new FakeSocket();
  const got: string[] = [];
  const errors: WireError[] = [];
  const sender = new WireSender(settings, socket, { clock, ...options });
  const receiver = new WireReceiver(settings, {
    frame: (f) => got.push(typeof f === "string" ? f : decoder.decode(f)),
    error: (e) => errors.push(e),
  }, { clock, ...options });
  let delivered = 0;
  const deliver = async () => {
    // Sends and yields until both sides are done; the socket "writes" everything at once.
    for (let i = 0; i < 10_000; i++) {
      while (delivered < socket.sent.length) receiver.receive(socket.sent[delivered++]);
      socket.bufferedAmount = 0;
      if (sender.stats().queued === 0) break;
      await new Promise((r) => setTimeout(r, 0));
      clock.tick(10);
    }
    while (delivered < socket.sent.length) receiver.receive(socket.sent[delivered++]);
    await receiver.idle();
  };
  return { clock, socket, got, errors, sender, receiver, deliver };
}

const json = (n: number, seed = "") =>
  JSON.stringify([
    ["app/data", Array.from({ length: n }, (_, i) => ({ i, s: `row-${seed}${i}` }))],
    null,
  ]);
const noise = (n: number) => {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return JSON.stringify([["app/blob", btoa(String.fromCharCode(...bytes.subarray(0, 0)))], null]) +
    [...bytes].map((b) => String.fromCharCode(48 + (b % 64))).join("");
};

Deno.test("WireSender and WireReceiver pass frames through untouched when nothing was negotiated", async () => {
  const { socket, got, sender, deliver, receiver } = pair(PLAIN);
  const big = json(20_000);
  const binary = new TextEncoder().encode('[["app/b",1],null]');
  sender.send('[["app/a",1],null]');
  sender.send(big);
  sender.send(binary);
  assert.deepEqual(socket.sent, ['[["app/a",1],null]', big, binary], "sent synchronously, as is");
  await deliver();
  assert.deepEqual(got, ['[["app/a",1],null]', big, '[["app/b",1],null]']);
  assert.equal(sender.stats().frames, 3);
  assert.equal(receiver.stats().messages, 3);
});

Deno.test("WireSender compresses frames over the threshold into 0x02 binary frames, small ones stay text", async () => {
  const { socket, got, sender, deliver, errors, receiver } = pair(COMPRESSION);
  const big = json(500);
  sender.send(big);
  sender.send('[["app/small",1],null]');
  await sender.idle();
  assert.equal(socket.sent.length, 2);
  const first = socket.sent[0] as Uint8Array;
  assert.equal(first[0], FLAG_DEFLATE_RAW);
  assert.ok(first.length < big.length / 4);
  assert.equal(socket.sent[1], '[["app/small",1],null]', "order kept behind the compression");
  await deliver();
  assert.deepEqual(got, [big, '[["app/small",1],null]']);
  assert.deepEqual(errors, []);
  const stats = sender.stats().compression;
  assert.equal(stats.messages, 1);
  assert.equal(stats.skipped, 1);
  assert.equal(stats.bytesBefore, big.length);
  assert.equal(receiver.stats().compression.bytesBefore, big.length);
});

Deno.test("WireSender chunks frames over chunkSize into 0x03 frames the receiver reassembles", async () => {
  const { socket, got, sender, deliver, receiver } = pair(CHUNKING, { chunkSize: 1000 });
  const big = json(400);
  sender.send(big);
  await deliver();
  assert.ok(socket.sent.length > 5);
  for (const f of socket.sent) assert.equal((f as Uint8Array)[0], FLAG_CHUNK);
  assert.deepEqual(got, [big]);
  assert.equal(sender.stats().chunkedMessages, 1);
  assert.equal(sender.stats().chunks, socket.sent.length);
  assert.equal(receiver.stats().reassembly.messages, 1);
});

Deno.test("WireSender compresses first, then chunks only what is still over chunkSize", async () => {
  const { socket, got, sender, deliver } = pair(ALL, { chunkSize: 16384 });
  const compressible = json(2000); // ~50 KB, ~10 KB compressed
  const incompressible = noise(40_000);
  sender.send(compressible);
  sender.send(incompressible);
  await deliver();
  assert.deepEqual(got, [compressible, incompressible]);
  const flags = socket.sent.map((f) => (f as Uint8Array)[0]);
  assert.equal(flags[0], FLAG_DEFLATE_RAW, "compressed below one chunk: one frame");
  assert.ok(flags.slice(1).every((f) => f === FLAG_CHUNK));
  // The chunked payload is itself flagged: its first chunk body starts with 0x02 or 0x00.
  assert.ok([FLAG_RAW, FLAG_DEFLATE_RAW].includes((socket.sent[1] as Uint8Array)[17]));
});

Deno.test("WireSender lets small messages overtake a large one in transit", async () => {
  const { socket, got, sender, deliver, clock } = pair(CHUNKING, {
    chunkSize: 1000,
    bulkHighWaterMark: 4000,
    bulkSliceChunks: 2,
  });
  const big = json(3000); // ~60 chunks
  sender.send(big);
  assert.ok(socket.sent.length <= 4, `${socket.sent.length} chunks before the socket filled up`);
  clock.tick(10);
  assert.equal(socket.sent.length, 4, "nothing more while bufferedAmount is high");
  sender.send('[["app/small",1],null]');
  assert.equal(socket.sent.at(-1), '[["app/small",1],null]', "sent at once, between chunks");
  await deliver();
  assert.deepEqual(got, ['[["app/small",1],null]', big]);
});

Deno.test("WireSender keeps send order within the bulk lane", async () => {
  const { got, sender, deliver } = pair(ALL, { chunkSize: 1000 });
  const a = noise(5000);
  const b = noise(7000);
  sender.send(a);
  sender.send(b);
  await deliver();
  assert.deepEqual(got, [a, b]);
});

Deno.test("WireSender.sendShared() compresses a broadcast once for every recipient", async () => {
  const shared = new SharedFrame(json(300));
  const pairs = [pair(ALL), pair(ALL), pair(ALL)];
  for (const p of pairs) p.sender.sendShared(shared);
  for (const p of pairs) {
    await p.deliver();
    assert.deepEqual(p.got, [shared.frame]);
    assert.equal(p.sender.stats().compression.messages, 1);
  }
  assert.equal(shared.compressions, 1);
  assert.equal(shared.stats.messages, 1);
  assert.equal(pairs[0].socket.sent[0], pairs[1].socket.sent[0], "the very same bytes");
});

Deno.test("WireSender drops a message that needs more than maxChunks and says why", async () => {
  const errors: Error[] = [];
  const { sender, socket } = pair(CHUNKING, {
    chunkSize: 100,
    maxChunks: 10,
    onSendError: (e) => errors.push(e),
  });
  sender.send("x".repeat(2000));
  sender.send("ok");
  await sender.idle();
  assert.deepEqual(socket.sent, ["ok"]);
  assert.equal(sender.stats().dropped, 1);
  assert.ok(errors[0] instanceof RangeError);
});

Deno.test("WireSender with rawAsBinary sends small frames as 0x00 binary frames, as Sente's gzip wrapper", async () => {
  const { sender, socket, got, deliver } = pair({ ...PLAIN, compression: "gzip" }, {
    rawAsBinary: true,
  });
  sender.send('[["app/a",1],null]');
  await sender.idle();
  assert.deepEqual(
    [...(socket.sent[0] as Uint8Array)],
    [0, ...new TextEncoder().encode('[["app/a",1],null]')],
  );
  await deliver();
  assert.deepEqual(got, ['[["app/a",1],null]']);
});

Deno.test("WireSender.close() drops what waits and refuses more", () => {
  const { sender } = pair(CHUNKING, { chunkSize: 100, bulkHighWaterMark: 100 });
  sender.send("x".repeat(1000));
  assert.ok(sender.stats().queued === 1);
  assert.equal(sender.close(), 1);
  assert.equal(sender.send("y"), false);
  assert.equal(sender.stats().dropped, 1);
});

Deno.test("WireReceiver delivers in arrival order while an earlier frame is still inflating", async () => {
  const { receiver, got } = pair(COMPRESSION);
  const big = json(3000);
  const compressed = await compress(new TextEncoder().encode(big), "deflate-raw");
  receiver.receive(new Uint8Array([FLAG_DEFLATE_RAW, ...compressed]));
  receiver.receive("second");
  receiver.receive(new Uint8Array([FLAG_RAW, ...new TextEncoder().encode("third")]));
  assert.deepEqual(got, []);
  await receiver.idle();
  assert.deepEqual(got, [big, "second", "third"]);
});

Deno.test("WireReceiver reports bad frames as WireError and goes on", async () => {
  const cases: [WireSettings, Uint8Array, string][] = [
    [ALL, new Uint8Array(0), "bad-frame"],
    [ALL, new Uint8Array([0x09, 1, 2]), "bad-frame"],
    [CHUNKING, new Uint8Array([FLAG_GZIP, 1, 2]), "bad-frame"],
    [
      COMPRESSION,
      splitIntoChunks(new Uint8Array(10), { chunkSize: 4, messageId: 1 })[0],
      "bad-frame",
    ],
    [ALL, new Uint8Array([FLAG_CHUNK, 0, 0]), "bad-chunk"],
    [ALL, new Uint8Array([FLAG_DEFLATE_RAW, 0xff, 0xff, 0xff]), "decompress-failed"],
    [
      ALL,
      splitIntoChunks(new Uint8Array([FLAG_CHUNK, 1, 2, 3]), { chunkSize: 4, messageId: 1 })[0],
      "bad-frame",
    ],
  ];
  for (const [settings, frame, code] of cases) {
    const { receiver, errors, got } = pair(settings);
    receiver.receive(frame);
    receiver.receive("after");
    await receiver.idle();
    assert.deepEqual(errors.map((e) => e.code), [code], `${[...frame]}`);
    assert.deepEqual(got, ["after"]);
    assert.equal(receiver.stats().errors, 1);
  }
});

Deno.test("WireReceiver stops a decompression bomb with a fatal error", async () => {
  const { receiver, errors } = pair(ALL, { maxAssembledBytes: 1 << 20 });
  const bomb = await compress(new Uint8Array(8 << 20), "gzip");
  receiver.receive(new Uint8Array([FLAG_GZIP, ...bomb]));
  await receiver.idle();
  assert.equal(errors[0].code, "decompression-bomb");
  assert.equal(errors[0].fatal, true);
  assert.equal(errors[0].closeCode, 1009);
});

Deno.test("WireReceiver reports a chunked message that times out, in virtual time", () => {
  const { receiver, errors, clock } = pair(ALL, { reassemblyTimeoutMs: 5000 });
  const chunks = splitIntoChunks(new Uint8Array([FLAG_RAW, 1, 2, 3, 4, 5]), {
    chunkSize: 2,
    messageId: 4,
  });
  receiver.receive(chunks[0]);
  clock.tick(5000);
  assert.deepEqual(errors.map((e) => [e.code, e.messageId]), [["chunk-timeout", 4]]);
  receiver.close();
  assert.equal(clock.pending, 0);
});
