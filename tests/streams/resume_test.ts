import assert from "node:assert/strict";
import { StreamError } from "../../lib/streams/errors.ts";
import { FLAG_STREAM_END } from "../../lib/streams/frames.ts";
import { StreamMux } from "../../lib/streams/mux.ts";
import type { StreamBody } from "../../lib/streams/body.ts";
import type { IncomingStream } from "../../lib/streams/incoming.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { bytes, concat, counted, join, pair, turn } from "./_pair.ts";

/** Reads until `bytes` were read, returning the reader and what it read. */
async function readAtLeast(inc: IncomingStream, n: number) {
  const reader = inc.readable.getReader();
  const got: Uint8Array[] = [];
  let total = 0;
  while (total < n) {
    const { value } = await reader.read();
    got.push(value!);
    total += value!.byteLength;
  }
  return { reader, got };
}

async function rest(reader: ReadableStreamDefaultReader<Uint8Array>, got: Uint8Array[]) {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concat(got);
    got.push(value);
  }
}

for (const kind of ["Uint8Array", "Blob"] as const) {
  Deno.test(`StreamMux resumes a ${kind} body from the receiver's offset after a transport drop`, async () => {
    const data = bytes(400_000, 9);
    const body: StreamBody = kind === "Blob" ? new Blob([data]) : data;
    const { client, server, joined, next } = pair({ windowBytes: 64 * 1024, frameBytes: 4096 });
    joined.ab.perTurn = 1; // a slow link: frames queue up, and the drop loses them
    const out = client.open("app/up", body, { integrity: true });
    const inc = await next();
    const { reader, got } = await readAtLeast(inc, 100_000);
    assert.ok(joined.ab.bufferedAmount > 0, "frames are in flight when the link drops");
    joined.cut();
    assert.equal(out.state, "suspended");
    assert.equal(inc.state, "suspended");
    const before = inc.received;
    assert.ok(out.sent > before, "some sent bytes were lost");
    join(client, server);
    const all = await rest(reader, got);
    await out.done;
    assert.deepEqual(all, data); // nothing lost, nothing twice
    assert.equal(inc.state, "closed");
    assert.equal(client.stats().failed + server.stats().failed, 0);
  });
}

Deno.test("StreamMux fails a one-shot ReadableStream body that lost bytes with stream-resume-failed", async () => {
  const { client, server, joined, next } = pair({ windowBytes: 64 * 1024, frameBytes: 4096 });
  joined.ab.perTurn = 1;
  const out = client.open("app/up", counted(1_000_000, 4096).stream);
  const inc = await next();
  const { reader } = await readAtLeast(inc, 20_000);
  assert.ok(joined.ab.bufferedAmount > 0);
  joined.cut();
  join(client, server);
  await assert.rejects(out.done, (e) => {
    assert.ok(e instanceof StreamError && e.code === "stream-resume-failed");
    assert.match(e.message, /ReadableStream body cannot be read again/);
    return true;
  });
  await assert.rejects(
    (async () => {
      while (!(await reader.read()).done);
    })(),
    (e) => e instanceof StreamError && e.code === "stream-resume-failed" && e.remote,
  );
});

Deno.test("StreamMux repeats a lost END confirmation after a resume", async () => {
  const { client, server, joined, next } = pair();
  joined.ba.tamper = (f) => (f[0] === FLAG_STREAM_END ? null : f); // the confirmation is lost
  const data = bytes(10_000);
  const out = client.open("app/up", data, { integrity: true });
  const inc = await next();
  for (let i = 0; i < 20 && inc.state !== "half-closed-remote"; i++) await turn();
  assert.equal(inc.state, "half-closed-remote");
  assert.equal(out.state, "half-closed-local");
  joined.cut();
  assert.equal(inc.state, "half-closed-remote", "a receiver holding every byte is not suspended");
  join(client, server);
  await out.done;
  assert.deepEqual(concat(await Array.fromAsync(inc.readable)), data);
  assert.equal(inc.state, "closed");
});

