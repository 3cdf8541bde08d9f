/**
 * Compression amplification through real sockets: a few KiB of deflate that inflate to many MiB
 * must be bounded by the one-frame limit, charged to the byte rate, and inflated a few at a time
 * server-wide.
 */
import assert from "node:assert/strict";
import { type RawPeer, rawPeer } from "../_peer.ts";
import { startServer } from "../_server.ts";
import { connect } from "../../lib/client/client.ts";
import { wireTransforms } from "../../client_wire.ts";
import { compress, type CompressionFormat } from "../../lib/wire/compression.ts";
import { splitIntoChunks } from "../../lib/wire/chunking.ts";
import { FLAG_DEFLATE_RAW, FLAG_GZIP } from "../../lib/wire/flags.ts";

const WIRE = "wire=compression:deflate-raw,compression:gzip,chunking";

/** A compressed binary frame carrying `[["test/echo", "aaa…"], cbId]` of about `size` bytes. */
async function bomb(
  size: number,
  format: CompressionFormat = "deflate-raw",
  cbId: string | null = null,
): Promise<Uint8Array> {
  const event = `[["test/echo","${"a".repeat(size)}"],${cbId === null ? "null" : `"${cbId}"`}]`;
  const body = await compress(new TextEncoder().encode(event), format);
  const frame = new Uint8Array(body.byteLength + 1);
  frame[0] = format === "gzip" ? FLAG_GZIP : FLAG_DEFLATE_RAW;
  frame.set(body, 1);
  return frame;
}

async function wiredPeer(url: string): Promise<RawPeer> {
  return (await rawPeer(`${url}?${WIRE}`)).peer;
}

Deno.test("a tiny compressed frame that inflates past maxMessageBytes is refused with 1009", async () => {
  await using t = await startServer();
  t.server.on("test/echo", () => "ok");
  for (const format of ["deflate-raw", "gzip"] as const) {
    const peer = await wiredPeer(t.url);
    const frame = await bomb(8 * 1024 * 1024, format, "c1"); // 8 MiB in about 8 KiB
    assert.ok(frame.byteLength < 16 * 1024, `${frame.byteLength} bytes on the wire`);
    peer.send(frame);
    const close = await peer.closed(10_000);
    assert.equal(close.code, 1009, format);
  }
  assert.equal(t.server.stats().errors["decompression-bomb"], 2);
});

Deno.test("a chunked compressed payload is bounded by maxAssembledBytes once inflated", async () => {
  await using t = await startServer({ wire: { maxAssembledBytes: 2 * 1024 * 1024 } });
  const peer = await wiredPeer(t.url);
  const payload = await bomb(4 * 1024 * 1024); // flagged 0x02: compression before chunking
  for (const chunk of splitIntoChunks(payload, { chunkSize: 1024, messageId: 7 })) {
    peer.send(chunk);
  }
  assert.equal((await peer.closed(10_000)).code, 1009);
  assert.equal(t.server.stats().errors["decompression-bomb"], 1);
});

Deno.test("inflated bytes are charged to the byte rate: rate-limited, then 4029", async () => {
  await using t = await startServer({
    rateLimit: { bytes: { perSecond: 1024, burst: 1024 * 1024 }, maxViolations: 3 },
  });
  t.server.on("test/echo", () => "ok");
  const peer = await wiredPeer(t.url);
  const frame = await bomb(600_000); // under the 1 MiB frame limit; about 600 bytes compressed
  for (let i = 0; i < 8; i++) peer.send(frame);
  const errors: string[] = [];
  for (;;) {
    let text: string;
    try {
      text = await peer.next(10_000);
    } catch {
      break; // closed
    }
    if (text.includes('"rate-limited"')) errors.push(text);
  }
  assert.equal((await peer.closed()).code, 4029);
  assert.ok(errors.length >= 1, "answered rate-limited before the close");
  assert.ok((t.server.stats().errors["rate-limited"] ?? 0) >= 1);
  assert.equal(t.server.stats().errors["rate-limit-exceeded"], 1);
});

Deno.test("concurrent bombers are each refused, inflation stays within its server-wide bound, others are served", async () => {
  await using t = await startServer({ wire: { maxConcurrentInflations: 2 } });
  t.server.on("test/echo", (msg) => msg.data);
  const { peer: healthy } = await rawPeer(t.url);
  const bombers = await Promise.all(Array.from({ length: 12 }, () => wiredPeer(t.url)));
  const frame = await bomb(16 * 1024 * 1024);
  for (const b of bombers) for (let i = 0; i < 4; i++) b.send(frame);
  for (let i = 0; i < 5; i++) {
    healthy.send(`[["test/echo",${i}],"h${i}"]`);
    assert.equal(await healthy.next(10_000), `[${i},"h${i}"]`);
  }
  for (const b of bombers) assert.equal((await b.closed(20_000)).code, 1009);
  const wire = t.server.stats().wire;
  assert.equal(wire.inflateBound, 2);
  assert.ok(wire.inflatePeak >= 1 && wire.inflatePeak <= 2, JSON.stringify(wire));
  assert.ok(wire.inflations >= 12, JSON.stringify(wire));
  assert.equal(t.server.stats().errors["decompression-bomb"], 12);
  await healthy.close();
});

Deno.test("a connection piling up compressed frames past maxQueuedInflations is closed with 4029", async () => {
  await using t = await startServer({
    rateLimit: false,
    wire: { maxConcurrentInflations: 1, maxQueuedInflations: 4 },
  });
  t.server.on("test/echo", () => "ok");
  const peer = await wiredPeer(t.url);
  const frame = await bomb(900_000);
  for (let i = 0; i < 64; i++) peer.send(frame);
  // The Hub closes with 4029, but both ends may see an abnormal close: the runtime drops the
  // socket when frames keep arriving after its close frame.
  await peer.closed(20_000);
  assert.equal(t.server.stats().errors["inflate-backlog"], 1);
});

Deno.test("a compressible message over the server's maxMessageBytes is chunked by the client and arrives", async () => {
  await using t = await startServer({ rateLimit: false, maxMessageBytes: 256 * 1024 });
  t.server.on("test/size", (msg) => (msg.data as string).length);
  const client = connect(t.url, { onError: () => {}, wire: wireTransforms() });
  await client.ready;
  const big = "z".repeat(600_000); // ~1 KB compressed: one frame unless the limit is respected
  assert.equal(await client.request("test/size", big, { timeoutMs: 10_000 }), 600_000);
  assert.equal(t.server.stats().errors["decompression-bomb"], undefined);
  assert.ok(t.server.stats().wire.reassembledIn >= 1, "sent as a chunked transfer");
  client.close();
});

Deno.test("a 48 MiB compressible chunked message passes under the default limits (it started within the burst)", async () => {
  await using t = await startServer(); // default rate limit: 32 MiB byte burst; 64 MiB assembled
  t.server.on("test/size", (msg) => (msg.data as string).length);
  const client = connect(t.url, { onError: () => {}, wire: wireTransforms() });
  await client.ready;
  const big = "y".repeat(48 * 1024 * 1024); // ~50 KB once compressed
  assert.equal(await client.request("test/size", big, { timeoutMs: 30_000 }), big.length);
  assert.ok(t.server.stats().wire.reassembledIn >= 1, "sent as a chunked transfer");
  assert.equal(t.server.stats().errors["rate-limited"], undefined);
  client.close();
});
