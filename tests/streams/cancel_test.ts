import assert from "node:assert/strict";
import { StreamError } from "../../lib/streams/errors.ts";
import type { StreamErrorCode } from "../../lib/streams/errors.ts";
import { FLAG_STREAM_DATA } from "../../lib/streams/frames.ts";
import { bytes, counted, pair, readAll, turn } from "./_pair.ts";

function isStreamError(code: StreamErrorCode, remote?: boolean, reason?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof StreamError, String(e));
    assert.equal(e.code, code);
    if (remote !== undefined) assert.equal(e.remote, remote);
    if (reason !== undefined) assert.equal(e.message, reason);
    return true;
  };
}

Deno.test("OutgoingStream: aborting the signal cancels on both sides with the reason", async () => {
  const { client, next } = pair({ windowBytes: 16 * 1024, frameBytes: 1024 });
  const source = counted(1024 * 1024, 1024);
  const abort = new AbortController();
  const out = client.open("app/up", source.stream, { signal: abort.signal });
  const inc = await next();
  const reader = inc.readable.getReader();
  await reader.read();
  abort.abort("user pressed cancel");
  await assert.rejects(out.done, isStreamError("stream-cancelled", false, "user pressed cancel"));
  await assert.rejects(inc.done, isStreamError("stream-cancelled", true));
  await assert.rejects(
    reader.read(),
    isStreamError("stream-cancelled", true, "user pressed cancel"),
  );
  assert.equal(out.state, "cancelled");
  assert.equal(inc.state, "cancelled");
  assert.ok(source.seen.cancelled instanceof StreamError, "the body was cancelled");
  assert.equal(client.stats().cancelled, 1);
});

Deno.test("IncomingStream: cancelling the readable cancels the sender and its body", async () => {
  const { client, next, server } = pair({ windowBytes: 16 * 1024, frameBytes: 1024 });
  const source = counted(1024 * 1024, 1024);
  const out = client.open("app/up", source.stream);
  const inc = await next();
  const reader = inc.readable.getReader();
  await reader.read();
  await reader.cancel("not interested");
  await assert.rejects(out.done, isStreamError("stream-cancelled", true, "not interested"));
  assert.equal(out.state, "cancelled");
  const pulled = source.seen.pulled;
  for (let i = 0; i < 10; i++) await turn();
  assert.equal(source.seen.pulled, pulled, "no pull after the cancel");
  assert.equal(server.stats().incoming, 0);
});

Deno.test("StreamMux.open() with an aborted signal never sends a byte", async () => {
  const { client, server } = pair();
  const abort = new AbortController();
  abort.abort("too late");
  const out = client.open("app/up", bytes(1000), { signal: abort.signal });
  await assert.rejects(out.done, isStreamError("stream-cancelled"));
  for (let i = 0; i < 5; i++) await turn();
  assert.equal(server.stats().bytesIn, 0);
});

Deno.test("A failing body reaches the receiver as stream-source-failed", async () => {
  const { client, next } = pair();
  let n = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (n++ === 3) return c.error(new Error("disk on fire"));
      c.enqueue(bytes(1000));
    },
  });
  const out = client.open("app/up", body);
  const inc = await next();
  await assert.rejects(readAll(inc.readable), isStreamError("stream-source-failed", true));
  await assert.rejects(out.done, isStreamError("stream-source-failed", false));
  assert.match((await inc.done.catch((e) => e)).message, /disk on fire/);
});

Deno.test("A body shorter or longer than its announced total fails both sides", async () => {
  const { client, next } = pair();
  const short = client.open("app/up", counted(1000, 100).stream, { total: 2000 });
  const inc1 = await next(1);
  await assert.rejects(readAll(inc1.readable), isStreamError("stream-source-failed", true));
  await assert.rejects(short.done, isStreamError("stream-source-failed", false));
  const long = client.open("app/up", counted(3000, 100).stream, { total: 2000 });
  const inc2 = await next(2);
  await assert.rejects(readAll(inc2.readable), isStreamError("stream-source-failed", true));
  await assert.rejects(long.done, isStreamError("stream-source-failed", false));
  assert.throws(() => client.open("app/up", bytes(10), { total: 11 }), RangeError);
});

Deno.test("IncomingStream.refuse() and a throwing handler reject the sender with stream-refused", async () => {
  let calls = 0;
  const { client } = pair({}, (s) => {
    if (calls++ === 0) s.refuse("not allowed");
    else throw new Error("boom");
  });
  const a = client.open("app/up", bytes(10));
  await assert.rejects(a.done, isStreamError("stream-refused", true, "not allowed"));
  const b = client.open("app/up", bytes(10));
  await assert.rejects(b.done, isStreamError("stream-refused", true));
});

Deno.test("A corrupted byte fails the stream on both sides with stream-integrity", async () => {
  const { client, next, joined } = pair();
  joined.ab.tamper = (f) => {
    if (f[0] === FLAG_STREAM_DATA && f.byteLength > 100) {
      const copy = new Uint8Array(f);
      copy[50] ^= 1;
      return copy;
    }
    return f;
  };
  const out = client.open("app/up", bytes(100_000), { integrity: true });
  const inc = await next();
  await assert.rejects(readAll(inc.readable), isStreamError("stream-integrity", false));
  await assert.rejects(out.done, isStreamError("stream-integrity", true));
  assert.equal(out.state, "failed");
});

Deno.test("StreamMux.close() fails every live stream", async () => {
  const { client, next } = pair({ windowBytes: 1024, frameBytes: 512 });
  const out = client.open("app/up", bytes(100_000));
  const inc = await next();
  client.close();
  await assert.rejects(out.done, isStreamError("stream-resume-failed", false));
  await assert.rejects(inc.done, isStreamError("stream-resume-failed", true));
  assert.throws(() => client.open("app/up", bytes(1)), StreamError);
});

Deno.test("A throwing onProgress callback does not break the transfer", async () => {
  const { client, next } = pair({}, (s) =>
    s.accept({
      onProgress: () => {
        throw new Error("ui gone");
      },
    }));
  const out = client.open("app/up", bytes(300_000), {
    onProgress: () => {
      throw new Error("ui gone");
    },
  });
  assert.equal((await readAll((await next()).readable)).byteLength, 300_000);
  await out.done;
});