Deno.test("StreamMux repeats the END confirmation of a stream already read to the end", async () => {
  const { client, server, joined, next } = pair();
  joined.ba.tamper = (f) => (f[0] === FLAG_STREAM_END ? null : f);
  const out = client.open("app/up", bytes(1000));
  const inc = await next();
  assert.equal((await Array.fromAsync(inc.readable)).length > 0, true);
  assert.equal(inc.state, "closed");
  joined.cut();
  join(client, server);
  await out.done;
});

Deno.test("StreamMux re-sends an OPEN that was lost in the drop", async () => {
  const { client, server, joined, next } = pair();
  joined.ab.kill(); // the OPEN goes nowhere
  const data = bytes(5000);
  const out = client.open("app/up", data);
  joined.cut();
  join(client, server);
  const inc = await next();
  assert.deepEqual(concat(await Array.fromAsync(inc.readable)), data);
  await out.done;
});

Deno.test("StreamMux fails suspended streams after resumeTimeoutMs on both sides", async () => {
  const clock = new VirtualClock();
  const { client, joined, next } = pair({ clock, resumeTimeoutMs: 5000, windowBytes: 4096 });
  const out = client.open("app/up", bytes(100_000));
  const inc = await next();
  joined.cut();
  clock.tick(4999);
  assert.equal(out.state, "suspended");
  clock.tick(1);
  await assert.rejects(
    out.done,
    (e) => e instanceof StreamError && e.code === "stream-resume-failed",
  );
  await assert.rejects(
    inc.done,
    (e) => e instanceof StreamError && e.code === "stream-resume-failed",
  );
});

Deno.test("StreamMux answers a RESUME for a stream it no longer has with stream-resume-failed", async () => {
  const { client, server, joined, next } = pair({ windowBytes: 4096 });
  const out = client.open("app/up", bytes(100_000));
  await next();
  for (let i = 0; i < 20 && out.sent === 0; i++) await turn(); // accepted: it has sent bytes
  joined.cut();
  server.close(); // the peer restarted
  const fresh = new StreamMux({ side: "server", onStream: (s) => s.accept() });
  join(client, fresh);
  await assert.rejects(
    out.done,
    (e) => e instanceof StreamError && e.code === "stream-resume-failed",
  );
});

Deno.test("A cancel made while the transport was down reaches the peer on resume, with its reason", async () => {
  const { client, server, joined, next } = pair({ windowBytes: 4096 });
  const a = client.open("app/up", bytes(100_000));
  const b = client.open("app/up", bytes(100_000));
  const incA = await next(1);
  const incB = await next(2);
  for (let i = 0; i < 20 && (a.sent === 0 || b.sent === 0); i++) await turn();
  joined.cut();
  incA.cancel("the user closed the tab"); // the receiver cancels while down
  b.cancel("upload aborted"); // the sender cancels while down
  join(client, server);
  await assert.rejects(a.done, (e) => {
    assert.ok(e instanceof StreamError);
    assert.equal(e.code, "stream-cancelled");
    assert.equal(e.message, "the user closed the tab");
    return true;
  });
  await assert.rejects(incB.done, (e) => {
    assert.ok(e instanceof StreamError);
    assert.equal(e.code, "stream-cancelled");
    assert.equal(e.message, "upload aborted");
    return true;
  });
});

Deno.test("StreamMux resumes a ReadableStream body when nothing was lost in the drop", async () => {
  const { client, server, joined, next } = pair({ windowBytes: 16 * 1024, frameBytes: 1024 });
  const source = counted(100_000, 1024);
  const out = client.open("app/up", source.stream, { integrity: true });
  const inc = await next();
  // nobody reads: the sender stops at the window, with every frame delivered
  for (let i = 0; i < 50 && (inc.received < 16 * 1024 || joined.ab.bufferedAmount > 0); i++) {
    await turn();
  }
  assert.equal(inc.received, 16 * 1024);
  assert.equal(out.sent, inc.received);
  joined.cut();
  join(client, server);
  assert.deepEqual(concat(await Array.fromAsync(inc.readable)), source.data);
  await out.done;
});
